"""``clearformer bench``: finds every benchmark script, each one starts and prints (never timed here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from clearformer.cli import main
from clearformer.commands.bench import BENCHMARKS, default_dir

pytest.importorskip("transformers", reason="the benchmarks compare against transformers")


def test_list_names_every_script_and_each_exists(capsys):
    assert main(["bench", "--list"]) == 0
    out = capsys.readouterr().out
    for name, (script, _) in BENCHMARKS.items():
        assert name in out and script in out
        assert (default_dir() / script).is_file()


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_each_benchmark_starts_and_prints_its_usage(name):
    out = subprocess.run(
        [sys.executable, "-m", "clearformer", "bench", name, "--help"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "usage" in out.stdout.lower()


def test_load_memory_benchmark_prints_a_row():
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "clearformer",
            "bench",
            "load_memory",
            "--workloads",
            "load_minilm",
            "--repeats",
            "1",
            "--threads",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    row = next(r for r in rows if r.get("bench") == "load_memory")
    assert row["workload"] == "load_minilm" and row["ours_s"] > 0 and row["ref_s"] > 0


def test_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["bench", "--dir", str(tmp_path), "encoder"]) == 2
    assert "not found" in capsys.readouterr().err
