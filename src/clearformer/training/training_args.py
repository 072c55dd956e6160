"""TrainingArguments: every knob of the Trainer, with the course's names and transformers' defaults.

Both the 4.x names the course uses (``evaluation_strategy``, ``overwrite_output_dir``,
``logging_dir``) and the 5.x ones (``eval_strategy``) are accepted. Readable from JSON
(``TrainingArguments.from_json_file``) and from command-line flags (``add_dataclass_arguments``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

STRATEGIES = ("no", "steps", "epoch")
SCHEDULERS = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
)
REPORTERS = ("none", "csv", "tensorboard")


@dataclass
class TrainingArguments:
    output_dir: str = "trainer_output"
    overwrite_output_dir: bool = False  # 4.x name, accepted; checkpoints are never deleted by it
    do_train: bool = False
    do_eval: bool = False
    do_predict: bool = False
    eval_strategy: str = "no"
    evaluation_strategy: str | None = None  # 4.x alias of eval_strategy
    eval_steps: float | None = None  # None: logging_steps, as the reference does
    per_device_train_batch_size: int = 8
    per_device_eval_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    learning_rate: float = 5e-5
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    num_train_epochs: float = 3.0
    max_steps: int = -1  # > 0 overrides num_train_epochs
    lr_scheduler_type: str = "linear"
    warmup_ratio: float = 0.0
    warmup_steps: int = 0  # wins over warmup_ratio when > 0
    log_level: str = "passive"  # passive = info for the Trainer's own report
    logging_dir: str | None = None  # 4.x name; where csv/tensorboard logs go (default output_dir/runs)
    logging_strategy: str = "steps"
    logging_first_step: bool = False
    logging_steps: float = 500
    save_strategy: str = "steps"
    save_steps: float = 500
    save_total_limit: int | None = None
    save_only_model: bool = False
    seed: int = 42
    data_seed: int | None = None  # shuffling seed; None: seed
    bf16: bool = False
    fp16: bool = False
    # clearformer's cheaper CPU dropout masks (nn/dropout.py): ~25% of a bf16 fine-tuning step saved,
    # but not the masks torch (and so transformers) draws for the same seed.
    fast_dropout: bool = False
    use_cpu: bool = False
    gradient_checkpointing: bool = False
    dataloader_num_workers: int = 0
    dataloader_drop_last: bool = False
    remove_unused_columns: bool = True
    # Evaluate/predict in batches of similar length, longest first: less padding, same predictions,
    # returned in dataset order. Off by default because a token-averaged eval loss (NER, LM) is a
    # mean of batch means, and those change when the batches are made of other rows.
    eval_group_by_length: bool = False
    label_names: list[str] | None = None
    # evaluate()/predict() keep only the loss: no logits are gathered (a GPT-2 eval set's logits
    # are batch x length x 50,257 floats per batch, tens of GB over a test file).
    prediction_loss_only: bool = False
    load_best_model_at_end: bool = False
    metric_for_best_model: str | None = None
    greater_is_better: bool | None = None
    report_to: str | list[str] = "none"
    run_name: str | None = None
    disable_tqdm: bool | None = None
    resume_from_checkpoint: str | None = None
    skip_unused_column_check: bool = False
    _frozen_devices: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.output_dir = os.fspath(self.output_dir)
        if self.logging_dir is not None:
            self.logging_dir = os.fspath(self.logging_dir)
        if self.evaluation_strategy is not None:
            self.eval_strategy = self.evaluation_strategy
        self.eval_strategy = _strategy(self.eval_strategy, "eval_strategy")
        self.evaluation_strategy = self.eval_strategy
        self.save_strategy = _strategy(self.save_strategy, "save_strategy")
        self.logging_strategy = _strategy(self.logging_strategy, "logging_strategy")
        if self.eval_strategy == "steps" and not self.eval_steps:
            self.eval_steps = self.logging_steps
        if self.lr_scheduler_type not in SCHEDULERS:
            raise ValueError(f"lr_scheduler_type {self.lr_scheduler_type!r} is not one of {SCHEDULERS}")
        reports = [self.report_to] if isinstance(self.report_to, str) else list(self.report_to)
        reports = ["none"] if reports in ([], [None]) else reports
        for r in reports:
            if r not in (*REPORTERS, "all"):
                raise ValueError(f"report_to {r!r} is not one of {REPORTERS}")
        self.report_to = [r for r in reports if r != "none"]
        if "all" in self.report_to:
            self.report_to = ["csv", "tensorboard"]
        if self.logging_dir is None:
            self.logging_dir = str(Path(self.output_dir) / "runs")
        if self.metric_for_best_model is None and self.load_best_model_at_end:
            self.metric_for_best_model = "loss"
        if self.greater_is_better is None and self.metric_for_best_model is not None:
            self.greater_is_better = self.metric_for_best_model.removeprefix("eval_") != "loss"
        if self.gradient_accumulation_steps < 1:
            raise ValueError(f"gradient_accumulation_steps must be >= 1, got {self.gradient_accumulation_steps}")
        if not 0.0 <= self.warmup_ratio <= 1.0:
            raise ValueError(f"warmup_ratio must be in [0, 1], got {self.warmup_ratio}")
        if self.bf16 and self.fp16:
            raise ValueError("choose one of bf16=True or fp16=True, not both")
        if self.load_best_model_at_end:
            self._check_best_model_strategies()

    def _check_best_model_strategies(self) -> None:
        if self.eval_strategy != self.save_strategy:
            raise ValueError(
                "load_best_model_at_end needs a checkpoint at every evaluation, but eval_strategy is "
                f"{self.eval_strategy!r} and save_strategy is {self.save_strategy!r}; set both to the same "
                "value (e.g. evaluation_strategy='epoch', save_strategy='epoch')"
            )
        if self.eval_strategy == "steps" and self.save_steps % self.eval_steps != 0:
            raise ValueError(
                f"load_best_model_at_end needs save_steps ({self.save_steps}) to be a multiple of "
                f"eval_steps ({self.eval_steps}) so that every evaluated model is saved"
            )

    # --- derived values ---------------------------------------------------------------------
    @property
    def world_size(self) -> int:
        return int(os.environ.get("WORLD_SIZE", "1"))

    @property
    def process_index(self) -> int:
        return int(os.environ.get("RANK", "0"))

    @property
    def local_rank(self) -> int:
        return int(os.environ.get("LOCAL_RANK", "-1"))

    @property
    def local_process_index(self) -> int:
        return max(self.local_rank, 0)

    @property
    def n_gpu(self) -> int:
        return 1 if self.device.type == "cuda" else 0

    @property
    def train_batch_size(self) -> int:
        return self.per_device_train_batch_size

    @property
    def eval_batch_size(self) -> int:
        return self.per_device_eval_batch_size

    @property
    def should_save(self) -> bool:
        return self.process_index == 0

    @property
    def should_log(self) -> bool:
        return self.process_index == 0

    @property
    def device(self) -> torch.device:
        if self.use_cpu:
            return torch.device("cpu")
        if torch.cuda.is_available():
            return torch.device("cuda", self.local_process_index)
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")

    def get_warmup_steps(self, num_training_steps: int) -> int:
        if self.warmup_steps > 0:
            return self.warmup_steps
        return int(-(-num_training_steps * self.warmup_ratio // 1))

    # --- serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if not f.name.startswith("_")}

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def to_sanitized_dict(self) -> dict[str, Any]:
        """Scalars only (lists joined), for loggers that accept nothing else."""
        return {k: (", ".join(v) if isinstance(v, list) else v) for k, v in self.to_dict().items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainingArguments:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown TrainingArguments fields {unknown}; known fields: {sorted(known)}")
        return cls(**values)

    @classmethod
    def from_json_file(cls, path: str | os.PathLike) -> TrainingArguments:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _strategy(value: Any, name: str) -> str:
    value = getattr(value, "value", value)  # HF's IntervalStrategy enum
    if value not in STRATEGIES:
        raise ValueError(f"{name} must be one of {STRATEGIES}, got {value!r}")
    return value


# --- dataclass <-> command-line flags -----------------------------------------------------------
def _flag_type(annotation: Any) -> tuple[Any, bool]:
    """(scalar parser, is_list) for a dataclass field annotation such as ``int | None``."""
    if isinstance(annotation, str):
        annotation = eval(annotation, {"list": list, "dict": dict, "Any": Any})  # noqa: S307
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if isinstance(annotation, types.UnionType | typing._UnionGenericAlias) and args:  # type: ignore[attr-defined]
        list_args = [a for a in args if typing.get_origin(a) is list]
        if list_args:
            return typing.get_args(list_args[0])[0], True
        annotation = args[0]
    if typing.get_origin(annotation) is list:
        return typing.get_args(annotation)[0], True
    return annotation, False


def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in ("1", "true", "yes", "y"):
        return True
    if low in ("0", "false", "no", "n"):
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean (true/false), got {text!r}")


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """One ``--field`` flag per dataclass field; booleans accept ``--fp16`` or ``--fp16 false``."""
    for f in dataclasses.fields(cls):
        if f.name.startswith("_"):
            continue
        kind, is_list = _flag_type(f.type)
        if kind is bool:
            parser.add_argument(f"--{f.name}", type=_parse_bool, nargs="?", const=True, default=argparse.SUPPRESS)
        elif kind in (int, float, str):
            parser.add_argument(f"--{f.name}", type=kind, nargs="+" if is_list else None, default=argparse.SUPPRESS)


def dataclass_from_namespace(cls: type, namespace: argparse.Namespace, base: dict | None = None):
    """Build ``cls`` from parsed flags; flags given on the command line override ``base`` (a JSON)."""
    names = {f.name for f in dataclasses.fields(cls)}
    values = dict(base or {})
    values.update({k: v for k, v in vars(namespace).items() if k in names})
    return cls(**values)
