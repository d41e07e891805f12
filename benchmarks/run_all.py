"""Run the CPU benchmarks one after another (several minutes on a 2-core machine).

.venv/bin/python benchmarks/run_all.py
"""

from __future__ import annotations

import against_sklearn
import cold_train
import compare_statistics
import csv_read
import log_every
import seeds_together
import startup
import sweep_stack
import trainer_overhead

for benchmark in (
    trainer_overhead,
    seeds_together,
    against_sklearn,
    startup,
    cold_train,
    sweep_stack,
    csv_read,
    compare_statistics,
    log_every,
):
    print(f"== {benchmark.__name__} ==")
    benchmark.main()
    print()
