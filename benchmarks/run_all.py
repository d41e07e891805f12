"""Run the five benchmarks one after another (a few minutes on a 2-core machine).

.venv/bin/python benchmarks/run_all.py
"""

from __future__ import annotations

import against_sklearn
import cold_train
import seeds_together
import startup
import trainer_overhead

for benchmark in (trainer_overhead, seeds_together, against_sklearn, startup, cold_train):
    print(f"== {benchmark.__name__} ==")
    benchmark.main()
    print()
