"""optimize_for_inference: module swaps that keep the checkpoint format and the plain model's numbers."""

from __future__ import annotations

import copy
import pickle
import re
from pathlib import Path

import pytest
import torch
from torch import nn

import clearformer
from clearformer.inference import (
    Int8WeightOnlyLinear,
    PackedLinear,
    is_optimized,
    optimize_for_inference,
    restore_for_training,
)
from clearformer.inference.packed_linear import PackedWeight, mkl_packing_available, onednn_packing_available
from clearformer.inference.w8a8_linear import Int8DynamicLinear
from clearformer.nn.conv1d import Conv1D

SRC = Path(clearformer.__file__).resolve().parent
needs_bf16_packing = pytest.mark.skipif(
    not onednn_packing_available(torch.bfloat16), reason="this CPU/torch build has no oneDNN bf16 packing"
)


def _bert(cls=clearformer.BertModel):
    cfg = clearformer.BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                 intermediate_size=37)  # fmt: skip
    return cls(cfg)


def _families():
    """(name, model, inputs) for every model family, tiny and random."""
    torch.manual_seed(0)
    ids = torch.randint(4, 99, (2, 7))
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0  # padding inside the batch
    dec = torch.randint(4, 99, (2, 5))
    distil = clearformer.DistilBertConfig(dim=32, n_layers=2, n_heads=4, hidden_dim=37, vocab_size=99)
    roberta = clearformer.RobertaConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                        intermediate_size=37, pad_token_id=1)  # fmt: skip
    gpt2 = clearformer.GPT2Config(vocab_size=99, n_positions=32, n_embd=32, n_layer=2, n_head=4)
    marian = clearformer.MarianConfig(vocab_size=99, d_model=32, encoder_layers=2, decoder_layers=2,
                                      encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=37,
                                      decoder_ffn_dim=37, max_position_embeddings=64, pad_token_id=0,
                                      decoder_start_token_id=0)  # fmt: skip
    t5 = clearformer.T5Config(vocab_size=99, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_decoder_layers=2,
                              num_heads=4, relative_attention_num_buckets=8, decoder_start_token_id=0)  # fmt: skip
    return [
        ("bert", _bert(clearformer.BertForSequenceClassification), dict(input_ids=ids, attention_mask=mask)),
        ("distilbert", clearformer.DistilBertForMaskedLM(distil), dict(input_ids=ids, attention_mask=mask)),
        ("roberta", clearformer.RobertaForMaskedLM(roberta), dict(input_ids=ids, attention_mask=mask)),
        ("gpt2", clearformer.GPT2LMHeadModel(gpt2), dict(input_ids=ids, attention_mask=mask)),
        ("marian", clearformer.MarianMTModel(marian), dict(input_ids=ids, attention_mask=mask, decoder_input_ids=dec)),
        (
            "t5",
            clearformer.T5ForConditionalGeneration(t5),
            dict(input_ids=ids, attention_mask=mask, decoder_input_ids=dec),
        ),  # fmt: skip
    ]


def _logits(model, inputs):
    with torch.no_grad():
        return model(**inputs).logits.float()


FAMILIES = [name for name, _, _ in _families()]


@pytest.mark.parametrize("family", FAMILIES)
def test_fp32_optimized_model_equals_the_plain_model(family):
    _, model, inputs = next(f for f in _families() if f[0] == family)
    model.eval()
    plain = _logits(model, inputs)
    optimize_for_inference(model)
    assert (_logits(model, inputs) - plain).abs().max() < 1e-5


@needs_bf16_packing
@pytest.mark.parametrize("family", FAMILIES)
def test_bf16_optimized_model_equals_the_plain_bf16_model(family):
    _, model, inputs = next(f for f in _families() if f[0] == family)
    plain_model = copy.deepcopy(model).eval().to(torch.bfloat16)
    plain = _logits(plain_model, inputs)
    optimize_for_inference(model, dtype=torch.bfloat16)
    assert any(isinstance(m, PackedLinear) for m in model.modules())
    fast = _logits(model, inputs)
    # bf16 keeps 8 mantissa bits: products are rounded at other points than the plain path's
    assert (fast - plain).abs().max() < 0.05 * max(1.0, plain.abs().max().item())
    assert torch.nn.functional.cosine_similarity(fast.flatten(), plain.flatten(), dim=0) > 0.999


INT8_LAYERS = {"int8-weight-only": Int8WeightOnlyLinear, "w8a8": Int8DynamicLinear, "int8": Int8DynamicLinear}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("mode", sorted(INT8_LAYERS))
def test_int8_optimized_model_stays_close_to_fp32(family, mode):
    _, model, inputs = next(f for f in _families() if f[0] == family)
    model.eval()
    plain = _logits(model, inputs)
    optimize_for_inference(model, quantize=mode)
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, Conv1D, *INT8_LAYERS.values()))]
    assert layers and all(isinstance(m, INT8_LAYERS[mode]) for m in layers)  # none left in float
    fast = _logits(model, inputs)
    assert torch.nn.functional.cosine_similarity(fast.flatten(), plain.flatten(), dim=0) > 0.99


def test_print_shows_every_swap_and_state_dict_keys_do_not_change():
    model = _bert().eval()
    keys = list(model.state_dict())
    optimize_for_inference(model, dtype=torch.bfloat16 if onednn_packing_available(torch.bfloat16) else None)
    text = str(model)
    assert "FusedQKVBertSelfAttention" in text and "FusedQKV(" in text
    if onednn_packing_available(torch.bfloat16):
        assert "PackedLinear" in text and "FoldedActivation" in text
    assert list(model.state_dict()) == keys


def test_a_training_mode_forward_raises_and_restore_gives_the_plain_model_back():
    model = _bert().eval()
    ids = torch.randint(0, 99, (2, 6))
    with torch.no_grad():
        plain = model(ids).last_hidden_state
    optimize_for_inference(model, fp32_packing=onednn_packing_available(torch.float32))
    model.train()
    with pytest.raises(RuntimeError, match=r"restore_for_training\(model\)"):
        model(ids)
    restore_for_training(model)
    assert not is_optimized(model)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(ids).last_hidden_state, plain)
    model.train()
    model(ids).last_hidden_state.sum().backward()  # the plain model trains
    assert model.encoder.layer[0].attention.self.query.weight.grad is not None


def test_the_trainer_restores_the_plain_modules_before_training(tmp_path):
    model = _bert(clearformer.BertForSequenceClassification)
    optimize_for_inference(model)
    data = [{"input_ids": [5, 6, 7, 8], "attention_mask": [1, 1, 1, 1], "labels": i % 2} for i in range(8)]
    args = clearformer.TrainingArguments(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4,
                                         report_to="none", save_strategy="no")  # fmt: skip
    clearformer.Trainer(model=model, args=args, train_dataset=data).train()
    assert not is_optimized(model)


def test_weights_changed_after_packing_raise_instead_of_computing_with_a_stale_copy():
    model = _bert().eval()
    optimize_for_inference(model)
    ids = torch.randint(0, 99, (1, 5))
    with torch.no_grad():
        model.encoder.layer[0].attention.self.key.weight.mul_(2)  # an in-place edit the fused copy did not see
        with pytest.raises(RuntimeError, match="changed after"):
            model(ids)


def test_load_state_dict_after_optimizing_refreshes_the_derived_weights():
    source, model = _bert().eval(), _bert().eval()
    ids = torch.randint(0, 99, (2, 6))
    with torch.no_grad():
        expected = source(ids).last_hidden_state
    optimize_for_inference(model)
    model.load_state_dict(source.state_dict())
    with torch.no_grad():
        assert (model(ids).last_hidden_state - expected).abs().max() < 1e-5


def test_optimized_model_saves_a_normal_checkpoint_that_loads_into_a_plain_model(tmp_path):
    model = _bert(clearformer.BertForSequenceClassification).eval()
    ids = torch.randint(0, 99, (2, 6))
    with torch.no_grad():
        expected = model(ids).logits
    optimize_for_inference(model, fp32_packing=onednn_packing_available(torch.float32))
    model.save_pretrained(tmp_path)
    loaded = clearformer.BertForSequenceClassification.from_pretrained(tmp_path)
    assert not is_optimized(loaded)
    with torch.no_grad():
        assert torch.equal(loaded(ids).logits, expected)


@pytest.mark.parametrize("mode", sorted(INT8_LAYERS))
def test_an_int8_model_refuses_to_save_and_to_restore(tmp_path, mode):
    model = _bert().eval()
    optimize_for_inference(model, quantize=mode)
    with pytest.raises(ValueError, match="int8"):
        model.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="cannot be undone"):
        restore_for_training(model)


def test_optimized_models_pickle_and_deepcopy():
    model = _bert().eval()
    optimize_for_inference(model, dtype=torch.bfloat16 if onednn_packing_available(torch.bfloat16) else None)
    ids = torch.randint(0, 99, (2, 6))
    with torch.no_grad():
        expected = model(ids).last_hidden_state
        for twin in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
            assert torch.equal(twin(ids).last_hidden_state, expected)


@needs_bf16_packing
def test_bf16_fused_qkv_keeps_only_the_packed_copy_and_takes_any_row_count():
    model = optimize_for_inference(_bert().eval(), dtype=torch.bfloat16)
    qkv = model.encoder.layer[0].attention.self.qkv
    assert qkv._weight is None and qkv._packed.weight is None  # no plain copy beside the packed one
    with torch.no_grad():
        for rows in (0, 1, 5):
            x = torch.randn(1, rows, 32, dtype=torch.bfloat16)
            expected = [p(x) for p in qkv._projections]
            assert all((a - b).abs().max() < 0.05 if rows else a.shape == b.shape for a, b in zip(qkv(x), expected))


@needs_bf16_packing
def test_from_pretrained_in_bf16_on_cpu_is_optimized(tmp_path):
    _bert().save_pretrained(tmp_path)
    model = clearformer.BertModel.from_pretrained(tmp_path, dtype=torch.bfloat16)
    assert is_optimized(model) and "PackedLinear" in str(model)
    assert not is_optimized(clearformer.BertModel.from_pretrained(tmp_path))


def test_model_files_hold_the_model_only():
    """No speed-path import in models/*/modeling_*.py: speed is a swap from inference/."""
    banned = re.compile(r"^\s*(from|import)\s+\S*(packed|fused|cpu_kernels|inference)\b", re.MULTILINE)
    offenders = [
        str(path.relative_to(SRC)) for path in SRC.glob("models/*/modeling_*.py") if banned.search(path.read_text())
    ]
    assert not offenders
    for path in SRC.glob("models/*/modeling_*.py"):
        assert "is_grad_enabled" not in path.read_text(), path  # one path for training and inference


@pytest.mark.skipif(not mkl_packing_available(), reason="this torch build has no MKL packed SGEMM")
@pytest.mark.parametrize("source_type", [nn.Linear, Conv1D])
def test_fp32_packed_layers_take_mkls_packed_product_for_2_to_64_rows_and_the_plain_one_otherwise(source_type):
    """The packed product wins only between 2 and 64 rows here; the choice must be visible and exact."""
    torch.manual_seed(0)
    source = nn.Linear(768, 80) if source_type is nn.Linear else Conv1D(80, 768)
    layer = PackedLinear(source)
    assert layer._packed.library == "MKL" and "packed for MKL at 2-64 rows, plain otherwise" in repr(layer)
    weight = source.weight if source_type is nn.Linear else source.weight.t()
    # The packed and plain products can agree bit for bit (they do for Conv1D's transposed weight),
    # so the layer gets a packed copy of *another* weight here: which rows use it is then plain to see.
    other = torch.randn(80, 768) * 0.03  # outputs of order 1, like the layer's own
    layer._packed = PackedWeight(other)
    with torch.no_grad():
        for rows, packed in ((1, False), (2, True), (40, True), (64, True), (65, False), (200, False)):
            x = torch.randn(rows, 768)
            expected = torch.nn.functional.linear(x, other if packed else weight, source.bias)
            out = layer(x)
            assert torch.equal(out, expected) if not packed else (out - expected).abs().max() < 1e-5, rows
        # the real packed copy: within fp32 rounding of the plain product at every packed row count
        layer.repack()
        for rows in (2, 3, 17, 64):
            x = torch.randn(rows, 768)
            assert (layer(x) - torch.nn.functional.linear(x, weight, source.bias)).abs().max() < 1e-5
        source.weight.add_(1.0)  # a stale packed copy is refused at any row count
        with pytest.raises(RuntimeError, match="changed after it was packed"):
            layer(torch.randn(1, 768))
