"""save_pretrained is atomic per file: a kill or a full disk mid-save leaves every file either as
it was or as the new save wrote it, and the folder loads as the same tokenizer (never a torn
merges.txt or tokenizer.json that loads as a different one)."""

from __future__ import annotations

import os
import random
import resource
import signal
import time
from pathlib import Path

import pytest

from clearformer.tokenization import AutoTokenizer

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fault injection forks a child process")
TEXTS = ["Hello, my dog is cute", "lower newer  x\n\tünïcödé 中文 <mask>"]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.name.startswith(".")}


def _in_child(body) -> int:
    """Run ``body()`` in a forked child; return its pid (the child never returns here)."""
    pid = os.fork()
    if pid == 0:
        try:
            body()
        finally:
            os._exit(0)
    return pid


def _assert_same_tokenizer(folder: Path, original, reference_files: dict[str, bytes]) -> None:
    assert _files(folder) == reference_files, "a file differs from the complete save"
    loaded = AutoTokenizer.from_pretrained(folder)
    assert loaded(TEXTS)["input_ids"] == original(TEXTS)["input_ids"]
    assert loaded.special_tokens_map == original.special_tokens_map


@pytest.mark.parametrize("kind", ["bert", "gpt2"])
def test_killed_saves_leave_whole_files_that_load_as_the_same_tokenizer(ours, kind, tmp_path):
    original = ours(kind)
    folder = tmp_path / "tok"
    original.save_pretrained(folder)  # here first, so the children inherit every import
    reference = _files(folder)
    rng = random.Random(kind)
    for _ in range(10):
        ready_r, ready_w = os.pipe()

        def save_forever(ready_w=ready_w):
            os.write(ready_w, b"x")
            while True:
                original.save_pretrained(folder)

        pid = _in_child(save_forever)
        os.read(ready_r, 1)
        os.close(ready_r), os.close(ready_w)
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        assert _files(folder) == reference, "a file differs from the complete save"
    _assert_same_tokenizer(folder, original, reference)


@pytest.mark.parametrize("limit", [0, 4096, 200_000])
def test_a_full_disk_mid_save_leaves_the_previous_files_whole(ours, tmp_path, limit):
    # RLIMIT_FSIZE makes writes past `limit` bytes fail (EFBIG) as a full disk would
    original = ours("gpt2")
    folder = tmp_path / "tok"
    original.save_pretrained(folder)
    reference = _files(folder)
    outcome = tmp_path / "outcome"

    def save_with_small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
        try:
            original.save_pretrained(folder)
            result = "saved"
        except OSError as err:
            result = f"OSError {err.errno}"
        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        outcome.write_text(result)

    _, status = os.waitpid(_in_child(save_with_small_disk), 0)
    assert outcome.read_text().startswith("OSError"), "the save should have failed loudly"
    _assert_same_tokenizer(folder, original, reference)
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")], "temporary files left behind"
