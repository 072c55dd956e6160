"""``Trainer.hyperparameter_search`` with optuna: each trial sets args, rebuilds the model with
``model_init``, trains, evaluates and reports one objective. A trial that raises is recorded as
failed and the search goes on; ``best_run.hyperparameters`` holds the winner's values.
As in transformers, ``run_summary`` is None for optuna; the whole study (every trial, its state
and value) is ``trainer.hp_search_study``.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, NamedTuple

logger = logging.getLogger("clearformer.training")
_NOT_OBJECTIVE = ("epoch", "runtime", "samples_per_second", "steps_per_second")


class BestRun(NamedTuple):
    run_id: str
    objective: float
    hyperparameters: dict[str, Any]
    run_summary: Any = None


def default_hp_space_optuna(trial) -> dict[str, Any]:
    """The reference's default space: learning rate, epochs, seed and batch size."""
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-6, 1e-4, log=True),
        "num_train_epochs": trial.suggest_int("num_train_epochs", 1, 5),
        "seed": trial.suggest_int("seed", 1, 40),
        "per_device_train_batch_size": trial.suggest_categorical("per_device_train_batch_size", [4, 8, 16, 32, 64]),
    }


def default_compute_objective(metrics: dict[str, float]) -> float:
    """eval_loss when no other metric exists, else the sum of the metrics (speed and epoch excluded)."""
    metrics = {k: v for k, v in metrics.items() if not k.endswith(_NOT_OBJECTIVE) and isinstance(v, int | float)}
    others = {k: v for k, v in metrics.items() if k != "eval_loss"}
    return sum(others.values()) if others else metrics["eval_loss"]


def run_hyperparameter_search(
    trainer,
    hp_space=None,
    compute_objective=None,
    n_trials: int = 20,
    direction: str = "minimize",
    backend: str | None = None,
    **kwargs,
) -> BestRun:
    if backend not in (None, "optuna"):
        raise ValueError(f"hyperparameter_search backend {backend!r} is not available; use backend='optuna'")
    if trainer.model_init is None:
        raise RuntimeError(
            "hyperparameter_search needs Trainer(model_init=...) so every trial starts from a fresh model"
        )
    if trainer.eval_dataset is None:
        raise ValueError("hyperparameter_search needs an eval_dataset to score each trial")
    try:
        import optuna
    except ImportError as err:
        raise ImportError("hyperparameter_search needs optuna: pip install 'clearformer[search]'") from err
    hp_space = hp_space or default_hp_space_optuna
    compute_objective = compute_objective or default_compute_objective
    base_args = copy.deepcopy(trainer.args)

    def objective(trial) -> float:
        params = hp_space(trial)
        trainer.args = copy.deepcopy(base_args)
        for name, value in params.items():
            if not hasattr(trainer.args, name):
                raise AttributeError(f"hp_space returned {name!r}, which is not a TrainingArguments field")
            setattr(trainer.args, name, value)
        trainer.args.output_dir = f"{base_args.output_dir}/run-{trial.number}"
        trainer.optimizer, trainer.lr_scheduler = None, None
        trainer.train(trial=trial)
        trainer.state.trial_params = params
        metrics = trainer.evaluate()
        value = compute_objective(metrics)
        logger.info("trial %d: %s -> objective %.6f", trial.number, params, value)
        return value

    study = optuna.create_study(direction=direction, **kwargs)
    # catch=Exception: a crashing trial is recorded as FAIL with its error, and the search goes on.
    study.optimize(objective, n_trials=n_trials, catch=(Exception,))
    trainer.args = base_args
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    failed = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    if failed:
        logger.warning(
            "%d of %d trials failed: %s",
            len(failed),
            len(study.trials),
            "; ".join(f"#{t.number}: {t.system_attrs.get('fail_reason', '?')}" for t in failed)[:500],
        )
    if not done:
        raise RuntimeError(f"all {n_trials} hyperparameter-search trials failed; see the warnings above")
    best = study.best_trial
    trainer.hp_search_study = study
    return BestRun(str(best.number), best.value, best.params)
