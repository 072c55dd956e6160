"""compile_decoding: a compiled fixed-shape decoding step that gives eager fp32's greedy tokens.

The tests that compile are marked slow (each compiles a tiny GPT-2's step: ~10-60 s on a
loaded 2-core machine, less with inductor's on-disk cache warm); every error case is checked
before anything compiles, so those tests are fast.
"""

from __future__ import annotations

import pytest
import torch

import clearformer
from clearformer.inference import compile_decoding, optimize_for_inference, restore_for_training
from clearformer.inference.compiled_decoding import CompiledDecoding


def _gpt2(seed: int = 0) -> clearformer.GPT2LMHeadModel:
    torch.manual_seed(seed)
    cfg = clearformer.GPT2Config(vocab_size=99, n_positions=32, n_embd=32, n_layer=2, n_head=4,
                                 bos_token_id=98, eos_token_id=None, pad_token_id=0)  # fmt: skip
    return clearformer.GPT2LMHeadModel(cfg).eval()


GREEDY = dict(max_new_tokens=8, do_sample=False)


@pytest.mark.slow
def test_compiled_step_gives_eager_fp32_greedy_tokens_at_batch_1_and_is_not_recompiled():
    model = _gpt2()
    ids = torch.randint(1, 98, (1, 5), generator=torch.Generator().manual_seed(1))
    eager = model.generate(ids, **GREEDY)
    compile_decoding(model, max_length=16, batch_size=1)
    assert torch.equal(model.generate(ids, **GREEDY), eager)
    assert model.compiled_decoding.compile_seconds is not None  # the compiled path ran
    # Another prompt length and fewer tokens (same batch, within max_length) reuse the same graph.
    shorter = ids[:, :3]
    eager_shorter = clearformer.GPT2LMHeadModel.generate(_eager_twin(model), shorter, max_new_tokens=5)
    with torch._dynamo.config.patch(error_on_recompile=True):
        assert torch.equal(model.generate(shorter, max_new_tokens=5), eager_shorter)
    # Kernels compiled for another thread count than torch's now: said, not silent.
    model.compiled_decoding.threads = torch.get_num_threads() + 1
    with pytest.warns(UserWarning, match=r"compiled at \d+ threads"):
        model.generate(shorter, max_new_tokens=2)


@pytest.mark.slow
def test_compiled_step_gives_eager_fp32_greedy_tokens_for_a_left_padded_batch_of_2():
    model = _gpt2()
    ids = torch.randint(1, 98, (2, 6), generator=torch.Generator().manual_seed(2))
    mask = torch.ones_like(ids)
    ids[1, :2], mask[1, :2] = 0, 0  # row 1 is left padded
    eager = model.generate(ids, attention_mask=mask, **GREEDY)
    compile_decoding(model, max_length=14, batch_size=2)
    assert torch.equal(model.generate(ids, attention_mask=mask, **GREEDY), eager)
    assert model.compiled_decoding.compile_seconds is not None
    # Beam search over 2 beams of one prompt is 2 rows too: the same graph, its cache reordered.
    beams = dict(num_beams=2, max_new_tokens=6, do_sample=False)
    eager_beams = _eager_twin(model).generate(ids[:1], **beams)
    with torch._dynamo.config.patch(error_on_recompile=True):
        assert torch.equal(model.generate(ids[:1], **beams), eager_beams)


@pytest.mark.slow
def test_compiled_step_of_an_optimized_model_runs_the_decode_kernel_and_gives_plain_eager_tokens():
    """optimize_for_inference switches attention to "sdpa_decode": the compiled step traces the
    single-query kernel (its registered shape function) and still gives the plain model's tokens."""
    from clearformer.nn import cpu_kernels

    if not cpu_kernels.decode_attention_available():
        pytest.skip(f"decode-attention kernel unavailable: {cpu_kernels.decode_attention_unavailable_reason()}")
    model = optimize_for_inference(_gpt2())
    assert model.config._attn_implementation == "sdpa_decode"
    ids = torch.randint(1, 98, (2, 6), generator=torch.Generator().manual_seed(5))
    mask = torch.ones_like(ids)
    ids[0, :3], mask[0, :3] = 0, 0
    eager = _gpt2().generate(ids, attention_mask=mask, **GREEDY)  # a plain "sdpa" model
    compile_decoding(model, max_length=14, batch_size=2)
    assert torch.equal(model.generate(ids, attention_mask=mask, **GREEDY), eager)
    assert model.compiled_decoding.compile_seconds is not None


@pytest.mark.slow
def test_the_aoti_step_gives_eager_tokens_reads_the_models_weights_and_removes_its_folder(tmp_path, monkeypatch):
    """backend="aoti": exported, built by AOTInductor into a temporary folder, loaded with the model's
    own (W8A8, huge-page) tensors as constants; the same tokens as eager, padded and with beams."""
    import gc
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the package folder goes
    model = optimize_for_inference(_gpt2(), quantize="w8a8")
    ids = torch.randint(1, 98, (2, 6), generator=torch.Generator().manual_seed(2))
    mask = torch.ones_like(ids)
    ids[1, :2], mask[1, :2] = 0, 0
    eager = model.generate(ids, attention_mask=mask, **GREEDY)
    beams = dict(num_beams=2, max_new_tokens=6, do_sample=False)
    eager_beams = model.generate(ids[:1], **beams)
    compile_decoding(model, max_length=14, batch_size=2, backend="aoti")
    with torch.inference_mode():  # generate's buffers are inference tensors: export works on copies
        assert torch.equal(model.generate(ids, attention_mask=mask, **GREEDY), eager)
    assert model.compiled_decoding.compile_seconds is not None and "aoti" in repr(model.compiled_decoding)
    assert torch.equal(model.generate(ids[:1], **beams), eager_beams)
    # the step reads the model's tensors, not copies in the package: an edit shows in its logits
    cd = model.compiled_decoding
    keys, values, step_ids, slot, position_base, key_mask = cd._tensors
    with torch.inference_mode():
        before = cd._compiled(step_ids, slot, position_base, key_mask, keys, values).clone()
        model.lm_head.weight_int8.fill_(128 + 5)  # every int8 weight of the LM head 5 (stored +128)
        after = cd._compiled(step_ids, slot, position_base, key_mask, keys, values)
    assert not torch.equal(before, after)
    assert len(list(tmp_path.glob("clearformer-aoti-*"))) == 1
    del model, cd
    gc.collect()
    assert list(tmp_path.glob("clearformer-aoti-*")) == []


@pytest.mark.slow
def test_the_unfrozen_aoti_step_at_one_row_gives_eager_fp32_tokens_from_the_models_own_weights():
    model = _gpt2()
    ids = torch.randint(1, 98, (1, 5), generator=torch.Generator().manual_seed(3))
    eager = model.generate(ids, **GREEDY)
    compile_decoding(model, max_length=16, batch_size=1, backend="aoti")
    assert "freezing=False" in repr(model.compiled_decoding)
    assert torch.equal(model.generate(ids, **GREEDY), eager)
    cd = model.compiled_decoding
    keys, values, step_ids, slot, position_base, key_mask = cd._tensors
    with torch.inference_mode():
        before = cd._compiled(step_ids, slot, position_base, key_mask, keys, values).clone()
        model.lm_head.weight.mul_(2)  # no frozen copy: the step sees the edit
        after = cd._compiled(step_ids, slot, position_base, key_mask, keys, values)
    assert not torch.equal(before, after)


def _eager_twin(model: clearformer.GPT2LMHeadModel) -> clearformer.GPT2LMHeadModel:
    twin = _gpt2()
    twin.load_state_dict(model.state_dict())
    return twin


def test_print_model_shows_the_compiled_step_and_state_dict_is_unchanged():
    model = _gpt2()
    keys = list(model.state_dict())
    compile_decoding(model, max_length=16, batch_size=2)
    text = repr(model)
    assert "CompiledDecoding(batch_size=2, max_length=16, threads=" in text and "compiles on first generate()" in text
    assert list(model.state_dict()) == keys
    assert isinstance(model.compiled_decoding, CompiledDecoding)


def test_freezing_is_chosen_by_batch_size_shown_and_can_be_overridden():
    # One row reads the model's own weights (a matrix-vector product wins); two and more let
    # inductor fold and pack them.
    assert "freezing=False" in repr(compile_decoding(_gpt2(), max_length=16, batch_size=1))
    assert "freezing=True" in repr(compile_decoding(_gpt2(), max_length=16, batch_size=2))
    forced = compile_decoding(_gpt2(), max_length=16, batch_size=1, options={"freezing": True})
    assert forced.compiled_decoding.options == {"cpp_wrapper": True, "freezing": True}


def test_a_training_mode_model_refuses_the_compiled_step():
    model = compile_decoding(_gpt2(), max_length=16)
    model.train()
    with pytest.raises(RuntimeError, match=r"training mode.*model\.eval\(\)"):
        model.generate(torch.tensor([[5, 6, 7]]), **GREEDY)


def test_a_run_longer_than_the_compiled_max_length_raises_and_names_the_fix():
    model = compile_decoding(_gpt2(), max_length=10)
    with pytest.raises(ValueError, match=r"max_length=10 .* needs 11.*compile_decoding\(model, max_length=11"):
        model.generate(torch.tensor([[5, 6, 7]]), **GREEDY)


def test_a_batch_of_another_size_raises_and_names_the_fix():
    model = compile_decoding(_gpt2(), max_length=16, batch_size=1)
    with pytest.raises(ValueError, match=r"batch_size=1 but generate\(\) got 2 rows.*batch_size=2"):
        model.generate(torch.tensor([[5, 6, 7], [8, 9, 10]]), **GREEDY)


def test_weights_changed_after_compiling_raise_instead_of_decoding_with_the_old_ones():
    model = compile_decoding(_gpt2(), max_length=16)
    model.load_state_dict(_gpt2(seed=1).state_dict())
    with pytest.raises(RuntimeError, match=r"weights changed after compile_decoding"):
        model.generate(torch.tensor([[5, 6, 7]]), **GREEDY)


def test_a_model_cast_after_compiling_raises_instead_of_decoding_with_the_old_weights():
    model = compile_decoding(_gpt2(), max_length=16)
    model.to(torch.float64)
    with pytest.raises(RuntimeError, match=r"weights changed after compile_decoding"):
        model.generate(torch.tensor([[5, 6, 7]]), **GREEDY)


def test_restore_for_training_and_optimize_for_inference_remove_the_compiled_step():
    model = compile_decoding(_gpt2(), max_length=16)
    restore_for_training(model)
    assert "compiled_decoding" not in model._modules
    compile_decoding(model, max_length=16)
    optimize_for_inference(model)  # swaps modules: a graph compiled on the old ones would be stale
    assert "compiled_decoding" not in model._modules


def test_compile_decoding_rejects_bad_arguments_and_models_it_cannot_run():
    with pytest.raises(ValueError, match=r"max_length must be an int between 2 and the model's 32 positions"):
        compile_decoding(_gpt2(), max_length=33)
    with pytest.raises(ValueError, match=r"batch_size must be a positive int, got 0"):
        compile_decoding(_gpt2(), max_length=16, batch_size=0)
    with pytest.raises(ValueError, match=r"backend must be one of \('dynamo', 'aoti'\), got 'inductor'"):
        compile_decoding(_gpt2(), max_length=16, backend="inductor")
    bert = clearformer.BertModel(clearformer.BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=1,
                                                         num_attention_heads=4, intermediate_size=37))  # fmt: skip
    with pytest.raises(TypeError, match=r"GPT-2-style decoder-only models.*BertModel"):
        compile_decoding(bert, max_length=16)


def test_dynamic_cache_or_no_cache_asks_for_the_eager_path():
    model = compile_decoding(_gpt2(), max_length=16)
    ids = torch.tensor([[5, 6, 7]])
    eager = _eager_twin(model).generate(ids, **GREEDY)
    assert torch.equal(model.generate(ids, cache_implementation="dynamic", **GREEDY), eager)
    assert torch.equal(model.generate(ids, use_cache=False, **GREEDY), eager)
    assert model.compiled_decoding.compile_seconds is None  # nothing was compiled
