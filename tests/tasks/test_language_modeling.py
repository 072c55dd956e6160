"""group_texts blocks (sizes, no token lost), masked-LM 80/10/10 through the collator, perplexity."""

from __future__ import annotations

import math

import torch

from clearformer.tasks import group_texts, lm_preprocess, masked_lm_collator, perplexity


def test_group_texts_blocks_are_full_and_keep_token_order(tokenizer, shared_data):
    lines = [
        line
        for line in (shared_data / "wikitext-2-raw" / "wiki.valid.raw").read_text().splitlines()[:60]
        if line.strip()
    ]
    encoded = dict(tokenizer(lines))
    flat = [t for row in encoded["input_ids"] for t in row]
    blocks = group_texts(block_size=64)(encoded)
    assert all(len(b) == 64 for b in blocks["input_ids"])
    assert len(blocks["input_ids"]) == len(flat) // 64
    assert [t for b in blocks["input_ids"] for t in b] == flat[: len(flat) // 64 * 64]
    assert blocks["labels"] == blocks["input_ids"]
    kept = group_texts(block_size=64, drop_last=False)(encoded)
    assert [t for b in kept["input_ids"] for t in b] == flat  # no token lost
    assert len(kept["input_ids"][-1]) == len(flat) % 64 or len(flat) % 64 == 0


def test_masked_lm_replaces_80_10_10_and_never_special_tokens(tokenizer):
    text = ["the quick brown fox jumps over the lazy dog " * 20] * 16
    rows = lm_preprocess(tokenizer, block_size=128, mlm=True)({"text": text})
    assert "labels" not in rows and "special_tokens_mask" in rows
    batch = masked_lm_collator(tokenizer, seed=0)(
        [{k: rows[k][i] for k in rows} for i in range(len(rows["input_ids"]))]
    )
    original = torch.tensor(rows["input_ids"])
    chosen = batch["labels"] != -100
    special = torch.tensor(rows["special_tokens_mask"]).bool()
    assert not (chosen & special).any()
    assert torch.equal(batch["labels"][chosen], original[chosen])
    share = chosen.sum().item() / (~special).sum().item()
    assert 0.12 < share < 0.18
    masked = (batch["input_ids"] == tokenizer.mask_token_id) & chosen
    kept = (batch["input_ids"] == original) & chosen
    n = chosen.sum().item()
    assert 0.75 < masked.sum().item() / n < 0.85 and 0.06 < kept.sum().item() / n < 0.14


def test_perplexity_is_exp_of_eval_loss():
    assert perplexity(2.0) == math.exp(2.0)
