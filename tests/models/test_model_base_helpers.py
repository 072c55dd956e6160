"""PreTrainedModel's helpers for hand-written models (chapter 3) and pytorch_utils, against the references.

The mask and head-mask helpers left PreTrainedModel in transformers 5, so they are compared with
4.57 (.venv-legacy, in a subprocess); apply_chunking_to_forward and prune_linear_layer with 5.24.
"""

from __future__ import annotations

import subprocess

import pytest
import torch
from torch import nn

from clearformer import BertConfig, BertModel
from clearformer.modeling_utils import PreTrainedModel
from clearformer.pytorch_utils import apply_chunking_to_forward, find_pruneable_heads_and_indices, prune_linear_layer

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37, vocab_size=50)
MASK2 = [[1, 1, 1, 0], [1, 1, 0, 0]]
MASK3 = [[[1, 0, 1, 1]] * 4, [[1, 1, 1, 0]] * 4]
LONG = [[1, 1, 1, 1, 1, 0], [0, 1, 1, 1, 1, 1]]  # 2 cached positions + 4 new ones
HEADS2 = [[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0]]

LEGACY = r"""
import sys, torch
from transformers import BertConfig, BertModel
from transformers.pytorch_utils import find_pruneable_heads_and_indices
enc = BertModel(BertConfig(**TINY)).eval()
dec = BertModel(BertConfig(**TINY, is_decoder=True)).eval()
m2, m3, long = torch.tensor(MASK2), torch.tensor(MASK3), torch.tensor(LONG)
out = {
    "enc2": enc.get_extended_attention_mask(m2, (2, 4)),
    "enc3": enc.get_extended_attention_mask(m3, (2, 4)),
    "dec2": dec.get_extended_attention_mask(m2, (2, 4)),
    "dec_past": dec.get_extended_attention_mask(long, (2, 4)),
    "inv2": enc.invert_attention_mask(m2),
    "inv3": enc.invert_attention_mask(m3),
    "head1": enc.get_head_mask(torch.tensor([1.0, 0.0, 1.0, 1.0]), 2),
    "head2": enc.get_head_mask(torch.tensor(HEADS2), 2),
    "head_chunked": enc.get_head_mask(torch.tensor(HEADS2), 2, is_attention_chunked=True),
    "head_none": enc.get_head_mask(None, 2),
    "prune": find_pruneable_heads_and_indices([1, 3, 0], 3, 8, {0}),
}
enc.half()
out["enc2_fp16"] = enc.get_extended_attention_mask(m2, (2, 4))
torch.save(out, sys.argv[1])
"""


@pytest.fixture(scope="module")
def legacy(legacy_python, tmp_path_factory):
    path = tmp_path_factory.mktemp("legacy") / "out.pt"
    script = f"TINY = {TINY!r}\nMASK2 = {MASK2!r}\nMASK3 = {MASK3!r}\nLONG = {LONG!r}\nHEADS2 = {HEADS2!r}\n" + LEGACY
    subprocess.run([str(legacy_python), "-c", script, str(path)], check=True, capture_output=True, timeout=300)
    return torch.load(path, weights_only=False)  # our own file, written just now by the oracle


def _models():
    torch.manual_seed(0)
    return BertModel(BertConfig(**TINY)).eval(), BertModel(BertConfig(**TINY, is_decoder=True)).eval()


def test_extended_and_inverted_masks_equal_the_legacy_reference(legacy):
    enc, dec = _models()
    m2, m3, long = torch.tensor(MASK2), torch.tensor(MASK3), torch.tensor(LONG)
    ours = {
        "enc2": enc.get_extended_attention_mask(m2, (2, 4)),
        "enc3": enc.get_extended_attention_mask(m3, (2, 4)),
        "dec2": dec.get_extended_attention_mask(m2, (2, 4)),
        "dec_past": dec.get_extended_attention_mask(long, (2, 4)),
        "inv2": enc.invert_attention_mask(m2),
        "inv3": enc.invert_attention_mask(m3),
    }
    for key, value in ours.items():
        assert value.dtype == legacy[key].dtype and value.shape == legacy[key].shape, key
        assert torch.equal(value, legacy[key]), key
    enc.half()
    fp16 = enc.get_extended_attention_mask(m2, (2, 4))
    assert fp16.dtype == torch.float16 and torch.equal(fp16, legacy["enc2_fp16"])


def test_head_mask_shapes_and_values_equal_the_legacy_reference(legacy):
    enc, _ = _models()
    assert enc.get_head_mask(None, 2) == legacy["head_none"] == [None, None]
    for key, args in {
        "head1": (torch.tensor([1.0, 0.0, 1.0, 1.0]), 2),
        "head2": (torch.tensor(HEADS2), 2),
        "head_chunked": (torch.tensor(HEADS2), 2, True),
    }.items():
        ours = enc.get_head_mask(*args)
        assert ours.shape == legacy[key].shape and torch.equal(ours, legacy[key]), key
    with pytest.raises(ValueError, match="head_mask has 3 layers but the model has 2"):
        enc.get_head_mask(torch.ones(3, 4), 2)


def test_find_pruneable_heads_equals_the_legacy_reference(legacy):
    heads, index = find_pruneable_heads_and_indices([1, 3, 0], 3, 8, {0})
    assert heads == legacy["prune"][0]
    assert torch.equal(index, legacy["prune"][1])


def test_prune_linear_layer_equals_the_reference_on_both_dims():
    from transformers.pytorch_utils import prune_linear_layer as reference

    torch.manual_seed(0)
    layer = nn.Linear(8, 6)
    index = torch.tensor([0, 2, 5])
    for dim in (0, 1):
        ours, ref = prune_linear_layer(layer, index, dim), reference(layer, index, dim)
        assert torch.equal(ours.weight, ref.weight) and torch.equal(ours.bias, ref.bias)
        assert (ours.in_features, ours.out_features) == (ref.in_features, ref.out_features)
        assert ours.weight.data_ptr() != layer.weight.data_ptr()  # a copy, not a view


def test_apply_chunking_to_forward_equals_the_reference_and_the_unchunked_call():
    from transformers.pytorch_utils import apply_chunking_to_forward as reference

    torch.manual_seed(0)
    ffn = nn.Linear(6, 6)
    x, y = torch.randn(2, 8, 6), torch.randn(2, 8, 6)

    def fn(a, b):
        return ffn(a) * b

    whole = fn(x, y)
    for chunk in (0, 2, 4):
        ours = apply_chunking_to_forward(fn, chunk, 1, x, y)
        assert torch.equal(ours, reference(fn, chunk, 1, x, y))
        assert torch.allclose(ours, whole, atol=1e-6)
    with pytest.raises(ValueError, match=r"size along dim 1 \(8\) is not a multiple of chunk_size \(3\)"):
        apply_chunking_to_forward(fn, 3, 1, x, y)
    with pytest.raises(ValueError, match="forward_fn takes 2 arguments but 1 input tensors"):
        apply_chunking_to_forward(fn, 2, 1, x)


class _ZeroInit(PreTrainedModel):
    config_class = BertConfig

    def __init__(self, config):
        super().__init__(config)
        self.dense = nn.Linear(4, 4)
        self.init_weights()

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.constant_(module.weight, 0.5)
            nn.init.zeros_(module.bias)


def test_init_weights_applies_the_subclass_rule():
    model = _ZeroInit(BertConfig(**TINY))
    assert torch.all(model.dense.weight == 0.5) and torch.all(model.dense.bias == 0)
    model.dense.weight.data.fill_(3.0)
    model.post_init()  # post_init goes through the same override
    assert torch.all(model.dense.weight == 0.5)


def test_class_tables_and_properties_chapter_3_sets_or_reads():
    model = _ZeroInit(BertConfig(**TINY))
    assert model.dtype == torch.float32 and model.device == torch.device("cpu")
    assert PreTrainedModel.load_tf_weights is None
    assert PreTrainedModel._keys_to_ignore_on_load_missing == []
    assert model.config_class is BertConfig and model.base_model_prefix == ""


def test_prune_heads_without_a_prune_method_says_so():
    enc, _ = _models()
    with pytest.raises(NotImplementedError, match="has no _prune_heads"):
        enc.prune_heads({0: [1]})
