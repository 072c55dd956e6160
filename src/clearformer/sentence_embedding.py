"""Sentence embeddings from a sentence-transformers folder, read without sentence-transformers.

A sentence-transformers checkpoint is an HF model folder plus ``modules.json`` naming the steps
after the transformer: a Pooling module (its ``1_Pooling/config.json`` says mean, CLS, max or
mean-sqrt-len pooling) and optionally Normalize (L2). This module runs exactly those steps.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
import torch.nn.functional as F

from .hub import resolve_pretrained_dir
from .models.auto import AutoModel

_POOLING_MODES = ("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens")


def read_pipeline(folder: Path) -> tuple[list[str], bool]:
    """The pooling modes and whether to L2-normalise, as modules.json and 1_Pooling declare them."""
    modules_file = folder / "modules.json"
    if not modules_file.is_file():  # a plain HF folder: mean pooling is the common default
        return ["mean_tokens"], False
    modules = json.loads(modules_file.read_text())
    modes, normalize = [], False
    for module in modules:
        kind = module["type"].rsplit(".", 1)[-1]
        if kind == "Pooling":
            cfg = json.loads((folder / module["path"] / "config.json").read_text())
            modes = [m for m in _POOLING_MODES if cfg.get(f"pooling_mode_{m}")]
        elif kind == "Normalize":
            normalize = True
        elif kind != "Transformer":
            raise ValueError(f"{modules_file} lists a {kind} module, which clearformer cannot run yet")
    if not modes:
        raise ValueError(f"{folder} declares no pooling mode clearformer knows ({', '.join(_POOLING_MODES)})")
    return modes, normalize


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, modes: list[str]) -> torch.Tensor:
    """(B, L, H) token vectors -> (B, H * len(modes)) sentence vectors, ignoring padding."""
    mask = attention_mask[..., None].to(hidden.dtype)
    counts = mask.sum(1).clamp(min=1e-9)
    parts = []
    for mode in modes:
        if mode == "cls_token":
            parts.append(hidden[:, 0])
        elif mode == "mean_tokens":
            parts.append((hidden * mask).sum(1) / counts)
        elif mode == "mean_sqrt_len_tokens":
            parts.append((hidden * mask).sum(1) / counts.sqrt())
        elif mode == "max_tokens":
            parts.append(hidden.masked_fill(mask == 0, torch.finfo(hidden.dtype).min).max(1).values)
    return torch.cat(parts, dim=-1)


class SentenceEmbedder:
    """``SentenceEmbedder(folder).encode(["a sentence", ...])`` -> (N, H) tensor."""

    def __init__(self, name_or_path: str | os.PathLike, device: str | None = None, max_length: int = 256) -> None:
        from .tokenization import AutoTokenizer

        self.folder = resolve_pretrained_dir(name_or_path)
        self.model = AutoModel.from_pretrained(self.folder, device=device)
        self.tokenizer = AutoTokenizer.from_pretrained(self.folder)
        self.modes, self.normalize = read_pipeline(self.folder)
        self.max_length = max_length

    @torch.inference_mode()
    def encode(self, sentences: list[str], batch_size: int = 32) -> torch.Tensor:
        out = []
        for start in range(0, len(sentences), batch_size):
            batch = self.tokenizer(
                sentences[start : start + batch_size],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            ).to(self.model.device)
            hidden = self.model(**batch).last_hidden_state
            vectors = pool(hidden, batch["attention_mask"], self.modes)
            out.append(F.normalize(vectors, dim=-1) if self.normalize else vectors)
        return torch.cat(out)
