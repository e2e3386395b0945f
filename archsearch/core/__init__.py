"""The pure mathematics: layouts, partitions, the tensor network, exact min cuts, separation ranks.

No I/O and no torch here: everything takes and returns in-memory objects (numpy arrays, dataclasses).
"""
