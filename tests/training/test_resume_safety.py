"""Resuming never runs code from a checkpoint folder, survives a crash at any instant of a save,
does not train a finished run further, and names the file when trainer_state.json is corrupt."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
import torch

from clearformer.training import Trainer, TrainingArguments, trainer_checkpoints
from clearformer.training.callbacks import TrainerState
from clearformer.weight_files import CheckpointError

from .tiny import tiny_model, tiny_rows


class Payload:
    """Unpickling this creates the folder ``marker``: proof that loading ran code from the file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _args(out: Path, **kw) -> TrainingArguments:
    values = dict(per_device_train_batch_size=4, max_steps=4, save_steps=2, log_level="error", learning_rate=1e-3)
    values.update(kw)
    return TrainingArguments(out, **values)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    Trainer(tiny_model(), _args(out), train_dataset=tiny_rows(32)).train()
    return out


def _copy_checkpoint(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("name", ["rng_state.pth", "optimizer.pt", "scheduler.pt"])
def test_resume_refuses_a_pickle_payload_and_runs_nothing(tmp_path, finished_run, name):
    folder = _copy_checkpoint(finished_run / "checkpoint-2", tmp_path / "out" / "checkpoint-2")
    marker = tmp_path / "PWNED"
    torch.save({"state": Payload(marker)}, folder / name)
    trainer = Trainer(tiny_model(), _args(tmp_path / "out"), train_dataset=tiny_rows(32))
    with pytest.raises(CheckpointError, match=rf"refused to load .*{name}.*nothing in it was run"):
        trainer.train(resume_from_checkpoint=str(folder))
    assert not marker.exists()


@pytest.mark.parametrize("name", ["scaler.pt", "rng_state_1.pth", "anything.pt"])
def test_every_resume_file_loader_refuses_a_pickle_payload(tmp_path, name):
    # scaler.pt is only read with fp16 on CUDA: the shared loader is what protects it.
    marker = tmp_path / "PWNED"
    torch.save({"scale": Payload(marker)}, tmp_path / name)
    with pytest.raises(CheckpointError, match="refused to load"):
        trainer_checkpoints.load_torch(tmp_path / name)
    assert not marker.exists()


def test_rng_state_file_loads_with_weights_only(finished_run):
    state = torch.load(finished_run / "checkpoint-2" / "rng_state.pth", weights_only=True)
    assert set(state) >= {"python", "numpy", "cpu"}


def test_rng_state_written_by_transformers_with_numpy_arrays_still_loads(tmp_path):
    import random

    import numpy as np

    np.random.seed(3)
    saved = {"python": random.getstate(), "numpy": np.random.get_state(), "cpu": torch.get_rng_state()}
    expected = np.random.rand()
    torch.save(saved, tmp_path / "rng_state.pth")
    np.random.seed(0)
    trainer_checkpoints.restore_rng_state(trainer_checkpoints.load_torch(tmp_path / "rng_state.pth"))
    assert np.random.rand() == expected


def test_every_torch_load_in_the_package_is_weights_only():
    src = Path(trainer_checkpoints.__file__).parents[1]
    offenders = [
        f"{p.relative_to(src)}:{i}"
        for p in src.rglob("*.py")
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if "torch.load(" in line and "weights_only=True" not in line and not line.lstrip().startswith(("#", "``"))
    ]
    assert offenders == []


# --- a finished run -----------------------------------------------------------------------------
def test_resuming_a_finished_run_trains_no_extra_step(tmp_path, caplog):
    out = tmp_path / "out"
    first = Trainer(tiny_model(), _args(out), train_dataset=tiny_rows(32))
    done = first.train()
    assert done.global_step == 4
    again = Trainer(tiny_model(), _args(out), train_dataset=tiny_rows(32))
    with caplog.at_level(logging.INFO, logger="clearformer.training"):
        result = again.train(resume_from_checkpoint=True)
    assert result.global_step == 4
    assert again.state.global_step == 4
    assert "already finished" in caplog.text
    assert set(result.metrics) >= {"train_runtime", "train_loss", "epoch"}
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("checkpoint-")) == [
        "checkpoint-2",
        "checkpoint-4",
    ]


# --- corrupt trainer_state.json ---------------------------------------------------------------
@pytest.mark.parametrize(
    "text, problem",
    [("{not json", "not valid JSON"), ("[1, 2]", "not a JSON object"), ('{"epoch": 1.0}', "global_step")],
)
def test_corrupt_trainer_state_names_the_file(tmp_path, finished_run, text, problem):
    folder = _copy_checkpoint(finished_run / "checkpoint-2", tmp_path / "out" / "checkpoint-2")
    (folder / "trainer_state.json").write_text(text, encoding="utf-8")
    trainer = Trainer(tiny_model(), _args(tmp_path / "out"), train_dataset=tiny_rows(32))
    with pytest.raises(ValueError, match="trainer_state.json") as err:
        trainer.train(resume_from_checkpoint=str(folder))
    assert problem in str(err.value)
    with pytest.raises(ValueError, match="trainer_state.json"):
        TrainerState.load_from_json(folder / "trainer_state.json")


def test_trainer_state_with_a_wrongly_typed_field_is_refused(tmp_path):
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps({"global_step": "four", "log_history": []}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"trainer_state.json.*global_step"):
        TrainerState.load_from_json(path)
