"""write_checkpoint: a kill at any instant of the commit leaves a complete copy of the step, and the
next start (or the next save of that step) recovers it instead of deleting it as a temporary."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from pathlib import Path

import pytest

from clearformer.training import Trainer, TrainingArguments, get_last_checkpoint, trainer_checkpoints

from .tiny import tiny_model, tiny_rows


class Killed(BaseException):
    """Stands for SIGKILL: after it fires, the patched process runs no cleanup at all."""


def _writer(version: str):
    def write(folder: Path) -> None:
        (folder / "a.txt").write_text(version)
        (folder / "trainer_state.json").write_text("{}")

    return write


def _kill_at(monkeypatch, k: int) -> None:
    """Raise Killed at the k-th folder os.replace; from then on rmtree does nothing (a dead process)."""
    real_replace, real_rmtree = os.replace, shutil.rmtree
    state = {"calls": 0, "dead": False}

    def replace(src, dst):
        state["calls"] += os.path.isdir(src)  # the folder renames of the commit, not file writes
        if state["calls"] == k:
            state["dead"] = True
            raise Killed
        return real_replace(src, dst)

    def rmtree(path, *args, **kwargs):
        if not state["dead"]:
            real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(shutil, "rmtree", rmtree)


@pytest.mark.parametrize("first_save", [True, False])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_kill_at_each_rename_of_a_save_keeps_a_complete_copy(tmp_path, monkeypatch, k, first_save):
    if not first_save:
        trainer_checkpoints.write_checkpoint(tmp_path, 5, _writer("v1"))
    with monkeypatch.context() as m:
        _kill_at(m, k)
        with contextlib.suppress(Killed):
            trainer_checkpoints.write_checkpoint(tmp_path, 5, _writer("v2"))
    trainer_checkpoints.recover_interrupted_saves(tmp_path)  # what the next train() does first
    final = tmp_path / "checkpoint-5"
    if first_save and k == 1:  # killed before the new copy was complete: no step-5 copy ever existed
        assert not final.exists()
    else:
        assert (final / "a.txt").read_text() in ("v1", "v2")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    trainer_checkpoints.write_checkpoint(tmp_path, 5, _writer("v3"))  # the restart saves the same step again
    assert (final / "a.txt").read_text() == "v3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-5"]


def test_kill_after_commit_before_cleanup_keeps_the_new_copy(tmp_path, monkeypatch):
    trainer_checkpoints.write_checkpoint(tmp_path, 5, _writer("v1"))
    with monkeypatch.context() as m:
        m.setattr(shutil, "rmtree", lambda *a, **k: (_ for _ in ()).throw(Killed))
        with pytest.raises(Killed):
            trainer_checkpoints.write_checkpoint(tmp_path, 5, _writer("v2"))
    trainer_checkpoints.recover_interrupted_saves(tmp_path)
    assert (tmp_path / "checkpoint-5" / "a.txt").read_text() == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-5"]


def test_resume_after_a_kill_between_the_renames_of_a_resave(tmp_path, monkeypatch, caplog):
    def trainer() -> Trainer:
        args = TrainingArguments(tmp_path, per_device_train_batch_size=4, max_steps=4, save_steps=2, log_level="error")
        return Trainer(tiny_model(), args, train_dataset=tiny_rows(32))

    trainer().train()
    real_write = trainer_checkpoints.write_checkpoint

    def write(out, step, contents):
        if step == 4:  # re-saving checkpoint-4: killed with the old copy moved aside, the new not in place
            _kill_at(monkeypatch, 3)
        return real_write(out, step, contents)

    monkeypatch.setattr(trainer_checkpoints, "write_checkpoint", write)
    with pytest.raises(Killed):
        trainer().train(resume_from_checkpoint=str(tmp_path / "checkpoint-2"))
    monkeypatch.undo()
    assert not (tmp_path / "checkpoint-4").exists()  # the kill came between the renames
    resumed = trainer()
    with caplog.at_level(logging.INFO, logger="clearformer.training"):
        out = resumed.train(resume_from_checkpoint=True)
    assert "already finished" in caplog.text  # resumed from the recovered checkpoint-4
    assert out.global_step == 4
    assert get_last_checkpoint(tmp_path).endswith("checkpoint-4")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
