"""Fixtures for the task tests: the real MiniLM tokenizer, a tiny random BERT folder beside it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tokenizer(minilm_dir: Path):
    from clearformer.tokenization import AutoTokenizer

    return AutoTokenizer.from_pretrained(minilm_dir)


@pytest.fixture(scope="session")
def tiny_bert_dir(minilm_dir: Path, tmp_path_factory) -> Path:
    """A 2-layer, 32-wide random BERT with MiniLM's vocabulary and tokenizer files (fast to train)."""
    folder = tmp_path_factory.mktemp("tiny_bert")
    config = {
        "vocab_size": 30522,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
    }
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm_dir / name, folder / name)
    import torch

    from clearformer import BertConfig, BertModel

    torch.manual_seed(0)
    BertModel(BertConfig(**config)).save_pretrained(folder)
    return folder
