"""A decoder's fp32 output projection stored column-major: same values and ties, visible, reversible."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import clearformer
from clearformer.inference import optimize_for_inference, restore_for_training
from clearformer.inference.column_major_linear import ColumnMajorLinear
from clearformer.inference.huge_pages import huge_page_advised_bytes, huge_pages_unavailable_reason


def _gpt2(seed: int = 0) -> clearformer.GPT2LMHeadModel:
    torch.manual_seed(seed)
    cfg = clearformer.GPT2Config(vocab_size=301, n_positions=32, n_embd=48, n_layer=2, n_head=4,
                                 bos_token_id=None, eos_token_id=None, pad_token_id=0)  # fmt: skip
    return clearformer.GPT2LMHeadModel(cfg).eval()


def test_gpt2_head_is_stored_column_major_tied_and_gives_the_same_logits_and_tokens():
    plain, model = _gpt2(), optimize_for_inference(_gpt2(), huge_pages=False)
    head = model.lm_head
    assert isinstance(head, ColumnMajorLinear) and "weight stored (in, out)" in repr(model)
    assert head.weight is model.transformer.wte.weight  # still tied
    assert head.weight.shape == (301, 48) and head.weight.stride() == (1, 301)
    assert torch.equal(head.weight, plain.lm_head.weight)
    ids = torch.randint(1, 301, (3, 9), generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        got, want = model(ids).logits, plain(ids).logits
        assert (got - want).abs().max() < 1e-5
        one = torch.randn(1, 48)  # the decoding shape: one row through the head alone
        assert (head(one) - plain.lm_head(one)).abs().max() < 1e-5
    greedy = dict(max_new_tokens=6, do_sample=False)
    assert torch.equal(model.generate(ids[:1], **greedy), plain.generate(ids[:1], **greedy))
    assert torch.equal(model.generate(ids, **greedy), plain.generate(ids, **greedy))


def test_saving_and_restoring_give_back_the_checkpoint_row_major(tmp_path):
    plain, model = _gpt2(), optimize_for_inference(_gpt2(), huge_pages=False)
    model.save_pretrained(tmp_path)
    again = clearformer.GPT2LMHeadModel.from_pretrained(tmp_path)
    for key, value in plain.state_dict().items():
        assert torch.equal(again.state_dict()[key], value), key
    with pytest.raises(RuntimeError, match="restore_for_training"):
        model.train()(torch.tensor([[1, 2]]))  # a training forward of the swapped head is refused
    restore_for_training(model)
    assert type(model.lm_head) is nn.Linear and model.lm_head.weight.is_contiguous()
    assert model.lm_head.weight is model.transformer.wte.weight
    assert torch.equal(model.lm_head.weight, plain.lm_head.weight)


def test_only_plain_fp32_decoder_heads_are_relaid():
    # packed fp32, bf16 and int8 heads have layouts of their own; an encoder head projects every
    # position (many rows), where the row-major layout is the faster one.
    assert not isinstance(optimize_for_inference(_gpt2(), column_major_head=False).lm_head, ColumnMajorLinear)
    assert not isinstance(optimize_for_inference(_gpt2(), fp32_packing=True).lm_head, ColumnMajorLinear)
    assert not isinstance(optimize_for_inference(_gpt2(), dtype=torch.bfloat16).lm_head, ColumnMajorLinear)
    assert not isinstance(optimize_for_inference(_gpt2(), quantize="w8a8").lm_head, ColumnMajorLinear)
    torch.manual_seed(0)
    cfg = clearformer.BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                                 intermediate_size=64, max_position_embeddings=16)  # fmt: skip
    bert = optimize_for_inference(clearformer.BertForMaskedLM(cfg))
    assert not any(isinstance(m, ColumnMajorLinear) for m in bert.modules())


def test_optimizing_twice_keeps_one_column_major_head_with_the_same_values():
    plain, model = _gpt2(), optimize_for_inference(_gpt2(), huge_pages=False)
    optimize_for_inference(model, huge_pages=False)
    assert isinstance(model.lm_head, ColumnMajorLinear) and not isinstance(model.lm_head._replaced, ColumnMajorLinear)
    assert torch.equal(model.lm_head.weight, plain.lm_head.weight)


@pytest.mark.skipif(
    huge_pages_unavailable_reason() is not None,
    reason=f"no transparent huge pages here: {huge_pages_unavailable_reason()}",
)
def test_the_column_major_head_is_laid_into_the_huge_page_arena():
    cfg = clearformer.GPT2Config(vocab_size=5000, n_positions=16, n_embd=64, n_layer=1, n_head=4)
    model = optimize_for_inference(clearformer.GPT2LMHeadModel(cfg).eval(), huge_pages=True)
    assert "on huge pages" in repr(model.lm_head)
    assert huge_page_advised_bytes([model.lm_head.weight]) == model.lm_head.weight.numel() * 4
