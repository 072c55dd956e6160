"""The length rule when nobody sets one, against transformers 5.24 on a tiny GPT-2 and a tiny T5.

5.24: with no max_length / max_new_tokens in the call, the passed GenerationConfig or the model's
generation_config, ``generate`` makes 20 NEW tokens (capped at ``max_position_embeddings``); a
max_length set anywhere counts the prompt. (4.57 differs in one corner: a max_length of exactly 20
set in a GenerationConfig or generation_config.json still meant 20 new tokens there.)
"""

from __future__ import annotations

import pytest
import torch

transformers = pytest.importorskip("transformers", reason="transformers 5.24 is the oracle for these tests")

from clearformer.generation import GenerationConfig  # noqa: E402
from clearformer.models.gpt2.modeling_gpt2 import GPT2LMHeadModel  # noqa: E402
from clearformer.models.t5.modeling_t5 import T5ForConditionalGeneration  # noqa: E402

T5_TINY = dict(vocab_size=99, d_model=32, d_kv=8, d_ff=37, num_layers=1, num_heads=4, decoder_start_token_id=0)


def _never_stop(*models):
    # No eos: every row runs to the length limit, so the limit is what the shape shows.
    for model in models:
        model.generation_config.eos_token_id = None
    return models


@pytest.fixture
def gpt2_pair(tiny_gpt2_dir):
    # Loaded afresh for each test: the tests change their generation_config.
    ref = transformers.GPT2LMHeadModel.from_pretrained(tiny_gpt2_dir, attn_implementation="eager").eval()
    return _never_stop(ref, GPT2LMHeadModel.from_pretrained(tiny_gpt2_dir).eval())


@pytest.fixture
def t5_pair(tmp_path):
    torch.manual_seed(0)
    transformers.T5ForConditionalGeneration(transformers.T5Config(**T5_TINY)).save_pretrained(tmp_path / "t5")
    ref = transformers.T5ForConditionalGeneration.from_pretrained(tmp_path / "t5", attn_implementation="eager")
    return _never_stop(ref.eval(), T5ForConditionalGeneration.from_pretrained(tmp_path / "t5").eval())


def _prompt(length: int) -> torch.Tensor:
    return torch.randint(6, 97, (2, length), generator=torch.Generator().manual_seed(length))


def test_gpt2_with_no_length_set_makes_twenty_new_tokens_like_reference(gpt2_pair):
    ref, ours = gpt2_pair
    want, got = ref.generate(_prompt(10)), ours.generate(_prompt(10))
    assert got.shape == want.shape == (2, 30)
    assert got.tolist() == want.tolist()


@pytest.mark.parametrize(
    "how", ["call", "passed_config", "model_config", "generation_config_json"], ids=lambda h: f"max_length_in_{h}"
)
def test_gpt2_max_length_set_anywhere_counts_the_prompt_like_reference(gpt2_pair, tmp_path, how):
    ref, ours = gpt2_pair
    prompt, shapes = _prompt(10), []
    for model, config_cls in ((ref, transformers.GenerationConfig), (ours, GenerationConfig)):
        kwargs = {}
        if how == "call":
            kwargs["max_length"] = 20
        elif how == "passed_config":
            kwargs["generation_config"] = config_cls(max_length=20, pad_token_id=0)
        elif how == "model_config":
            model.generation_config.max_length = 20
        else:  # a generation_config.json beside the weights that sets max_length
            config_cls(max_length=20, pad_token_id=0).save_pretrained(tmp_path / how)
            model.generation_config = config_cls.from_pretrained(tmp_path / how)
        shapes.append(model.generate(prompt, **kwargs).shape)
    assert shapes[1] == shapes[0] == (2, 20)


def test_gpt2_default_is_capped_at_the_models_positions_like_reference(gpt2_pair):
    ref, ours = gpt2_pair  # n_positions=64: a 50-token prompt leaves room for 14, not 20
    want, got = ref.generate(_prompt(50)), ours.generate(_prompt(50))
    assert got.shape == want.shape == (2, 64)
    assert got.tolist() == want.tolist()
    with pytest.raises(ValueError, match="64"):  # the reference raises too: no room left at all
        ours.generate(_prompt(64))


def test_t5_with_no_length_set_makes_twenty_new_decoder_tokens_like_reference(t5_pair):
    ref, ours = t5_pair
    want, got = ref.generate(_prompt(30)), ours.generate(_prompt(30))
    assert got.shape == want.shape == (2, 21)
    assert got.tolist() == want.tolist()
    explicit = ref.generate(_prompt(30), max_length=20), ours.generate(_prompt(30), max_length=20)
    assert explicit[1].shape == explicit[0].shape == (2, 20)
    assert explicit[1].tolist() == explicit[0].tolist()


def test_max_new_tokens_still_wins_over_everything(gpt2_pair):
    _, ours = gpt2_pair
    ours.generation_config.max_length = 15
    assert ours.generate(_prompt(10), max_new_tokens=3).shape == (2, 13)


LEGACY_SCRIPT = """
import json, sys, torch, transformers
out = {}
for name, cls, length in (("gpt2", "GPT2LMHeadModel", 10), ("t5", "T5ForConditionalGeneration", 30)):
    model = getattr(transformers, cls).from_pretrained(sys.argv[1 if name == "gpt2" else 2]).eval()
    model.generation_config.eos_token_id = None
    prompt = torch.randint(6, 97, (2, length), generator=torch.Generator().manual_seed(length))
    out[name] = model.generate(prompt).tolist()
print(json.dumps(out))
"""


@pytest.mark.legacy
def test_no_length_set_gives_the_same_ids_as_transformers_4_57(gpt2_pair, t5_pair, tiny_gpt2_dir, tmp_path):
    import json

    from tests.conftest import LEGACY_PYTHON, run_legacy

    if not LEGACY_PYTHON.exists():
        pytest.skip("needs .venv-legacy (scripts/setup_legacy_oracle.sh)")
    want = json.loads(
        run_legacy(LEGACY_PYTHON, LEGACY_SCRIPT, str(tiny_gpt2_dir), str(tmp_path / "t5")).splitlines()[-1]
    )
    assert gpt2_pair[1].generate(_prompt(10)).tolist() == want["gpt2"]  # 10 + 20 tokens
    assert t5_pair[1].generate(_prompt(30)).tolist() == want["t5"]  # start token + 20
    assert (len(want["gpt2"][0]), len(want["t5"][0])) == (30, 21)
