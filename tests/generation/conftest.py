"""A tiny random GPT-2 written by transformers 5.24 (the oracle), loaded by both libraries."""

from __future__ import annotations

import pytest
import torch

transformers = pytest.importorskip("transformers", reason="transformers 5.24 is the oracle for these tests")

VOCAB = 97
EOS = [3, 5]


def build_tiny_gpt2(folder, seed: int = 0, **overrides):
    torch.manual_seed(seed)
    kwargs = dict(
        n_embd=32,
        n_layer=2,
        n_head=4,
        vocab_size=VOCAB,
        n_positions=64,
        initializer_range=0.3,
        bos_token_id=1,
        eos_token_id=EOS[0],
        pad_token_id=0,
    )
    kwargs.update(overrides)
    transformers.GPT2LMHeadModel(transformers.GPT2Config(**kwargs)).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory):
    return build_tiny_gpt2(tmp_path_factory.mktemp("tiny_gpt2"))


@pytest.fixture(scope="session")
def models(tiny_gpt2_dir):
    from clearformer.models.gpt2.modeling_gpt2 import GPT2LMHeadModel

    ref = transformers.GPT2LMHeadModel.from_pretrained(tiny_gpt2_dir, attn_implementation="eager").eval()
    ours = GPT2LMHeadModel.from_pretrained(tiny_gpt2_dir)
    return ref, ours


@pytest.fixture(scope="session")
def padded_batch():
    """Three prompts of lengths 9, 6 and 4, left padded to 9 (pad id 0)."""
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(6, VOCAB, (3, 9), generator=g)
    mask = torch.ones_like(ids)
    mask[1, :3] = 0
    mask[2, :5] = 0
    return ids.masked_fill(mask == 0, 0), mask
