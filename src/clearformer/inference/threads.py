"""How many intra-op threads to run with on a CPU that other processes may be using.

Measured (BENCHMARKS.md, "Threads", benchmarks/bench_threads.py): on an idle 2-core machine two
threads decode 1.6x faster than one; with another process busy on one core, two threads fall to
0.4x of one thread alone (each parallel region waits for the thread that lost its core), while one
thread keeps its full speed. OMP_WAIT_POLICY=PASSIVE avoids the collapse but costs 10-40% on an
idle machine, so the thread count is the lever: one thread per core not already busy.
"""

from __future__ import annotations

import os


def recommended_threads(load: float | None = None, cores: int | None = None) -> int:
    """Cores minus the ones the 1-minute load average says are busy, at least 1."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if load is None:
        try:
            load = os.getloadavg()[0]
        except OSError:  # not available on this platform: assume idle
            load = 0.0
    busy = int(load + 0.5)  # a neighbour at 100% of one core shows as ~1.0
    return max(1, cores - busy)
