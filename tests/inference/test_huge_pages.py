"""Weights on transparent huge pages: same values, own storages, advised memory, tied weights kept."""

from __future__ import annotations

import copy
import gc
import io
import logging

import pytest
import torch

import clearformer
from clearformer.inference import huge_pages as hp
from clearformer.inference import optimize_for_inference
from clearformer.inference.huge_pages import (
    HUGE_PAGE,
    MIN_BYTES,
    HugePageArena,
    huge_page_advised_bytes,
    huge_pages_unavailable_reason,
)
from clearformer.inference.w8a8_linear import Int8DynamicLinear
from clearformer.nn import cpu_kernels

needs_huge_pages = pytest.mark.skipif(
    huge_pages_unavailable_reason() is not None,
    reason=f"no transparent huge pages here: {huge_pages_unavailable_reason()}",
)


def _mapped(address: int) -> bool:
    with open("/proc/self/maps") as f:
        for line in f:
            low, high = (int(x, 16) for x in line.split(" ", 1)[0].split("-"))
            if low <= address < high:
                return True
    return False


def _gpt2():
    torch.manual_seed(0)  # tensors above MIN_BYTES: the embedding (tied to the LM head) and c_attn
    return clearformer.GPT2LMHeadModel(
        clearformer.GPT2Config(
            vocab_size=1000, n_positions=64, n_embd=128, n_layer=2, n_head=4, bos_token_id=0, eos_token_id=0
        )
    ).eval()


def _bert():
    torch.manual_seed(0)
    cfg = clearformer.BertConfig(vocab_size=500, hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
                                 intermediate_size=256)  # fmt: skip
    return clearformer.BertModel(cfg).eval()


def _big(tensors) -> list[torch.Tensor]:
    return [t for t in tensors if t.numel() * t.element_size() >= MIN_BYTES]


@needs_huge_pages
def test_arena_copies_keep_values_and_each_has_its_own_advised_storage():
    arena = HugePageArena(chunk_bytes=HUGE_PAGE)  # 2 MiB chunks: the third tensor opens a new one
    sources = [torch.randn(300_000), torch.arange(70_000, dtype=torch.int64).view(700, 100), torch.randn(400_000)]
    copies = [arena.copy(t) for t in sources]
    for src, out in zip(sources, copies):
        assert torch.equal(src, out) and out.dtype == src.dtype and out.shape == src.shape
        assert out.untyped_storage().nbytes() == src.numel() * src.element_size()  # saving one saves only it
        assert out.data_ptr() % 4096 == 0
    assert huge_page_advised_bytes(copies) == sum(t.numel() * t.element_size() for t in copies)
    assert huge_page_advised_bytes(sources) == 0
    assert arena.placed_bytes == sum(t.numel() * t.element_size() for t in sources)
    saved = io.BytesIO()
    torch.save(copies[0], saved)
    assert len(saved.getvalue()) < 1.1 * copies[0].numel() * 4


@needs_huge_pages
def test_a_mapping_outlives_the_arena_and_is_unmapped_with_its_last_tensor():
    arena = HugePageArena()
    kept = arena.copy(torch.full((100_000,), 3.0))
    address = kept.data_ptr()
    del arena
    gc.collect()
    assert _mapped(address) and float(kept.sum()) == 300_000.0
    del kept
    gc.collect()
    assert not _mapped(address)


@needs_huge_pages
def test_fp32_gpt2_on_huge_pages_gives_the_same_tokens_and_keeps_its_tied_weights():
    plain = optimize_for_inference(_gpt2(), huge_pages=False)
    model = optimize_for_inference(_gpt2())  # default: wherever the kernel allows it
    assert model.lm_head.weight is model.transformer.wte.weight
    big = _big(model.parameters())
    assert big and huge_page_advised_bytes(big) == sum(t.numel() * t.element_size() for t in big)
    assert huge_page_advised_bytes(_big(plain.parameters())) == 0
    ids = torch.randint(0, 1000, (2, 6))
    with torch.inference_mode():
        assert torch.equal(model(ids).logits, plain(ids).logits)
        greedy = dict(attention_mask=torch.ones_like(ids), max_new_tokens=5, do_sample=False)
        assert torch.equal(model.generate(ids, **greedy), plain.generate(ids, **greedy))


@needs_huge_pages
@pytest.mark.parametrize("mode", ["w8a8", "int8-weight-only"])
def test_int8_weights_are_placed_after_quantizing_and_compute_the_same(mode):
    if mode == "w8a8" and not cpu_kernels.w8a8_available():
        pytest.skip(f"W8A8 kernel: {cpu_kernels.w8a8_unavailable_reason()}")
    plain = optimize_for_inference(_gpt2(), quantize=mode, huge_pages=False)
    model = optimize_for_inference(_gpt2(), quantize=mode, huge_pages=None)
    int8 = _big(b for name, b in model.named_buffers() if name.endswith("weight_int8"))
    assert int8 and huge_page_advised_bytes(int8) == sum(t.numel() for t in int8)
    if mode == "w8a8":
        assert any(isinstance(m, Int8DynamicLinear) for m in model.modules())
    ids = torch.randint(0, 1000, (3, 5))
    with torch.inference_mode():
        assert torch.equal(model(ids).logits, plain(ids).logits)


@needs_huge_pages
def test_bert_fused_qkv_is_made_on_huge_pages_and_again_after_load_state_dict():
    model = optimize_for_inference(_bert())
    qkv = model.encoder.layer[0].attention.self.qkv
    assert "on huge pages" in repr(qkv)
    assert huge_page_advised_bytes([qkv._weight]) == qkv._weight.numel() * 4
    other = _bert()
    with torch.no_grad():
        for p in other.parameters():
            p.add_(0.5)
    model.load_state_dict(other.state_dict())
    qkv = model.encoder.layer[0].attention.self.qkv
    assert huge_page_advised_bytes([qkv._weight]) == qkv._weight.numel() * 4
    ids = torch.randint(0, 500, (2, 9))
    with torch.inference_mode():
        torch.testing.assert_close(model(ids).last_hidden_state, other(ids).last_hidden_state, rtol=0, atol=1e-5)
    twin = copy.deepcopy(model)  # a mapping cannot be copied: the copy's concatenation is torch's
    assert "on huge pages" not in repr(twin.encoder.layer[0].attention.self.qkv)
    with torch.inference_mode():
        assert torch.equal(twin(ids).last_hidden_state, model(ids).last_hidden_state)


def test_huge_pages_true_names_why_it_cannot_and_the_default_goes_on_without(tmp_path, monkeypatch, caplog):
    setting = tmp_path / "enabled"
    setting.write_text("always madvise [never]\n")
    monkeypatch.setattr(hp, "_THP_SETTING", setting)
    with pytest.raises(RuntimeError, match=r"huge_pages=True: transparent huge pages are switched off.*\[never\]"):
        optimize_for_inference(_gpt2(), huge_pages=True)
    with caplog.at_level(logging.INFO, logger="clearformer.inference.optimize"):
        model = optimize_for_inference(_gpt2())
    assert "weights stay on 4 KiB pages" in caplog.text
    assert huge_page_advised_bytes(_big(model.parameters())) == 0
    monkeypatch.setattr(hp, "_THP_SETTING", tmp_path / "missing")
    assert "the kernel has no transparent huge pages" in huge_pages_unavailable_reason()
    with pytest.raises(TypeError, match="huge_pages must be True, False or None"):
        optimize_for_inference(_gpt2(), huge_pages="yes")


@needs_huge_pages
def test_a_model_on_huge_pages_saves_a_checkpoint_that_loads_into_a_plain_model(tmp_path):
    model = optimize_for_inference(_gpt2())
    assert huge_page_advised_bytes(_big(model.parameters())) > 0
    model.save_pretrained(tmp_path)  # safetensors refuses tensors that share a storage: these do not
    loaded = clearformer.GPT2LMHeadModel.from_pretrained(tmp_path).eval()
    saved = model.state_dict()
    assert all(torch.equal(t, saved[name]) for name, t in loaded.state_dict().items())
    ids = torch.randint(0, 1000, (2, 6))
    with torch.inference_mode():  # the optimized model's one-kernel GELU is ~2e-7 from the plain one
        torch.testing.assert_close(loaded(ids).logits, model(ids).logits, rtol=0, atol=1e-5)
