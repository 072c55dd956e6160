"""The Trainer surface the course's own code uses, matched to transformers (4.57 and 5.24):
fp16 on a CPU, the final evaluation/save when max_steps ends mid-epoch, evaluate() without
compute_metrics keeping no logits, pickling, and the 4.x argument names."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import pytest
import torch

from clearformer.training import Trainer, TrainingArguments
from clearformer.training import data_utils as du

from .tiny import tiny_model, tiny_rows


def _args(out: Path, **kw) -> TrainingArguments:
    values = dict(per_device_train_batch_size=4, log_level="error", learning_rate=1e-3, use_cpu=True)
    values.update(kw)
    return TrainingArguments(out, **values)


def _evaluated_and_saved(trainer: Trainer, out: Path) -> tuple[list[int], list[str]]:
    evals = [h["step"] for h in trainer.state.log_history if "eval_loss" in h]
    return evals, sorted(p.name for p in out.iterdir() if p.name.startswith("checkpoint-"))


# --- fp16 on a CPU -------------------------------------------------------------------------------
def test_fp16_on_cpu_trains_in_float32_with_one_warning_like_the_reference(tmp_path):
    # transformers 4.57 and 5.24 both accept fp16=True on a CPU and run every op in float32
    # (accelerate has no CPU fp16 autocast); checked with a tiny BERT, see the report.
    model = tiny_model()
    seen = []
    model.bert.encoder.layer[0].attention.self.query.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    with pytest.warns(UserWarning, match="fp16=True") as caught:
        trainer = Trainer(
            model, _args(tmp_path, fp16=True, max_steps=2, save_strategy="no"), train_dataset=tiny_rows(8)
        )
        out = trainer.train()
        trainer.evaluate(tiny_rows(4))
    assert len([w for w in caught if "fp16" in str(w.message)]) == 1
    assert out.global_step == 2 and torch.isfinite(torch.tensor(out.training_loss))
    assert set(seen) == {torch.float32}


# --- the last step when max_steps ends mid-epoch ----------------------------------------------
# Reference results (16 rows, batch 4: 4 steps per epoch), the same in 4.57 and 5.24 unless noted.
@pytest.mark.parametrize(
    "kw, evals, saved",
    [
        (dict(max_steps=6, eval_strategy="epoch", save_strategy="epoch"), [4, 6], ["checkpoint-4", "checkpoint-6"]),
        (
            dict(max_steps=6, evaluation_strategy="epoch", save_strategy="epoch"),
            [4, 6],
            ["checkpoint-4", "checkpoint-6"],
        ),
        (
            dict(num_train_epochs=1.5, eval_strategy="epoch", save_strategy="epoch"),
            [4, 6],
            ["checkpoint-4", "checkpoint-6"],
        ),
        (dict(max_steps=8, eval_strategy="epoch", save_strategy="epoch"), [4, 8], ["checkpoint-4", "checkpoint-8"]),
        # 5.24 evaluates at the last step too; 4.57 only saves there
        (
            dict(max_steps=7, eval_strategy="steps", eval_steps=3, save_steps=3),
            [3, 6, 7],
            ["checkpoint-3", "checkpoint-6", "checkpoint-7"],
        ),
    ],
)
def test_the_last_step_is_evaluated_and_saved_like_the_reference(tmp_path, kw, evals, saved):
    trainer = Trainer(tiny_model(), _args(tmp_path, **kw), train_dataset=tiny_rows(16), eval_dataset=tiny_rows(4))
    trainer.train()
    assert _evaluated_and_saved(trainer, tmp_path) == (evals, saved)


# --- evaluate() without compute_metrics -------------------------------------------------------
def _count_gathered(monkeypatch) -> list[tuple]:
    shapes: list[tuple] = []
    real = du.to_numpy

    def counting(value):
        out = real(value)
        for part in out if isinstance(out, tuple) else (out,):
            shapes.append(tuple(part.shape))
        return out

    monkeypatch.setattr(du, "to_numpy", counting)
    return shapes


def test_evaluate_without_compute_metrics_gathers_no_logits(tmp_path, monkeypatch):
    rows = tiny_rows(12)
    trainer = Trainer(tiny_model(), _args(tmp_path, per_device_eval_batch_size=4), eval_dataset=rows)
    expected = trainer.predict(rows).metrics["test_loss"]
    gathered = _count_gathered(monkeypatch)
    metrics = trainer.evaluate()
    assert gathered == []  # neither logits nor labels are kept: the loss is all that is reported
    assert metrics["eval_loss"] == pytest.approx(expected)


def test_evaluate_without_labels_or_compute_metrics_reports_no_made_up_loss(tmp_path):
    rows = [{k: v for k, v in row.items() if k != "label"} for row in tiny_rows(8)]
    metrics = Trainer(tiny_model(), _args(tmp_path), eval_dataset=rows).evaluate()
    assert "eval_loss" not in metrics


def test_evaluate_with_compute_metrics_and_predict_still_gather_logits(tmp_path, monkeypatch):
    rows = tiny_rows(12)
    seen = []

    def metric(pred):
        seen.append(pred.predictions.shape)
        return {"n": len(pred.label_ids)}

    trainer = Trainer(tiny_model(), _args(tmp_path), eval_dataset=rows, compute_metrics=metric)
    gathered = _count_gathered(monkeypatch)
    assert trainer.evaluate()["eval_n"] == 12
    assert seen == [(12, 2)] and (4, 2) in gathered
    assert trainer.predict(rows).predictions.shape == (12, 2)


# --- pickling (datasets.map(num_proc=4) pickles whatever the mapped function refers to) ----------
def test_training_arguments_and_trainer_pickle_round_trip(tmp_path):
    args = _args(tmp_path, evaluation_strategy="epoch", max_steps=1, save_strategy="no")
    assert pickle.loads(pickle.dumps(args)) == args
    trainer = Trainer(tiny_model(), args, train_dataset=tiny_rows(8), eval_dataset=tiny_rows(4))
    for stage in ("built", "trained"):
        back = pickle.loads(pickle.dumps(trainer))
        assert back.args == trainer.args and back.state.global_step == trainer.state.global_step, stage
        trainer.train()
    back.train()  # a copy made after training trains on from its own optimizer
    assert back.state.global_step == 1


# --- the 4.x names the course uses ---------------------------------------------------------------
def test_course_argument_names_are_accepted(tmp_path):
    args = TrainingArguments(
        tmp_path, evaluation_strategy="epoch", overwrite_output_dir=True, logging_dir=str(tmp_path / "logs")
    )
    assert args.eval_strategy == "epoch" and args.logging_dir == str(tmp_path / "logs")
    tokenizer = object()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer = Trainer(tiny_model(), args, tokenizer=tokenizer)
    assert trainer.tokenizer is tokenizer and trainer.processing_class is tokenizer
