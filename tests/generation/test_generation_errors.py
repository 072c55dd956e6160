"""Bad generate() input fails once, on entry, with a message that says what to do."""

from __future__ import annotations

import re

import pytest
import torch


def test_prompt_plus_new_tokens_beyond_positions_is_an_error(models):
    _, model = models  # n_positions = 64
    prompt = torch.randint(6, 97, (1, 60))
    with pytest.raises(ValueError, match="exceeds the model's 64 positions"):
        model.generate(prompt, max_new_tokens=5)
    with pytest.raises(ValueError, match="n_positions"):
        model(torch.randint(6, 97, (1, 65)))


@pytest.mark.parametrize("n", [0, -3])
def test_max_new_tokens_must_be_positive(models, n):
    _, model = models
    with pytest.raises(ValueError, match="max_new_tokens must be a positive"):
        model.generate(torch.randint(6, 97, (1, 4)), max_new_tokens=n)


@pytest.mark.parametrize("top_p", [0.0, -0.1, 1.5])
def test_top_p_outside_unit_interval_is_an_error(models, top_p):
    _, model = models
    with pytest.raises(ValueError, match=r"top_p must be in \(0, 1\]"):
        model.generate(torch.randint(6, 97, (1, 4)), do_sample=True, top_p=top_p, max_new_tokens=2)


def test_more_beams_than_vocabulary_is_an_error(models):
    _, model = models
    with pytest.raises(ValueError, match="larger than the vocabulary"):
        model.generate(torch.randint(6, 97, (1, 4)), num_beams=98, max_new_tokens=2)


def test_batched_prompts_without_pad_token_or_mask_is_an_error(models):
    _, model = models
    config = model.generation_config.copy()
    config.pad_token_id = None
    with pytest.raises(ValueError, match="needs an attention_mask"):
        model.generate(torch.randint(6, 97, (2, 4)), generation_config=config, max_new_tokens=2)


def test_other_bad_settings_are_errors(models):
    _, model = models
    prompt = torch.randint(6, 97, (1, 4))
    with pytest.raises(ValueError, match="temperature"):
        model.generate(prompt, do_sample=True, temperature=0.0, max_new_tokens=2)
    with pytest.raises(TypeError, match="unknown arguments"):
        model.generate(prompt, max_new_token=2)
    with pytest.raises(IndexError, match="embedding has 97 rows"):
        model.generate(torch.tensor([[5, 400]]), max_new_tokens=2)
    with pytest.raises(ValueError, match="max_length"):
        model.generate(prompt, max_length=3)


@pytest.mark.parametrize("name", ["eos_token_id", "pad_token_id"])
def test_special_token_id_outside_the_vocabulary_is_an_error(models, name):
    # e.g. a small GPT-2 config that kept the default eos 50256: min_new_tokens would index past
    # the logits; the reference only warns about it.
    _, model = models
    with pytest.raises(ValueError, match=f"{name} 500 is outside the model's vocabulary of 97"):
        model.generate(torch.randint(6, 97, (1, 4)), max_new_tokens=2, min_new_tokens=2, **{name: 500})


# --- argument types (issue 16): a float or a string is named, not crashed on deep in the loop ---------
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("max_new_tokens", 2.5),
        ("max_new_tokens", "5"),
        ("max_new_tokens", True),
        ("max_length", 7.5),
        ("max_length", "10"),
        ("num_beams", 2.0),
        ("num_beams", "2"),
        ("top_k", 2.5),
        ("top_k", "3"),
        ("min_new_tokens", 1.5),
        ("num_return_sequences", "1"),
        ("no_repeat_ngram_size", 2.0),
    ],
)
def test_integer_settings_of_the_wrong_type_name_the_argument(models, name, value):
    _, model = models
    kwargs = {"max_new_tokens": 2, name: value}
    with pytest.raises(ValueError, match=rf"{name} must be an integer, got {value!r} \({type(value).__name__}\)"):
        model.generate(torch.randint(6, 97, (1, 4)), **kwargs)


@pytest.mark.parametrize(
    ("name", "value"),
    [("temperature", "0.7"), ("top_p", "0.9"), ("repetition_penalty", [1.2]), ("length_penalty", "1")],
)
def test_number_settings_of_the_wrong_type_name_the_argument(models, name, value):
    _, model = models
    with pytest.raises(ValueError, match=re.escape(f"{name} must be a number, got {value!r}")):
        model.generate(torch.randint(6, 97, (1, 4)), max_new_tokens=2, do_sample=True, **{name: value})


def test_none_means_the_default_setting_as_in_the_reference(models):
    ref, model = models
    prompt = torch.randint(6, 97, (1, 4))
    settings = {"temperature": None, "top_k": None, "repetition_penalty": None}
    ours = model.generate(prompt, max_new_tokens=3, **settings)
    assert ours.tolist() == ref.generate(prompt, max_new_tokens=3, **settings).tolist()
    assert ours.tolist() == model.generate(prompt, max_new_tokens=3).tolist()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("num_beams", 0, "num_beams must be >= 1"),
        ("num_beams", -2, "num_beams must be >= 1"),
        ("top_k", -1, "top_k must be >= 0"),
        ("min_length", -1, "min_length must be >= 0"),
        ("min_new_tokens", -1, "min_new_tokens must be >= 0"),
        ("num_return_sequences", 0, "num_return_sequences must be >= 1"),
        ("max_length", -5, "max_length must be positive"),
    ],
)
def test_negative_settings_name_the_argument(models, name, value, expected):
    _, model = models
    kwargs = {"max_new_tokens": 2, name: value} if name != "max_length" else {name: value}
    with pytest.raises(ValueError, match=expected):
        model.generate(torch.randint(6, 97, (1, 4)), **kwargs)


def test_do_sample_must_be_a_bool(models):
    _, model = models
    with pytest.raises(ValueError, match=r"do_sample must be True or False, got 'yes'"):
        model.generate(torch.randint(6, 97, (1, 4)), max_new_tokens=2, do_sample="yes")


def test_integer_like_numpy_values_are_accepted(models):
    np = pytest.importorskip("numpy")
    _, model = models
    out = model.generate(torch.randint(6, 97, (1, 4)), max_new_tokens=np.int64(3), num_beams=np.int32(1))
    assert out.shape == (1, 7)


@pytest.mark.parametrize("batch", [1, 2])
def test_empty_prompt_batch_is_a_clear_error_as_the_reference_cannot_generate(models, batch):
    # transformers 5.24 fails on a (B, 0) prompt inside the model (a reshape / index error); here the
    # error says what to pass instead.
    _, model = models
    with pytest.raises(ValueError, match=r"shape \(\d, 0\).*pass no input_ids to start from bos_token_id 1"):
        model.generate(torch.zeros((batch, 0), dtype=torch.long), max_new_tokens=2)


def test_no_prompt_starts_from_bos_as_the_reference(models):
    ref, model = models
    ours = model.generate(max_new_tokens=3)
    theirs = ref.generate(max_new_tokens=3)
    assert ours.tolist() == theirs.tolist() and ours[0, 0].item() == 1


# --- issue 17: validation is passed to the loop, never written onto the model ----------------------------
class _Probe:
    """A logits processor that looks at the model from inside the decoding loop."""

    def __init__(self, model, action):
        self.model, self.action, self.seen = model, action, []

    def __call__(self, input_ids, scores):
        self.seen.append(self.action(self.model))
        return scores


def test_generate_sets_no_flag_on_the_model(models):
    _, model = models
    before = {name: dict(vars(m)) for name, m in model.named_modules()}

    def flags(m):
        return sorted(
            (name, key)
            for name, module in m.named_modules()
            for key, value in vars(module).items()
            if key not in before[name] or (value is not before[name][key] and not isinstance(value, dict))
        )

    probe = _Probe(model, flags)
    model.generate(torch.randint(6, 97, (1, 4)), max_new_tokens=2, logits_processor=[probe])
    assert probe.seen == [[], []]
    assert not any(getattr(m, "_inputs_checked", False) for m in model.modules())


def test_a_call_from_another_thread_during_generate_is_still_checked(models):
    import threading

    _, model = models

    def call_in_thread(m):
        errors = []

        def bad_call():
            try:
                m(torch.tensor([[5, 400]]))
            except Exception as err:  # noqa: BLE001 - the test inspects whichever error came
                errors.append(err)

        thread = threading.Thread(target=bad_call)
        thread.start()
        thread.join()
        return errors

    probe = _Probe(model, call_in_thread)
    model.generate(torch.randint(6, 97, (1, 4)), max_new_tokens=1, logits_processor=[probe])
    (errors,) = probe.seen
    assert len(errors) == 1 and isinstance(errors[0], IndexError) and "embedding has 97 rows" in str(errors[0])


def test_the_decoding_loop_skips_the_models_per_call_checks(models, monkeypatch):
    # The cost side of issue 17: validation happens once on entry, not in every step's forward.
    import clearformer.models.gpt2.modeling_gpt2 as modeling_gpt2

    _, model = models
    calls = []
    real = modeling_gpt2.validate_input_ids
    monkeypatch.setattr(modeling_gpt2, "validate_input_ids", lambda *a: calls.append(1) or real(*a))
    model.generate(torch.randint(6, 97, (1, 4)), max_new_tokens=4)
    assert calls == []
    model(torch.randint(6, 97, (1, 4)))
    assert calls == [1]
