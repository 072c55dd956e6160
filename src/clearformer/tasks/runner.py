"""``run_task``: load a task's data, tokenize, fine-tune with the Trainer and evaluate, in one call.

What the CLI (``clearformer task``) and the recipes run. Subsets (``max_train_samples``...) and
``max_steps`` keep CPU runs short; the result dict says what was used and how long it took.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .spec import TaskSpec, get_task

logger = logging.getLogger("clearformer.tasks")


@dataclass
class TaskRun:
    """The knobs of one run; ``None`` means the task's (the course's) default."""

    task: str
    data_dir: str
    model_dir: str
    output_dir: str = "task_output"
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    num_train_epochs: float | None = None
    max_steps: int = -1
    learning_rate: float | None = None
    batch_size: int | None = None
    seed: int = 42
    preprocess_options: dict[str, Any] = field(default_factory=dict)
    training_options: dict[str, Any] = field(default_factory=dict)


def _subset(dataset, n: int | None):
    return dataset if n is None or n >= len(dataset) else dataset.select(range(n))


def _auto_class(name: str):
    from ..models import auto

    return getattr(auto, name)


def load_model_and_tokenizer(spec: TaskSpec, model_dir: str, tokenizer=None):
    from ..tokenization import AutoTokenizer

    tokenizer = tokenizer if tokenizer is not None else AutoTokenizer.from_pretrained(model_dir)
    model = _auto_class(spec.auto_model).from_pretrained(model_dir, **spec.model_kwargs())
    return model, tokenizer


def tokenize_splits(spec: TaskSpec, data, tokenizer, run: TaskRun):
    """(train features, eval features, eval examples): the task's preprocess over both splits."""
    options = {**spec.preprocess_defaults, **run.preprocess_options}
    train_raw = _subset(data[spec.train_split], run.max_train_samples)
    eval_raw = _subset(data[spec.eval_split], run.max_eval_samples)
    fn = spec.preprocess(tokenizer, **options)
    train = train_raw.map(fn, batched=True, remove_columns=train_raw.column_names)
    if spec.family == "question_answering":
        from .question_answering import prepare_validation_features

        keep = {k: v for k, v in options.items() if k in ("max_length", "stride")}
        evaluation = eval_raw.map(
            prepare_validation_features(tokenizer, **keep), batched=True, remove_columns=eval_raw.column_names
        )
    else:
        evaluation = eval_raw.map(fn, batched=True, remove_columns=eval_raw.column_names)
    return train, evaluation, eval_raw


def training_arguments(spec: TaskSpec, run: TaskRun):
    from ..training import TrainingArguments

    values = {
        **spec.training_defaults,
        "output_dir": run.output_dir,
        "seed": run.seed,
        "report_to": "none",
        "save_strategy": "no",
        "eval_strategy": "no",
        "logging_steps": 10,
        "disable_tqdm": True,
    }
    if run.num_train_epochs is not None:
        values["num_train_epochs"] = run.num_train_epochs
    if run.learning_rate is not None:
        values["learning_rate"] = run.learning_rate
    if run.batch_size is not None:
        values["per_device_train_batch_size"] = values["per_device_eval_batch_size"] = run.batch_size
    values["max_steps"] = run.max_steps
    values.update(run.training_options)
    return TrainingArguments(**values)


def evaluate(spec: TaskSpec, trainer, eval_features, eval_examples, tokenizer) -> dict[str, float]:
    """The task's metric on the eval split: Trainer.evaluate, or predict + post-processing for QA."""
    if spec.family == "question_answering":
        from .question_answering import postprocess_qa_predictions, qa_metrics

        model_inputs = eval_features.remove_columns(["example_id", "offset_mapping"])
        output = trainer.predict(model_inputs)
        answers = postprocess_qa_predictions(eval_examples, eval_features, output.predictions)
        language = "zh" if spec.name == "cmrc2018" else "en"
        return {f"eval_{k}": v for k, v in qa_metrics(answers, eval_examples, language).items()}
    if spec.family == "language_modeling":
        from .language_modeling import evaluate_lm

        # loss per predicted token, without keeping the logits (Trainer.evaluate keeps them all)
        causal = spec.auto_model == "AutoModelForCausalLM"
        return evaluate_lm(trainer.model, trainer.get_eval_dataloader(), causal=causal)
    return trainer.evaluate()


def run_task(run: TaskRun, model=None, tokenizer=None, callbacks=None, do_eval: bool = True) -> dict[str, Any]:
    """Fine-tune and (unless ``do_eval=False``) evaluate; returns the eval metrics plus sizes, steps,
    the logged losses and wall times. ``callbacks`` go to the Trainer (e.g. to stop early)."""
    from ..training import Trainer, set_seed

    spec = get_task(run.task)
    start = time.perf_counter()
    set_seed(run.seed)
    data = spec.load(Path(run.data_dir))
    if model is None:
        model, tokenizer = load_model_and_tokenizer(spec, run.model_dir, tokenizer)
    train, eval_features, eval_examples = tokenize_splits(spec, data, tokenizer, run)
    args = training_arguments(spec, run)
    metrics_fn = spec.compute_metrics() if spec.compute_metrics else None
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train,
        data_collator=spec.collator(tokenizer),
        compute_metrics=metrics_fn,
        processing_class=tokenizer,
        eval_dataset=None if spec.family == "question_answering" else eval_features,
        callbacks=callbacks,
    )
    prepared = time.perf_counter()
    output = trainer.train()
    trained = time.perf_counter()
    metrics = evaluate(spec, trainer, eval_features, eval_examples, tokenizer) if do_eval else {}
    done = time.perf_counter()
    result = {
        "task": spec.name,
        "train_examples": len(train),
        "eval_examples": len(eval_examples),
        "eval_features": len(eval_features),
        "global_step": output.global_step,
        "train_loss": output.training_loss,
        "prepare_s": prepared - start,
        "train_s": trained - prepared,
        "eval_s": done - trained,
        "repair_reports": {k: str(v) for k, v in getattr(data, "repair_reports", {}).items()},
        "loss_history": [(row["step"], row["loss"]) for row in trainer.state.log_history if "loss" in row],
        **metrics,
    }
    logger.info("task %s: %s", spec.name, result)
    return result
