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


def test_evaluate_lm_weights_each_batch_by_its_predicted_tokens():
    from clearformer import GPT2Config, GPT2LMHeadModel
    from clearformer.tasks import evaluate_lm

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=50, n_embd=16, n_layer=1, n_head=2, n_positions=32)).eval()
    ids = torch.randint(0, 50, (5, 12))
    labels = ids.clone()
    labels[3:, 6:] = -100  # the second batch predicts fewer tokens, so a plain mean of batch losses differs
    loader = [{"input_ids": ids[:3], "labels": labels[:3]}, {"input_ids": ids[3:], "labels": labels[3:]}]
    with torch.no_grad():
        logits = model(input_ids=ids).logits[:, :-1]
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, 50), labels[:, 1:].reshape(-1), reduction="sum")
    tokens = int((labels[:, 1:] != -100).sum())
    result = evaluate_lm(model, loader, causal=True)
    assert result["eval_tokens"] == tokens == 3 * 11 + 2 * 5
    assert math.isclose(result["eval_loss"], nll.item() / tokens, rel_tol=1e-5)
    assert result["eval_perplexity"] == math.exp(result["eval_loss"])
