"""Checkpoints for the course-notebook walks: the course's ``distilbert-base-uncased`` stands here as a
tiny random DistilBERT that keeps the real uncased WordPiece vocabulary (MiniLM ships the same
30,522-entry bert-base-uncased vocab.txt), so every token id the notebooks print can be asserted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="session")
def distilbert_checkpoint(minilm_dir: Path, tmp_path_factory) -> str:
    from clearformer import DistilBertConfig, DistilBertModel

    folder = tmp_path_factory.mktemp("distilbert-base-uncased")
    torch.manual_seed(0)
    # Small enough that a few optimizer steps take well under a second on one core.
    config = DistilBertConfig(vocab_size=30522, dim=32, n_layers=2, n_heads=2, hidden_dim=64)
    DistilBertModel(config).save_pretrained(folder)
    shutil.copy(minilm_dir / "vocab.txt", folder / "vocab.txt")
    # Only vocab.txt + this config: MiniLM's tokenizer.json pads and truncates to 128, the course's
    # distilbert-base-uncased does neither (model_max_length 512).
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True, "model_max_length": 512}))
    return str(folder)


@pytest.fixture()
def in_tmp(tmp_path, monkeypatch) -> Path:
    """The notebooks write output folders ("test-glue", "test-squad") relative to the working dir."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
