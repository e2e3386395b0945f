from __future__ import annotations

import numpy as np
import pytest

from archsearch.core.partitions import FAMILIES, PartitionError, explicit, family_mask


@pytest.mark.parametrize("kind", sorted(FAMILIES))
@pytest.mark.parametrize("shape", [(16, 16), (8, 12), (32,)])
def test_every_family_gives_two_nonempty_sides(kind, shape):
    try:
        mask = family_mask(kind, shape)
    except PartitionError as exc:
        assert len(shape) == 1 and "needs a 2D input" in str(exc)
        return
    assert mask.shape == shape and mask.dtype == bool and mask.any() and not mask.all()


@pytest.mark.parametrize("kind", ["left-right", "top-bottom", "checkerboard", "rows", "columns", "odd-even"])
def test_balanced_families_split_in_half(kind):
    assert family_mask(kind, (16, 16)).sum() == 128


def test_checkerboard_splits_every_2x2_window_two_and_two():
    m = family_mask("checkerboard", (8, 8)).reshape(4, 2, 4, 2)
    assert (m.sum(axis=(1, 3)) == 2).all()


def test_tiles_and_quadrants():
    t = family_mask("tiles", (8, 8), size=4)
    assert t[:4, :4].all() and not t[:4, 4:].any() and t[4:, 4:].all()
    d = family_mask("quadrants", (8, 8), which="diagonal")
    np.testing.assert_array_equal(d, t)
    assert family_mask("quadrants", (8, 8), which="bottom-right").sum() == 16


def test_centre_surround_is_centred():
    m = family_mask("centre-surround", (8, 8))
    assert m.sum() == 16 and m[2:6, 2:6].all()
    assert family_mask("centre-surround", (10,), size=4).astype(int).tolist() == [0, 0, 0, 1, 1, 1, 1, 0, 0, 0]


def test_random_is_seeded():
    a, b = family_mask("random", (16, 16), seed=3), family_mask("random", (16, 16), seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, family_mask("random", (16, 16), seed=4))


def test_explicit_refuses_bad_indices():
    with pytest.raises(PartitionError, match="out of range"):
        explicit((4,), [4])
    with pytest.raises(PartitionError, match="twice"):
        explicit((4,), [1, 1])
