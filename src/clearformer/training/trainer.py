"""Trainer: transformers' Trainer surface over one explicit training loop.

``train`` reads top to bottom: for each epoch, for each group of ``gradient_accumulation_steps``
batches, forward/backward every batch, clip, step, then log / evaluate / save when due. Everything
else (checkpoints, data checks, distributed helpers) lives in the sibling modules.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.utils.data import DataLoader

from .. import weight_files
from ..inference import restore_for_training
from ..nn.dropout import use_fast_dropout
from . import data_utils as du
from . import distributed as dist_utils
from . import trainer_checkpoints
from .callbacks import REPORTER_CALLBACKS, CallbackHandler, TrainerCallback, TrainerControl, TrainerState
from .optimization import create_adamw, get_scheduler
from .training_args import TrainingArguments

logger = logging.getLogger("clearformer.training")
_LOG_LEVELS = {
    "passive": logging.INFO,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


class TrainOutput(NamedTuple):
    global_step: int
    training_loss: float
    metrics: dict[str, float]


class EvalPrediction(NamedTuple):
    """What ``compute_metrics`` receives; unpacks as ``predictions, label_ids = eval_pred``."""

    predictions: np.ndarray | tuple[np.ndarray, ...]
    label_ids: np.ndarray | tuple[np.ndarray, ...] | None


class PredictionOutput(NamedTuple):
    predictions: np.ndarray | tuple[np.ndarray, ...]
    label_ids: np.ndarray | tuple[np.ndarray, ...] | None
    metrics: dict[str, float]


class Trainer:
    def __init__(
        self,
        model=None,
        args: TrainingArguments | None = None,
        data_collator=None,
        train_dataset=None,
        eval_dataset=None,
        tokenizer=None,
        model_init=None,
        compute_metrics=None,
        callbacks: list[TrainerCallback] | None = None,
        optimizers=(None, None),
        processing_class=None,
    ) -> None:
        self.args = args if args is not None else TrainingArguments()
        _setup_logging(self.args.log_level)
        self.device = self.args.device
        self.is_distributed = dist_utils.init_distributed(self.device)
        self.model_init = model_init
        if model is None:
            if model_init is None:
                raise ValueError("Trainer needs a model or a model_init function")
            model = self.call_model_init()
        self.model = model
        self.processing_class = processing_class if processing_class is not None else tokenizer
        self.data_collator = data_collator if data_collator is not None else self._default_collator()
        self.train_dataset, self.eval_dataset = train_dataset, eval_dataset
        self.compute_metrics = compute_metrics
        self.optimizer, self.lr_scheduler = optimizers
        self._check_precision()
        self.state = TrainerState()
        self.control = TrainerControl()
        reporters = [REPORTER_CALLBACKS[r]() for r in self.args.report_to]
        self.callback_handler = CallbackHandler([*reporters, *(callbacks or [])])
        self.scaler = None
        self.hp_search_backend = None
        self.hp_search_study = None  # the optuna study of the last hyperparameter_search
        self._table_header_logged = False
        self._said: set[str] = set()  # messages logged once per Trainer (unused columns)
        self.control = self.callback_handler.call("on_init_end", self.args, self.state, self.control)

    # --- construction helpers ---------------------------------------------------------------
    @property
    def tokenizer(self):
        return self.processing_class

    def call_model_init(self, trial=None):
        n_params = len(inspect.signature(self.model_init).parameters)
        model = self.model_init(trial) if n_params == 1 else self.model_init()
        if model is None:
            raise RuntimeError("model_init returned None; it must return a freshly built model")
        return model

    def _default_collator(self):
        from ..data.collators import DataCollatorWithPadding, default_data_collator

        if self.processing_class is not None and hasattr(self.processing_class, "pad"):
            return DataCollatorWithPadding(self.processing_class)
        return default_data_collator

    def _check_precision(self) -> None:
        kind = self.device.type
        if self.args.fp16 and kind == "cpu":
            # transformers 4.57 and 5.24 accept this and run in float32 (accelerate has no CPU fp16
            # autocast, and CPU float16 matmuls are slow): the same here, said once.
            warnings.warn(
                "fp16=True has no effect on the CPU: training and evaluation run in float32, as in "
                "transformers; use bf16=True for mixed precision on a CPU",
                UserWarning,
                stacklevel=3,
            )
        if self.args.bf16 and kind == "cuda" and not torch.cuda.is_bf16_supported():
            raise ValueError("bf16=True but this GPU has no bfloat16 support; use fp16=True instead")
        if self.args.bf16 and kind == "mps":
            raise ValueError("bf16=True is not supported on MPS here; use fp16=True")

    def _autocast(self):
        if self.args.bf16:
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        if self.args.fp16 and self.device.type != "cpu":
            return torch.autocast(self.device.type, dtype=torch.float16)
        return contextlib.nullcontext()

    def add_callback(self, callback) -> None:
        self.callback_handler.add_callback(callback)

    def pop_callback(self, callback):
        return self.callback_handler.pop_callback(callback)

    def _call(self, hook: str, **kwargs) -> None:
        self.control = self.callback_handler.call(hook, self.args, self.state, self.control, **kwargs)

    # --- data ---------------------------------------------------------------------------------
    def _prepare_dataset(self, dataset, description: str):
        dataset = du.rows_from_columns(dataset)
        raw_columns = du.column_names(dataset) if dataset is not None else None
        du.check_dataset(dataset, description, raw_columns)
        if self.args.remove_unused_columns:
            dataset = du.remove_unused_columns(dataset, self.model, description, self._log_once)
            du.check_dataset(dataset, description, raw_columns)
        return dataset

    def _log_once(self, message: str, *args) -> None:
        text = message % args
        if text not in self._said and dist_utils.is_main_process():
            self._said.add(text)
            logger.info(text)

    def _loader(self, dataset, batches: list[list[int]]) -> DataLoader:
        # A private generator: creating a DataLoader iterator must not consume the global RNG,
        # or a resumed run would see different dropout masks than an uninterrupted one.
        return DataLoader(
            dataset,
            batch_sampler=batches,
            collate_fn=self.data_collator,
            num_workers=self.args.dataloader_num_workers,
            generator=torch.Generator(),
        )

    def get_eval_dataloader(self, eval_dataset=None) -> DataLoader:
        dataset = self._prepare_dataset(eval_dataset if eval_dataset is not None else self.eval_dataset, "evaluation")
        return self._loader(dataset, self._eval_batches(dataset))

    def _eval_batches(self, dataset) -> list[list[int]]:
        idx = du.shard_indices(len(dataset), dist_utils.world_size(), dist_utils.rank())
        bs = self.args.per_device_eval_batch_size
        lengths = du.sequence_lengths(dataset) if self.args.eval_group_by_length else None
        if lengths is not None:
            return du.length_grouped_batches(idx, lengths, bs)
        return [idx[i : i + bs] for i in range(0, len(idx), bs)]

    def _move(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v.to(self.device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}

    # --- optimizer -----------------------------------------------------------------------------
    def create_optimizer_and_scheduler(self, num_training_steps: int) -> None:
        a = self.args
        if self.optimizer is None:
            self.optimizer = create_adamw(
                self.model, a.learning_rate, a.weight_decay, (a.adam_beta1, a.adam_beta2), a.adam_epsilon
            )
        if self.lr_scheduler is None:
            self.lr_scheduler = get_scheduler(
                a.lr_scheduler_type, self.optimizer, a.get_warmup_steps(num_training_steps), num_training_steps
            )

    # --- training -----------------------------------------------------------------------------
    def train(self, resume_from_checkpoint: str | bool | None = None, trial=None, **kwargs) -> TrainOutput:
        if kwargs:
            raise TypeError(f"train() got unexpected arguments {sorted(kwargs)}")
        a = self.args
        if dist_utils.is_main_process():  # first, so that a save finished here can be resumed from
            for stale in trainer_checkpoints.recover_interrupted_saves(a.output_dir):
                logger.info("Removed %s, left by a save that was interrupted", stale)
        dist_utils.barrier()
        resume = self._resolve_resume(resume_from_checkpoint or a.resume_from_checkpoint)
        trainer_checkpoints.set_seed(a.seed)
        if self.model_init is not None:
            self.model = self.call_model_init(trial)
            self.optimizer, self.lr_scheduler = None, None
        if self.train_dataset is None:
            raise ValueError("train() needs a train_dataset")
        train_set = self._prepare_dataset(self.train_dataset, "training")
        du.check_labels(train_set, self.model, "training")
        if self.eval_dataset is not None:
            du.check_labels(self._prepare_dataset(self.eval_dataset, "evaluation"), self.model, "evaluation")
        self._check_best_metric_is_computable()
        self.model.to(self.device)
        # Inference swaps (optimize_for_inference, or from_pretrained(dtype=bfloat16) on CPU) do not
        # train: put the plain modules back on the same parameters. Then the dropout mask option.
        restore_for_training(self.model)
        if a.fast_dropout:
            use_fast_dropout(self.model)
        if a.gradient_checkpointing:
            if not hasattr(self.model, "gradient_checkpointing_enable"):
                raise ValueError(f"{type(self.model).__name__} does not support gradient_checkpointing")
            self.model.gradient_checkpointing_enable()

        world, rank = dist_utils.world_size(), dist_utils.rank()
        seed = a.data_seed if a.data_seed is not None else a.seed
        batches_per_epoch = len(
            du.epoch_batches(
                len(train_set), a.per_device_train_batch_size, 0, seed, world, rank, drop_last=a.dataloader_drop_last
            )
        )
        steps_per_epoch = max(1, math.ceil(batches_per_epoch / a.gradient_accumulation_steps))
        max_steps = a.max_steps if a.max_steps > 0 else math.ceil(a.num_train_epochs * steps_per_epoch)
        num_epochs = math.ceil(max_steps / steps_per_epoch)
        self.create_optimizer_and_scheduler(max_steps)
        if a.fp16 and self.device.type == "cuda":
            self.scaler = torch.amp.GradScaler("cuda")
        model = self._wrap_model()

        self.state = TrainerState(
            max_steps=max_steps,
            num_train_epochs=num_epochs,
            logging_steps=a.logging_steps,
            eval_steps=a.eval_steps or a.logging_steps,
            save_steps=a.save_steps,
            train_batch_size=a.per_device_train_batch_size,
            is_local_process_zero=a.local_process_index == 0,
            is_world_process_zero=rank == 0,
            is_hyper_param_search=trial is not None,
        )
        start_epoch, skip_steps = 0, 0
        if resume is not None:
            start_epoch, skip_steps = self._load_checkpoint(resume, steps_per_epoch)
        self._log_header(len(train_set), num_epochs, max_steps, world)

        tr_loss = torch.zeros((), dtype=self._loss_dtype(), device=self.device)
        logged_loss, logged_step = 0.0, self.state.global_step
        start = time.time()
        steps_this_run = 0
        progress = self._progress_bar(max_steps, self.state.global_step)
        self._call("on_train_begin", model=self.model)
        # Re-launching a finished run with resume_from_checkpoint=True must not step again (the
        # reference trains one step past max_steps here).
        if self.state.global_step >= max_steps:
            logger.warning(
                "Training already finished: %s is at step %d of max_steps %d; nothing to train (raise "
                "max_steps or num_train_epochs to train further)",
                resume,
                self.state.global_step,
                max_steps,
            )
            num_epochs = start_epoch
        for epoch in range(start_epoch, num_epochs):
            batches = du.epoch_batches(
                len(train_set),
                a.per_device_train_batch_size,
                epoch,
                seed,
                world,
                rank,
                drop_last=a.dataloader_drop_last,
            )
            groups = [
                batches[i : i + a.gradient_accumulation_steps]
                for i in range(0, len(batches), a.gradient_accumulation_steps)
            ]
            done = skip_steps if epoch == start_epoch else 0
            stream = iter(self._loader(train_set, [b for g in groups[done:] for b in g]))
            self._call("on_epoch_begin")
            for step_in_epoch in range(done, len(groups)):
                micro = [next(stream) for _ in groups[step_in_epoch]]
                self._call("on_step_begin")
                tr_loss += self._accumulate(model, micro)
                self._optimizer_step(model)
                self.state.global_step += 1
                steps_this_run += 1
                self.state.epoch = epoch + (step_in_epoch + 1) / len(groups)
                progress.update(1)
                self._call("on_step_end")
                end_of_epoch = step_in_epoch + 1 == len(groups)
                logged_loss, logged_step = self._maybe_log_save_evaluate(
                    tr_loss, logged_loss, logged_step, epoch, step_in_epoch + 1, end_of_epoch, max_steps
                )
                if self.control.should_training_stop or self.state.global_step >= max_steps:
                    break
            self._call("on_epoch_end")
            if self.control.should_training_stop or self.state.global_step >= max_steps:
                break
        progress.close()
        return self._finish_training(tr_loss, steps_this_run, start, len(train_set))

    def _accumulate(self, model, micro: list[dict[str, Any]]) -> torch.Tensor:
        """Forward/backward each batch of one optimizer step; the loss is the mean over all items.

        Each batch's mean loss is weighted by its share of the loss terms (labels that are not
        -100) of the whole accumulated batch, summed over processes; DDP averages gradients over
        processes, hence the factor ``world``. Returns this process's share of the step's loss.
        """
        world = dist_utils.world_size()
        items = [du.count_items(b) for b in micro]
        total = dist_utils.sum_scalar(sum(items), self.device)
        step_loss = torch.zeros((), dtype=self._loss_dtype(), device=self.device)  # no host sync per step
        model.train()
        for i, batch in enumerate(micro):
            sync = i == len(micro) - 1 or not hasattr(model, "no_sync")
            with contextlib.nullcontext() if sync else model.no_sync():
                with self._autocast():
                    loss = self.compute_loss(model, self._move(batch))
                share = items[i] / total if total > 0 else 1.0 / (len(micro) * world)
                scaled = loss * (share * world)
                (self.scaler.scale(scaled) if self.scaler is not None else scaled).backward()
            step_loss += loss.detach().to(step_loss.dtype) * share
            self._call("on_substep_end")
        return step_loss

    def _loss_dtype(self) -> torch.dtype:
        return torch.float32 if self.device.type == "mps" else torch.float64  # MPS has no float64

    def compute_loss(self, model, inputs: dict[str, Any], return_outputs: bool = False):
        outputs = model(**inputs)
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs[0]
        if loss is None:
            raise ValueError(
                f"the model returned no loss; the batch has keys {sorted(inputs)} — pass labels (the "
                "column 'label' or 'labels') or override Trainer.compute_loss"
            )
        return (loss, outputs) if return_outputs else loss

    def _optimizer_step(self, model) -> None:
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        if self.args.max_grad_norm and self.args.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), self.args.max_grad_norm)
        self._call("on_pre_optimizer_step")
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self._call("on_optimizer_step")
        self.lr_scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)

    def _maybe_log_save_evaluate(
        self, tr_loss, logged_loss, logged_step, epoch, steps_in_epoch, end_of_epoch, max_steps
    ):
        a, step = self.args, self.state.global_step
        # The last step is evaluated and saved whatever the strategy's period, as transformers 5.24
        # does (4.57 saves there too, and evaluates there with "epoch"): max_steps or a fractional
        # num_train_epochs ending mid-epoch would otherwise leave the final model unscored and unsaved.
        last = step >= max_steps
        due = _due(a.logging_strategy, a.logging_steps, step, end_of_epoch) or (a.logging_first_step and step == 1)
        if due or self.control.should_log:
            total = dist_utils.sum_scalar(tr_loss.item(), self.device)
            loss = (total - logged_loss) / max(1, step - logged_step)
            self.log({"loss": round(loss, 4), "learning_rate": self.lr_scheduler.get_last_lr()[0]})
            logged_loss, logged_step = total, step
            self._last_train_loss = loss
        if _due(a.eval_strategy, a.eval_steps, step, end_of_epoch, last) or self.control.should_evaluate:
            metrics = self.evaluate()
            self._update_best(metrics)
            self._log_table_row(metrics)
        if _due(a.save_strategy, a.save_steps, step, end_of_epoch, last) or self.control.should_save:
            self._save_checkpoint(epoch, steps_in_epoch)
        self.control.should_log = self.control.should_evaluate = self.control.should_save = False
        return logged_loss, logged_step

    def _finish_training(self, tr_loss, steps_this_run: int, start: float, n_examples: int) -> TrainOutput:
        runtime = time.time() - start
        total = dist_utils.sum_scalar(tr_loss.item(), self.device)
        train_loss = total / max(1, steps_this_run) if steps_this_run else 0.0
        if self.args.load_best_model_at_end and self.state.best_model_checkpoint:
            logger.info(
                "Loading best model from %s (score: %s).", self.state.best_model_checkpoint, self.state.best_metric
            )
            self._load_weights(Path(self.state.best_model_checkpoint))
        metrics = {
            "train_runtime": round(runtime, 4),
            "train_samples_per_second": round(steps_this_run * self._global_batch() / max(runtime, 1e-9), 3),
            "train_steps_per_second": round(steps_this_run / max(runtime, 1e-9), 3),
            "train_loss": train_loss,
            "epoch": self.state.epoch,
        }
        self.log(dict(metrics))
        self._call("on_train_end", model=self.model)
        if self.args.gradient_checkpointing and hasattr(self.model, "gradient_checkpointing_disable"):
            self.model.gradient_checkpointing_disable()
        return TrainOutput(self.state.global_step, train_loss, metrics)

    def _global_batch(self) -> int:
        a = self.args
        return a.per_device_train_batch_size * a.gradient_accumulation_steps * dist_utils.world_size()

    def _wrap_model(self):
        if not self.is_distributed:
            return self.model
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(self.model, device_ids=ids)

    # --- evaluation and prediction ------------------------------------------------------------------
    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        dataset = eval_dataset if eval_dataset is not None else self.eval_dataset
        if dataset is None:
            raise ValueError("evaluate() needs an eval_dataset (pass one here or to the Trainer)")
        start = time.time()
        # Without compute_metrics nothing reads the logits, so none are gathered (as transformers
        # does): a GPT-2 evaluation would otherwise hold batch x length x 50,257 floats per batch.
        loss_only = self.compute_metrics is None or self.args.prediction_loss_only
        out = self._prediction_loop(dataset, metric_key_prefix, "evaluation", loss_only)
        out.metrics.update(_speed(metric_key_prefix, start, len(dataset), self.args.per_device_eval_batch_size))
        if self.state.epoch is not None:
            out.metrics["epoch"] = self.state.epoch
        self.log(out.metrics)
        self._call("on_evaluate", metrics=out.metrics)
        return out.metrics

    def predict(self, test_dataset, ignore_keys=None, metric_key_prefix: str = "test") -> PredictionOutput:
        start = time.time()
        out = self._prediction_loop(test_dataset, metric_key_prefix, "test", self.args.prediction_loss_only)
        out.metrics.update(_speed(metric_key_prefix, start, len(test_dataset), self.args.per_device_eval_batch_size))
        self._call("on_predict", metrics=out.metrics)
        return out

    def _prediction_loop(self, dataset, prefix: str, description: str, loss_only: bool) -> PredictionOutput:
        loader = self.get_eval_dataloader(dataset)
        batches = loader.batch_sampler if isinstance(loader.batch_sampler, list) else []
        order = [i for batch in batches for i in batch]  # which row each prediction belongs to
        self.model.to(self.device)
        self.model.eval()
        label_names = self.args.label_names
        preds, labels, loss_sum, n, with_loss = [], [], 0.0, 0, 0
        with torch.no_grad():
            for batch in loader:
                batch = self._move(batch)
                names = label_names or [k for k in ("labels", "start_positions", "end_positions") if k in batch]
                with self._autocast():
                    outputs = self.model(**batch)
                size = next(v for v in batch.values() if isinstance(v, torch.Tensor)).shape[0]
                if isinstance(outputs, dict) and outputs.get("loss") is not None:
                    loss_sum += outputs["loss"].item() * size
                    with_loss += 1
                n += size
                if loss_only:
                    continue
                preds.append(du.to_numpy(_logits(outputs)))
                if names:
                    found = tuple(batch[k] for k in names if k in batch)
                    labels.append(du.to_numpy(found[0] if len(found) == 1 else found))
        parts = dist_utils.gather_objects((preds, labels, loss_sum, n, order, with_loss))
        predictions = du.concat_nested([p for part in parts for p in part[0]])
        label_ids = du.concat_nested([p for part in parts for p in part[1]]) if labels else None
        order = [i for part in parts for i in part[4]]
        if order != sorted(order):  # length-grouped batches: back to dataset order
            predictions, label_ids = du.restore_order(predictions, order), du.restore_order(label_ids, order)
        total_loss, total_n = sum(p[2] for p in parts), sum(p[3] for p in parts)
        metrics: dict[str, float] = {}
        if self.compute_metrics is not None and label_ids is not None:
            metrics = dict(self.compute_metrics(EvalPrediction(predictions, label_ids)))
        # No loss is reported for a model that returned none (unlabelled rows, loss-only evaluate).
        if any(p[5] for p in parts) or label_ids is not None or self.args.prediction_loss_only:
            metrics["loss"] = total_loss / max(1, total_n)
        metrics = {k if k.startswith(f"{prefix}_") else f"{prefix}_{k}": _plain(v) for k, v in metrics.items()}
        return PredictionOutput(predictions, label_ids, metrics)

    # --- best model ---------------------------------------------------------------------------------
    def _best_metric_key(self) -> str | None:
        name = self.args.metric_for_best_model
        if name is None:
            return None
        return name if name.startswith("eval_") else f"eval_{name}"

    def _check_best_metric_is_computable(self) -> None:
        key = self._best_metric_key()
        if key and key != "eval_loss" and self.compute_metrics is None:
            raise ValueError(
                f"metric_for_best_model={self.args.metric_for_best_model!r} but no compute_metrics was "
                "given, so only eval_loss will exist; pass compute_metrics or use metric_for_best_model='loss'"
            )

    def _update_best(self, metrics: dict[str, float]) -> None:
        key = self._best_metric_key()
        if key is None:
            return
        if key not in metrics:  # detected at the first evaluation, before any checkpoint is judged
            raise KeyError(
                f"metric_for_best_model={self.args.metric_for_best_model!r} looks for {key!r}, but the "
                f"evaluation returned only {sorted(metrics)}; make compute_metrics return "
                f"{key.removeprefix('eval_')!r} or choose one of those"
            )
        value, best = metrics[key], self.state.best_metric
        better = best is None or (value > best if self.args.greater_is_better else value < best)
        if better:
            self.state.best_metric = value
            self.state.best_global_step = self.state.global_step

    # --- checkpoints -------------------------------------------------------------------------------
    def _save_checkpoint(self, epoch: int, steps_in_epoch: int) -> None:
        a, step = self.args, self.state.global_step
        name = f"{trainer_checkpoints.PREFIX_CHECKPOINT_DIR}-{step}"
        if self.state.best_global_step == step:
            self.state.best_model_checkpoint = str(Path(a.output_dir) / name)
        world, rank = dist_utils.world_size(), dist_utils.rank()
        if world > 1:  # every rank's RNG state, gathered to rank 0 which writes the folder
            rngs = dist_utils.gather_objects(trainer_checkpoints.rng_state())
        else:
            rngs = [trainer_checkpoints.rng_state()]

        def write(folder: Path) -> None:
            self._write_model(folder)
            if not a.save_only_model:
                trainer_checkpoints.save_training_state(
                    folder, self.optimizer, self.lr_scheduler, self.scaler, save_rng=False
                )
                for r, state in enumerate(rngs):
                    weight_files.atomic_torch_save(state, folder / trainer_checkpoints.rng_file_name(world, r))
            trainer_checkpoints.save_data_state(
                folder, epoch, steps_in_epoch, a.data_seed if a.data_seed is not None else a.seed
            )
            self.state.save_to_json(folder / trainer_checkpoints.TRAINER_STATE_NAME)

        if rank == 0:
            trainer_checkpoints.write_checkpoint(a.output_dir, step, write)
            for gone in trainer_checkpoints.rotate_checkpoints(
                a.output_dir, a.save_total_limit, self.state.best_model_checkpoint
            ):
                logger.info("Deleting older checkpoint [%s] due to args.save_total_limit", gone)
        dist_utils.barrier()
        self._call("on_save")

    def _write_model(self, folder: Path) -> None:
        if hasattr(self.model, "save_pretrained"):
            self.model.save_pretrained(folder)
        else:
            weight_files.write_state_dict(self.model.state_dict(), folder)
        if self.processing_class is not None and hasattr(self.processing_class, "save_pretrained"):
            self.processing_class.save_pretrained(folder)
        weight_files.atomic_write_text(folder / trainer_checkpoints.TRAINING_ARGS_NAME, self.args.to_json_string())

    def save_model(self, output_dir: str | None = None) -> None:
        """Write the model (and tokenizer) as a ``from_pretrained`` folder; rank 0 only."""
        if dist_utils.is_main_process():
            folder = Path(output_dir or self.args.output_dir)
            folder.mkdir(parents=True, exist_ok=True)
            self._write_model(folder)
        dist_utils.barrier()

    def _resolve_resume(self, resume: str | bool | None) -> Path | None:
        if resume in (None, False, ""):
            return None
        if resume is True:
            last = trainer_checkpoints.get_last_checkpoint(self.args.output_dir)
            if last is None:
                raise ValueError(f"resume_from_checkpoint=True but {self.args.output_dir} holds no checkpoint")
            return Path(last)
        path = Path(resume)
        if not (path / trainer_checkpoints.TRAINER_STATE_NAME).is_file():
            raise ValueError(
                f"{path} is not a complete checkpoint folder (no {trainer_checkpoints.TRAINER_STATE_NAME})"
            )
        return path

    def _load_weights(self, folder: Path) -> None:
        state = weight_files.read_state_dict(folder)
        loadable, _ = weight_files.reconcile(self.model, state, False)
        self.model.load_state_dict(loadable, strict=False)
        if hasattr(self.model, "tie_weights"):
            self.model.tie_weights()

    def _load_checkpoint(self, folder: Path, steps_per_epoch: int) -> tuple[int, int]:
        """Restore weights, optimizer, scheduler, state and RNG; returns (epoch, steps done in it)."""
        logger.info("Resuming training from %s", folder)
        self._load_weights(folder)
        self.optimizer.load_state_dict(trainer_checkpoints.load_torch(folder / trainer_checkpoints.OPTIMIZER_NAME))
        self.lr_scheduler.load_state_dict(trainer_checkpoints.load_torch(folder / trainer_checkpoints.SCHEDULER_NAME))
        if self.scaler is not None and (folder / trainer_checkpoints.SCALER_NAME).is_file():
            self.scaler.load_state_dict(trainer_checkpoints.load_torch(folder / trainer_checkpoints.SCALER_NAME))
        saved = TrainerState.load_from_json(folder / trainer_checkpoints.TRAINER_STATE_NAME)
        for key in (
            "global_step",
            "epoch",
            "log_history",
            "best_metric",
            "best_global_step",
            "best_model_checkpoint",
            "total_flos",
        ):
            setattr(self.state, key, getattr(saved, key))
        rng_path = folder / trainer_checkpoints.rng_file_name(dist_utils.world_size(), dist_utils.rank())
        if rng_path.is_file():
            trainer_checkpoints.restore_rng_state(trainer_checkpoints.load_torch(rng_path))
        else:
            logger.warning(
                "%s has no %s: dropout after resuming will differ from an uninterrupted run", folder, rng_path.name
            )
        data = trainer_checkpoints.load_data_state(folder)
        if data is None:  # a checkpoint written by another trainer: derive the position from the step
            epoch, done = divmod(self.state.global_step, steps_per_epoch)
        else:
            epoch, done = data["epoch"], data["batches_in_epoch"]
        if done >= steps_per_epoch:
            epoch, done = epoch + 1, 0
        return epoch, done

    # --- logging --------------------------------------------------------------------------------
    def log(self, logs: dict[str, float]) -> None:
        if self.state.epoch is not None:
            logs = {**logs, "epoch": self.state.epoch}
        self.state.log_history.append({**logs, "step": self.state.global_step})
        if dist_utils.is_main_process():
            logger.debug("%s", logs)
        self._call("on_log", logs=logs)

    def _log_header(self, n: int, epochs: int, max_steps: int, world: int) -> None:
        if not dist_utils.is_main_process():
            return
        a = self.args
        lines = [
            "***** Running training *****",
            f"  Num examples = {n:,}",
            f"  Num Epochs = {epochs:,}",
            f"  Instantaneous batch size per device = {a.per_device_train_batch_size:,}",
            f"  Total train batch size (w. parallel, distributed & accumulation) = {self._global_batch():,}",
            f"  Gradient Accumulation steps = {a.gradient_accumulation_steps}",
            f"  Total optimization steps = {max_steps:,}",
            f"  Number of trainable parameters = "
            f"{sum(p.numel() for p in self.model.parameters() if p.requires_grad):,}",
        ]
        logger.info("\n".join(lines))

    def _log_table_row(self, metrics: dict[str, float]) -> None:
        """One row per evaluation: Epoch | Training Loss | Validation Loss | metrics (as the course shows)."""
        if not dist_utils.is_main_process():
            return
        skip = ("eval_loss", "eval_runtime", "eval_samples_per_second", "eval_steps_per_second", "epoch")
        names = [k for k in metrics if k not in skip]
        if not self._table_header_logged:
            cols = ["Epoch", "Step", "Training Loss", "Validation Loss"]
            cols += [k.removeprefix("eval_").replace("_", " ").title() for k in names]
            logger.info(" | ".join(cols))
            self._table_header_logged = True
        train_loss = getattr(self, "_last_train_loss", None)
        row = [
            f"{self.state.epoch:.2f}",
            str(self.state.global_step),
            "No log" if train_loss is None else f"{train_loss:.6f}",
            f"{metrics.get('eval_loss', float('nan')):.6f}",
        ]
        row += [f"{metrics[k]:.6f}" if isinstance(metrics[k], float) else str(metrics[k]) for k in names]
        logger.info(" | ".join(row))

    def _progress_bar(self, total: int, initial: int):
        from tqdm.auto import tqdm

        disable = self.args.disable_tqdm
        if disable is None:
            disable = not sys.stderr.isatty()
        return tqdm(
            total=total, initial=initial, disable=disable or not dist_utils.is_main_process(), dynamic_ncols=True
        )

    # --- hyperparameter search ------------------------------------------------------------------------
    def hyperparameter_search(
        self,
        hp_space=None,
        compute_objective=None,
        n_trials: int = 20,
        direction: str = "minimize",
        backend: str | None = None,
        **kwargs,
    ):
        from .search import run_hyperparameter_search

        return run_hyperparameter_search(self, hp_space, compute_objective, n_trials, direction, backend, **kwargs)


def _due(strategy: str, every: float | None, step: int, end_of_epoch: bool, last: bool = False) -> bool:
    if strategy == "epoch":
        return end_of_epoch or last
    if strategy == "steps" and every:
        return step % int(every) == 0 or last
    return False


def _speed(prefix: str, start: float, n: int, batch: int) -> dict[str, float]:
    runtime = time.time() - start
    return {
        f"{prefix}_runtime": round(runtime, 4),
        f"{prefix}_samples_per_second": round(n / max(runtime, 1e-9), 3),
        f"{prefix}_steps_per_second": round(math.ceil(n / batch) / max(runtime, 1e-9), 3),
    }


def _logits(outputs: Any) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """The prediction tensors of a model output: every field but loss, hidden states and caches."""
    skip = {
        "loss",
        "hidden_states",
        "attentions",
        "cross_attentions",
        "past_key_values",
        "encoder_hidden_states",
        "encoder_attentions",
        "encoder_last_hidden_state",
        "decoder_hidden_states",
        "decoder_attentions",
    }
    if isinstance(outputs, dict):
        values = [v for k, v in outputs.items() if k not in skip and isinstance(v, torch.Tensor)]
    else:
        values = [v for v in outputs if isinstance(v, torch.Tensor)]
    return values[0] if len(values) == 1 else tuple(values)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic | torch.Tensor) else value


def _setup_logging(level_name: str) -> None:
    level = _LOG_LEVELS.get(level_name)
    if level is None:
        raise ValueError(f"log_level must be one of {sorted(_LOG_LEVELS)}, got {level_name!r}")
    logger.setLevel(level)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    if os.environ.get("RANK", "0") != "0":
        logger.setLevel(logging.WARNING)
