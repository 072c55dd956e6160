"""Two gloo processes under torchrun equal one process with the same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

SCRIPT = Path(__file__).parent / "run_ddp.py"


def _run(cmd: list[str]) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch built without distributed")
def test_two_process_gloo_ddp_equals_one_process_with_same_global_batch(tmp_path):
    single, ddp = tmp_path / "single", tmp_path / "ddp"
    _run([sys.executable, str(SCRIPT), str(single), "--batch", "8"])
    _run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            str(SCRIPT),
            str(ddp),
            "--batch",
            "4",
        ]
    )
    a, b = load_file(str(single / "final" / "model.safetensors")), load_file(str(ddp / "final" / "model.safetensors"))
    for key in a:
        torch.testing.assert_close(b[key], a[key], atol=1e-5, rtol=0)
    m1, m2 = (json.loads((d / "metrics.json").read_text()) for d in (single, ddp))
    assert m2["eval_n"] == m1["eval_n"] == 27  # every eval row gathered exactly once across ranks
    assert m2["eval_accuracy"] == m1["eval_accuracy"]
    assert m2["eval_loss"] == pytest.approx(m1["eval_loss"], abs=1e-5)
    assert sorted(p.name for p in ddp.glob("checkpoint-*")) == sorted(p.name for p in single.glob("checkpoint-*"))
    assert not list(ddp.glob(".tmp-*"))
    assert (ddp / "checkpoint-16" / "rng_state_1.pth").is_file()  # one RNG file per rank, written by rank 0
