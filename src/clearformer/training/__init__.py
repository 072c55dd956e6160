"""The training stack: TrainingArguments, Trainer, callbacks, schedules, search and checkpoints."""

from .callbacks import (
    CallbackHandler,
    CSVLoggerCallback,
    EarlyStoppingCallback,
    TensorBoardCallback,
    TrainerCallback,
    TrainerControl,
    TrainerState,
)
from .optimization import (
    get_constant_schedule,
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_cosine_with_hard_restarts_schedule_with_warmup,
    get_linear_schedule_with_warmup,
    get_polynomial_decay_schedule_with_warmup,
    get_scheduler,
)
from .search import BestRun
from .trainer import EvalPrediction, PredictionOutput, Trainer, TrainOutput
from .trainer_checkpoints import get_last_checkpoint, set_seed
from .training_args import TrainingArguments

__all__ = [
    "BestRun",
    "CSVLoggerCallback",
    "CallbackHandler",
    "EarlyStoppingCallback",
    "EvalPrediction",
    "PredictionOutput",
    "TensorBoardCallback",
    "TrainOutput",
    "Trainer",
    "TrainerCallback",
    "TrainerControl",
    "TrainerState",
    "TrainingArguments",
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_last_checkpoint",
    "get_linear_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
    "get_scheduler",
    "set_seed",
]
