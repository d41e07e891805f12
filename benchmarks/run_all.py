"""Run the CPU benchmarks one after another (about a quarter of an hour on a 2-core machine).

probe_growth.py (minutes per point at thousands of seeds) runs on its own.

.venv/bin/python benchmarks/run_all.py
"""

from __future__ import annotations

import against_sklearn
import cold_train
import compare_statistics
import csv_read
import log_every
import scaling
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
    scaling,
    log_every,
):
    print(f"== {benchmark.__name__} ==")
    benchmark.main()
    print()
