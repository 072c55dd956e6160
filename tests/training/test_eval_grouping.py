"""eval_group_by_length: batches of similar length, less padding, the same predictions in dataset order."""

from __future__ import annotations

import numpy as np
import torch

from clearformer.data.collators import DataCollatorForTokenClassification, DataCollatorWithPadding
from clearformer.models.bert.modeling_bert import BertForTokenClassification
from clearformer.training import Trainer, TrainingArguments
from clearformer.training.data_utils import length_grouped_batches, restore_order

from .tiny import VOCAB, tiny_config, tiny_model


class _Tok:
    pad_token_id = 0
    padding_side = "right"

    def pad(self, features, padding=True, return_tensors="pt", **kwargs):
        width = max(len(f["input_ids"]) for f in features)
        out = {"input_ids": [], "attention_mask": []}
        for f in features:
            extra = width - len(f["input_ids"])
            out["input_ids"].append(list(f["input_ids"]) + [0] * extra)
            out["attention_mask"].append([1] * len(f["input_ids"]) + [0] * extra)
        for key in features[0]:
            if key not in out:
                out[key] = [f[key] for f in features]
        return {k: torch.tensor(v) for k, v in out.items()}


def _rows(n: int, token_labels: bool = False) -> list[dict]:
    g = torch.Generator().manual_seed(1)
    rows = []
    for i in range(n):
        length = 3 + (i * 7) % 20  # lengths 3..22, interleaved so plain batches mix them
        ids = torch.randint(3, VOCAB, (length,), generator=g).tolist()
        label = [x % 3 for x in ids] if token_labels else ids[0] % 2
        rows.append({"input_ids": ids, "labels": label})
    return rows


def _padding_seen(trainer: Trainer, rows: list[dict]) -> int:
    loader = trainer.get_eval_dataloader(rows)
    return sum(int((batch["attention_mask"] == 0).sum()) for batch in loader)


def test_grouped_batches_and_order_restored():
    lengths = [5, 1, 9, 3, 9, 2]
    batches = length_grouped_batches(list(range(6)), lengths, 2)
    assert batches == [[2, 4], [0, 3], [5, 1]]
    order = [i for b in batches for i in b]
    values = np.array([lengths[i] for i in order])
    assert restore_order(values, order).tolist() == lengths


def test_sequence_classification_same_predictions_and_loss_less_padding(tmp_path):
    rows = _rows(40)
    results, padding = [], []
    for grouped in (False, True):
        args = TrainingArguments(
            str(tmp_path / str(grouped)), per_device_eval_batch_size=8, eval_group_by_length=grouped, report_to="none"
        )
        trainer = Trainer(tiny_model(), args, data_collator=DataCollatorWithPadding(_Tok()))
        results.append(trainer.predict(rows))
        padding.append(_padding_seen(trainer, rows))
    plain, grouped = results
    assert padding[1] < padding[0] / 3, padding
    np.testing.assert_allclose(grouped.predictions, plain.predictions, atol=1e-5)
    assert np.array_equal(grouped.label_ids, plain.label_ids)
    assert abs(grouped.metrics["test_loss"] - plain.metrics["test_loss"]) < 1e-5


def test_token_classification_predictions_come_back_in_dataset_order(tmp_path):
    rows = _rows(24, token_labels=True)
    out = []
    for grouped in (False, True):
        torch.manual_seed(0)
        model = BertForTokenClassification.from_config(tiny_config(num_labels=3))
        args = TrainingArguments(
            str(tmp_path / str(grouped)), per_device_eval_batch_size=8, eval_group_by_length=grouped, report_to="none"
        )
        out.append(Trainer(model, args, data_collator=DataCollatorForTokenClassification(_Tok())).predict(rows))
    plain, grouped = out
    # rows padded to another width inside their batch: compare each row's real tokens only
    for i, row in enumerate(rows):
        n = len(row["input_ids"])
        np.testing.assert_allclose(grouped.predictions[i, :n], plain.predictions[i, :n], atol=1e-5)
        assert grouped.label_ids[i, :n].tolist() == row["labels"]


def test_prediction_loss_only_keeps_the_loss_and_no_logits(tmp_path):
    rows = _rows(24)
    out = []
    for loss_only in (False, True):
        args = TrainingArguments(
            str(tmp_path / str(loss_only)), per_device_eval_batch_size=8, prediction_loss_only=loss_only
        )
        trainer = Trainer(tiny_model(), args, data_collator=DataCollatorWithPadding(_Tok()))
        trainer.compute_metrics = lambda p: {"rows": float(len(p.predictions))}
        out.append(trainer.predict(rows))
    full, loss_only = out
    assert loss_only.predictions is None and loss_only.label_ids is None
    assert "test_rows" in full.metrics and "test_rows" not in loss_only.metrics
    assert abs(loss_only.metrics["test_loss"] - full.metrics["test_loss"]) < 1e-7
