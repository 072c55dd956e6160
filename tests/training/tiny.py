"""Tiny models and datasets shared by the training tests (hidden 32, 2 layers, CPU, seconds)."""

from __future__ import annotations

import torch

from clearformer.models.bert.configuration_bert import BertConfig
from clearformer.models.bert.modeling_bert import BertForSequenceClassification

VOCAB = 50


def tiny_config(**overrides) -> BertConfig:
    values = dict(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=32,
        num_labels=2,
    )
    values.update(overrides)
    num_labels = values.pop("num_labels")
    config = BertConfig(**values)
    config.num_labels = num_labels
    return config


def tiny_model(seed: int = 0, **overrides) -> BertForSequenceClassification:
    torch.manual_seed(seed)
    return BertForSequenceClassification.from_config(tiny_config(**overrides))


def tiny_rows(n: int = 64, seed: int = 0, length: int = 8, num_labels: int = 2) -> list[dict]:
    """Rows whose label is learnable: label = (first token is even)."""
    g = torch.Generator().manual_seed(seed)
    rows = []
    for _ in range(n):
        ids = torch.randint(3, VOCAB, (length,), generator=g).tolist()
        rows.append(
            {"input_ids": [1, *ids, 2], "attention_mask": [1] * (length + 2), "label": int(ids[0] % num_labels)}
        )
    return rows
