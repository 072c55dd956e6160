"""hyperparameter_search with optuna: three trials on the tiny model; a crashing trial is not fatal."""

from __future__ import annotations

import pytest

from clearformer.models.bert.modeling_bert import BertForSequenceClassification
from clearformer.training import Trainer, TrainingArguments

from .tiny import tiny_config, tiny_rows

optuna = pytest.importorskip("optuna")


def _trainer(tmp_path, model_init):
    args = TrainingArguments(
        tmp_path,
        evaluation_strategy="epoch",
        save_strategy="no",
        num_train_epochs=1,
        per_device_train_batch_size=8,
        log_level="error",
    )
    return Trainer(args=args, model_init=model_init, train_dataset=tiny_rows(32), eval_dataset=tiny_rows(16, seed=1))


def test_three_optuna_trials_return_the_best_hyperparameters(tmp_path):
    trainer = _trainer(tmp_path, lambda: BertForSequenceClassification(tiny_config()))

    def space(trial):
        return {
            "learning_rate": trial.suggest_float("learning_rate", 1e-5, 1e-2, log=True),
            "weight_decay": trial.suggest_categorical("weight_decay", [0.0, 0.01]),
        }

    best = trainer.hyperparameter_search(
        hp_space=space,
        n_trials=3,
        direction="minimize",
        backend="optuna",
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    assert best.run_summary is None  # transformers' optuna backend leaves it empty too
    assert tuple(best) == (best.run_id, best.objective, best.hyperparameters, None)
    study = trainer.hp_search_study
    assert len(study.trials) == 3
    assert best.objective == min(t.value for t in study.trials)
    assert set(best.hyperparameters) == {"learning_rate", "weight_decay"}
    assert trainer.args.learning_rate == 5e-5  # the search leaves the trainer's own args as they were


def test_crashed_trial_is_recorded_not_fatal(tmp_path):
    calls = {"n": 0}

    def flaky_init():
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("simulated out-of-memory")
        return BertForSequenceClassification(tiny_config())

    trainer = _trainer(tmp_path, flaky_init)
    trainer.hyperparameter_search(
        hp_space=lambda t: {"learning_rate": t.suggest_float("learning_rate", 1e-4, 1e-3)},
        n_trials=3,
    )
    states = [t.state for t in trainer.hp_search_study.trials]
    assert states.count(optuna.trial.TrialState.FAIL) == 1
    assert states.count(optuna.trial.TrialState.COMPLETE) == 2


def test_search_needs_model_init(tmp_path):
    from .tiny import tiny_model

    trainer = Trainer(
        tiny_model(),
        TrainingArguments(tmp_path, log_level="error"),
        train_dataset=tiny_rows(8),
        eval_dataset=tiny_rows(8),
    )
    with pytest.raises(RuntimeError, match="model_init"):
        trainer.hyperparameter_search(n_trials=1)
