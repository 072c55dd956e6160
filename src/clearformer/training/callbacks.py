"""Trainer callbacks with transformers' hook names, the state they see, and the built-in loggers.

``TrainerState`` is written as ``trainer_state.json`` with exactly the keys transformers 5.24 reads.
Loggers (csv, tensorboard) never stop training: a missing package gives one warning.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..weight_files import atomic_write_text

logger = logging.getLogger("clearformer.training")

HOOKS = (
    "on_init_end",
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_step_begin",
    "on_pre_optimizer_step",
    "on_optimizer_step",
    "on_substep_end",
    "on_step_end",
    "on_evaluate",
    "on_predict",
    "on_save",
    "on_log",
    "on_prediction_step",
)


@dataclass
class TrainerState:
    epoch: float | None = None
    global_step: int = 0
    max_steps: int = 0
    logging_steps: float = 500
    eval_steps: float = 500
    save_steps: float = 500
    train_batch_size: int | None = None
    num_train_epochs: int = 0
    num_input_tokens_seen: int = 0
    total_flos: float = 0
    log_history: list[dict[str, float]] = field(default_factory=list)
    best_metric: float | None = None
    best_global_step: int | None = None
    best_model_checkpoint: str | None = None
    is_local_process_zero: bool = True
    is_world_process_zero: bool = True
    is_hyper_param_search: bool = False
    trial_name: str | None = None
    trial_params: dict[str, Any] | None = None
    stateful_callbacks: dict[str, Any] = field(default_factory=dict)

    def save_to_json(self, json_path: str | os.PathLike) -> None:
        atomic_write_text(json_path, json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load_from_json(cls, json_path: str | os.PathLike) -> TrainerState:
        """Read a ``trainer_state.json``; a corrupt one raises ValueError naming the file and the fault."""
        path = Path(json_path)
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(
                f"{path} is not valid JSON ({err}); the checkpoint is damaged: resume from another one"
            ) from err
        if not isinstance(values, dict):
            raise ValueError(
                f"{path} is not a JSON object (found {type(values).__name__}); the checkpoint is damaged: "
                "resume from another one"
            )
        _check_state_fields(path, values)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


# What resuming reads: a missing or wrongly typed one would restart the schedule at a wrong step.
_REQUIRED_STATE_FIELDS = {"global_step": int, "log_history": list}
_OPTIONAL_STATE_FIELDS = {"epoch": (int, float), "best_metric": (int, float), "best_global_step": int}


def _check_state_fields(path: Path, values: dict[str, Any]) -> None:
    for name in _REQUIRED_STATE_FIELDS:
        if name not in values:
            raise ValueError(f"{path} has no {name!r} field; the checkpoint is damaged: resume from another one")
    for name, kind in {**_REQUIRED_STATE_FIELDS, **_OPTIONAL_STATE_FIELDS}.items():
        value = values.get(name)
        if value is None and name in _OPTIONAL_STATE_FIELDS:
            continue
        if isinstance(value, bool) or not isinstance(value, kind):
            raise ValueError(
                f"{path}: field {name!r} is {value!r}, expected {getattr(kind, '__name__', 'a number')}; the "
                "checkpoint is damaged: resume from another one"
            )


@dataclass
class TrainerControl:
    """Flags a callback sets to ask the loop for something; the loop resets them after acting."""

    should_training_stop: bool = False
    should_epoch_stop: bool = False
    should_save: bool = False
    should_evaluate: bool = False
    should_log: bool = False


class TrainerCallback:
    """Subclass and override any hook; each gets ``(args, state, control, **kwargs)``.

    kwargs hold ``model``, ``optimizer``, ``lr_scheduler``, ``train_dataloader``, ``metrics`` or
    ``logs`` where they make sense. A hook may return a TrainerControl to replace the flags.
    """


for _hook in HOOKS:
    setattr(TrainerCallback, _hook, lambda self, args, state, control, **kwargs: None)


class CallbackHandler:
    def __init__(self, callbacks: list[TrainerCallback]) -> None:
        self.callbacks: list[TrainerCallback] = []
        for cb in callbacks:
            self.add_callback(cb)

    def add_callback(self, callback: TrainerCallback | type) -> None:
        cb = callback() if isinstance(callback, type) else callback
        if any(type(c) is type(cb) for c in self.callbacks):
            logger.warning("callback %s added twice; both will run", type(cb).__name__)
        self.callbacks.append(cb)

    def pop_callback(self, callback: TrainerCallback | type) -> TrainerCallback | None:
        for c in self.callbacks:
            if c is callback or (isinstance(callback, type) and type(c) is callback):
                self.callbacks.remove(c)
                return c
        return None

    def call(self, hook: str, args, state: TrainerState, control: TrainerControl, **kwargs) -> TrainerControl:
        for cb in self.callbacks:
            result = getattr(cb, hook)(args, state, control, **kwargs)
            if result is not None:
                control = result
        return control


class EarlyStoppingCallback(TrainerCallback):
    """Stop when ``metric_for_best_model`` has not improved (by more than the threshold) for
    ``early_stopping_patience`` evaluations in a row."""

    def __init__(self, early_stopping_patience: int = 1, early_stopping_threshold: float = 0.0) -> None:
        self.early_stopping_patience = early_stopping_patience
        self.early_stopping_threshold = early_stopping_threshold
        self.patience_counter = 0

    def on_train_begin(self, args, state, control, **kwargs):
        if args.metric_for_best_model is None:
            raise ValueError("EarlyStoppingCallback needs args.metric_for_best_model (e.g. 'eval_loss')")
        if args.eval_strategy == "no":
            raise ValueError("EarlyStoppingCallback needs evaluations: set eval_strategy to 'steps' or 'epoch'")

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        name = args.metric_for_best_model
        name = name if name.startswith("eval_") else f"eval_{name}"
        value = (metrics or {}).get(name)
        if value is None:
            return
        best = state.best_metric
        better = (value > best if args.greater_is_better else value < best) if best is not None else True
        if better and (best is None or abs(value - best) > self.early_stopping_threshold):
            self.patience_counter = 0
        else:
            self.patience_counter += 1
        if self.patience_counter >= self.early_stopping_patience:
            control.should_training_stop = True


class CSVLoggerCallback(TrainerCallback):
    """Appends every log dict as a row of ``<logging_dir>/log_history.csv`` (rank 0 only)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        self.rows.append({"step": state.global_step, "epoch": state.epoch, **logs})
        columns: list[str] = []
        for row in self.rows:
            columns += [k for k in row if k not in columns]
        path = Path(args.logging_dir) / "log_history.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(self.rows)


class TensorBoardCallback(TrainerCallback):
    def __init__(self) -> None:
        self.writer = None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional: train anyway, say so once
            logger.warning(
                "report_to='tensorboard' but the tensorboard package is not installed; training goes on "
                "without TensorBoard logs (pip install tensorboard, or report_to='none' to silence this)"
            )
            self._writer_class = None
        else:
            self._writer_class = SummaryWriter

    def on_train_begin(self, args, state, control, **kwargs):
        if self._writer_class is not None and state.is_world_process_zero and self.writer is None:
            self.writer = self._writer_class(log_dir=args.logging_dir)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.writer is None:
            return
        for key, value in (logs or {}).items():
            if isinstance(value, int | float) and math.isfinite(value):
                self.writer.add_scalar(key, value, state.global_step)
        self.writer.flush()

    def on_train_end(self, args, state, control, **kwargs):
        if self.writer is not None:
            self.writer.close()
            self.writer = None


REPORTER_CALLBACKS = {"csv": CSVLoggerCallback, "tensorboard": TensorBoardCallback}
