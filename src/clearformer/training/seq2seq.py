"""Seq2SeqTrainingArguments and Seq2SeqTrainer: the Trainer plus evaluation by generation.

With ``predict_with_generate=True`` evaluation/prediction runs ``model.generate`` (greedy, or beam
search with ``generation_num_beams``) and hands the generated ids to ``compute_metrics`` (BLEU,
ROUGE), padded with the pad id to ``generation_max_length`` as transformers does, so every batch
has the same width. The loss is still computed with teacher forcing on the labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from . import data_utils as du
from . import distributed as dist_utils
from .trainer import EvalPrediction, PredictionOutput, Trainer, _plain
from .training_args import TrainingArguments


@dataclass
class Seq2SeqTrainingArguments(TrainingArguments):
    predict_with_generate: bool = False  # evaluate on generated text (needed for BLEU/ROUGE)
    generation_max_length: int | None = None  # None: the model's generation_config.max_length
    generation_num_beams: int | None = None  # None: the model's generation_config.num_beams
    sortish_sampler: bool = False  # accepted for the course's scripts; batches are not length-sorted here


class Seq2SeqTrainer(Trainer):
    """``Trainer`` whose evaluate/predict can generate; ``max_length``/``num_beams`` override the args."""

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval", **gen_kwargs: Any):
        self._gen_kwargs = gen_kwargs
        return super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)

    def predict(self, test_dataset, ignore_keys=None, metric_key_prefix: str = "test", **gen_kwargs: Any):
        self._gen_kwargs = gen_kwargs
        return super().predict(test_dataset, ignore_keys, metric_key_prefix)

    def _generation_settings(self) -> dict[str, Any]:
        kwargs = dict(getattr(self, "_gen_kwargs", {}) or {})
        # As transformers: generation_max_length becomes max_length; with neither set, generate()'s
        # own rule applies (the model's generation_config, else 20 new tokens).
        if "max_length" not in kwargs and "max_new_tokens" not in kwargs and self.args.generation_max_length:
            kwargs["max_length"] = self.args.generation_max_length
        if "num_beams" not in kwargs:
            kwargs["num_beams"] = self.args.generation_num_beams or self.model.generation_config.num_beams
        return kwargs

    def _generate(self, batch: dict[str, Any], settings: dict[str, Any]) -> torch.Tensor:
        generated = self.model.generate(batch["input_ids"], attention_mask=batch.get("attention_mask"), **settings)
        # Every batch is padded to the run's length limit, so that batches concatenate.
        lengths = self.model.generation_config.copy()
        lengths.update(**{k: settings[k] for k in ("max_length", "max_new_tokens") if k in settings})
        prompt = 1 if self.model.config.is_encoder_decoder else batch["input_ids"].shape[1]
        width = self.model._resolve_max_length(lengths, prompt)
        pad = self.model.generation_config.pad_token_id
        pad = self.model.config.pad_token_id if pad is None else pad
        if generated.shape[1] < width:
            filler = generated.new_full((generated.shape[0], width - generated.shape[1]), pad if pad is not None else 0)
            generated = torch.cat([generated, filler], dim=1)
        return generated

    def _prediction_loop(self, dataset, prefix: str, description: str, loss_only: bool) -> PredictionOutput:
        # Loss only (evaluate without compute_metrics): nothing reads generated text, so none is made.
        if loss_only or not getattr(self.args, "predict_with_generate", False):
            return super()._prediction_loop(dataset, prefix, description, loss_only)
        loader = self.get_eval_dataloader(dataset)
        self.model.to(self.device)
        self.model.eval()
        settings = self._generation_settings()
        preds, labels, loss_sum, n = [], [], 0.0, 0
        with torch.no_grad():
            for batch in loader:
                batch = self._move(batch)
                size = batch["input_ids"].shape[0]
                if "labels" in batch:
                    outputs = self.model(**batch)
                    loss_sum += outputs["loss"].item() * size
                    labels.append(du.to_numpy(batch["labels"]))
                preds.append(du.to_numpy(self._generate(batch, settings)))
                n += size
        parts = dist_utils.gather_objects((preds, labels, loss_sum, n))
        predictions = du.concat_nested([p for part in parts for p in part[0]])
        label_ids = du.concat_nested([p for part in parts for p in part[1]]) if labels else None
        total_loss, total_n = sum(p[2] for p in parts), sum(p[3] for p in parts)
        metrics: dict[str, float] = {}
        if self.compute_metrics is not None and label_ids is not None:
            metrics = dict(self.compute_metrics(EvalPrediction(predictions, label_ids)))
        if label_ids is not None:
            metrics["loss"] = total_loss / max(1, total_n)
        metrics = {k if k.startswith(f"{prefix}_") else f"{prefix}_{k}": _plain(v) for k, v in metrics.items()}
        return PredictionOutput(predictions, label_ids, metrics)


__all__ = ["Seq2SeqTrainer", "Seq2SeqTrainingArguments"]
