"""Issue 23: the guided sampler's spread, swept on the three design tables only (digits-local-32,
digits-global-32, mnist1d-32), each with its own prior, the other digits task's (misled) and its own
upside down (inverted); 100 replayed searches of 50 trainings per case. Output as committed:
benchmarks/replays/band/spread-sweep.txt.

    python benchmarks/sweep_spread.py [SPREAD ...]
"""

import sys

from archsearch.evidence.replay import replay, summarise
from archsearch.evidence.table import Table
from archsearch.formats.task import load_task
from archsearch.prior.score import InvertedPrior, Prior

DESIGN = {"digits-local-32": "tasks/digits-global-32.yaml", "digits-global-32": "tasks/digits-local-32.yaml",
          "mnist1d-32": None}
spreads = [float(s) for s in sys.argv[1:]] or [8, 4, 2, 1, 0.5]
out = {}
for name, other in DESIGN.items():
    table = Table.load(f"benchmarks/tables/{name}.json")
    task, space = table.task_space(None, None)
    cases = {"normal": Prior.for_task(task, space), "inverted": InvertedPrior(Prior.for_task(task, space))}
    if other:
        cases["misled"] = Prior.for_task(load_task(other), space)
    for case, prior in cases.items():
        for s in spreads:
            res = replay(table, task, space, prior, ["guided", "prior-top"] if s == spreads[0] else ["guided"],
                         repeats=100, budget=50, seed=0, guided={"spread": s})
            summ = summarise(res, table, 50)
            g, never = summ["guided"]["trials_to_within_1pt"], summ["guided"]["never_within"]
            line = f"{name} {case} spread={s}: guided {g['median']} [{g['q25']}, {g['q75']}] never {never:.2f}"
            if "prior-top" in summ:
                line += f" | prior-top {summ['prior-top']['trials_to_within_1pt']['median']}"
            print(line, flush=True)
