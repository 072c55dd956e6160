"""Bad input is a clear error before training starts (or, for a metric only compute_metrics can
produce, at the first evaluation)."""

from __future__ import annotations

import pytest

from clearformer.training import Trainer, TrainerCallback, TrainingArguments

from .tiny import tiny_model, tiny_rows


class CountSteps(TrainerCallback):
    def __init__(self) -> None:
        self.steps = 0

    def on_step_end(self, args, state, control, **kwargs):
        self.steps += 1


def _args(tmp_path, **kw):
    return TrainingArguments(tmp_path, per_device_train_batch_size=4, max_steps=4, log_level="error", **kw)


def test_label_outside_num_labels_fails_before_training(tmp_path):
    rows = tiny_rows(16)
    rows[5]["label"] = 2
    counter = CountSteps()
    with pytest.raises(ValueError, match=r"label 2 in column 'label', but the model has num_labels=2"):
        Trainer(tiny_model(), _args(tmp_path), train_dataset=rows, callbacks=[counter]).train()
    assert counter.steps == 0


def test_empty_dataset_fails_before_training(tmp_path):
    with pytest.raises(ValueError, match=r"training dataset is empty \(0 rows\)"):
        Trainer(tiny_model(), _args(tmp_path), train_dataset=[]).train()


def test_missing_text_column_fails_before_training(tmp_path):
    rows = [{"sentence": "not tokenized", "label": 1}] * 8
    with pytest.raises(ValueError, match=r"no column the model reads .*\['sentence', 'label'\].*Tokenize"):
        Trainer(tiny_model(), _args(tmp_path), train_dataset=rows).train()


def test_metric_never_returned_fails_at_first_evaluation(tmp_path):
    counter = CountSteps()
    args = _args(
        tmp_path,
        evaluation_strategy="steps",
        eval_steps=2,
        save_steps=2,
        load_best_model_at_end=True,
        metric_for_best_model="f1",
    )
    trainer = Trainer(
        tiny_model(),
        args,
        train_dataset=tiny_rows(16),
        eval_dataset=tiny_rows(8),
        compute_metrics=lambda p: {"accuracy": 0.5},
        callbacks=[counter],
    )
    with pytest.raises(KeyError, match=r"looks for 'eval_f1'.*eval_accuracy"):
        trainer.train()
    assert counter.steps == 2  # the first evaluation, not the end of training
    assert not list(tmp_path.glob("checkpoint-*"))


def test_metric_without_compute_metrics_fails_before_training(tmp_path):
    args = _args(tmp_path, evaluation_strategy="steps", eval_steps=2, metric_for_best_model="accuracy")
    with pytest.raises(ValueError, match="no compute_metrics"):
        Trainer(tiny_model(), args, train_dataset=tiny_rows(16), eval_dataset=tiny_rows(8)).train()


def test_load_best_model_with_mismatched_strategies_fails_at_construction(tmp_path):
    with pytest.raises(ValueError, match=r"eval_strategy is 'epoch' and save_strategy is 'steps'"):
        TrainingArguments(tmp_path, evaluation_strategy="epoch", load_best_model_at_end=True)
    with pytest.raises(ValueError, match=r"save_steps \(5\) to be a multiple of eval_steps \(2\)"):
        TrainingArguments(tmp_path, eval_strategy="steps", eval_steps=2, save_steps=5, load_best_model_at_end=True)


def test_resume_without_checkpoint_and_bad_strategy(tmp_path):
    with pytest.raises(ValueError, match="holds no checkpoint"):
        Trainer(tiny_model(), _args(tmp_path), train_dataset=tiny_rows(8)).train(resume_from_checkpoint=True)
    with pytest.raises(ValueError, match="eval_strategy must be one of"):
        TrainingArguments(tmp_path, evaluation_strategy="epochs")
