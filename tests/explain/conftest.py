"""Under pytest-xdist each worker gets one torch thread: two workers x two threads on two cores make
the threads spin waiting for each other (several times slower; see docs/explain-timings.md)."""

from __future__ import annotations

import os

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread_per_xdist_worker():
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
