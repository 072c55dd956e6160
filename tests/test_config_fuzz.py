"""Fuzz config.json (hypothesis): any JSON in any field gives a model or a clear ValueError/OSError.

Each example starts from a tiny valid config of one family and overwrites a few keys with random
JSON values (ints from tiny to 10**30, floats incl. NaN/inf, strings, null, bools, lists, objects).
A config that validates must build its models and survive a save/load round trip; a config that
does not must raise ValueError or OSError with a message. Anything else (KeyError, AttributeError,
RuntimeError, ZeroDivisionError, OverflowError, an allocation that takes minutes) is a bug. Sizes
in the generated ints are either tiny or absurd, so every model actually built stays tiny.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearformer import AutoConfig
from clearformer.models.auto import (
    CONFIG_MAPPING,
    MODEL_MAPPINGS,
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoModelForSeq2SeqLM,
    AutoModelForSequenceClassification,
)

TINY = {
    "bert": dict(
        vocab_size=20,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=8,
        max_position_embeddings=16,
    ),
    "roberta": dict(
        vocab_size=20,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=8,
        max_position_embeddings=16,
    ),
    "distilbert": dict(vocab_size=20, dim=8, n_layers=1, n_heads=2, hidden_dim=8, max_position_embeddings=16),
    "gpt2": dict(vocab_size=20, n_embd=8, n_layer=1, n_head=2, n_positions=16, bos_token_id=0, eos_token_id=0),
    "marian": dict(
        vocab_size=20,
        d_model=8,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=8,
        decoder_ffn_dim=8,
        max_position_embeddings=16,
        pad_token_id=19,
        decoder_start_token_id=19,
        eos_token_id=0,
    ),
    "t5": dict(vocab_size=20, d_model=8, d_kv=4, d_ff=8, num_layers=1, num_heads=2),
}

INTS = st.one_of(
    st.integers(-2, 9),
    st.sampled_from([10**6, 10**9, 2**31, 2**63, 10**30, -(10**9)]),
)
WORDS = st.sampled_from(
    [
        "gelu",
        "relu",
        "swish",
        "gated-gelu",
        "gated-relu",
        "absolute",
        "relative_key",
        "float16",
        "regression",
        "cls_index",
        "0",
        "12",
        "",
    ]
)
SCALARS = st.one_of(INTS, st.floats(), st.text(max_size=6), WORDS, st.none(), st.booleans())
KEYS = st.one_of(st.sampled_from(["0", "1", "2", "-1", "a", "LABEL_0"]), st.text(max_size=4))
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=6,
)

HEADS = {  # which models of each family the fuzz builds when the config validates
    "sequence_classification": AutoModelForSequenceClassification,
    "masked_lm": AutoModelForMaskedLM,
    "causal_lm": AutoModelForCausalLM,
    "seq2seq_lm": AutoModelForSeq2SeqLM,
}


def keys_of(model_type: str) -> list[str]:
    config_cls = AutoConfig.config_class_for(model_type)
    names = set(config_cls.field_names()) | set(config_cls.attribute_map)
    return sorted(names | {"num_labels", "torch_dtype", "my_unknown_key", "pruned_heads"})


def check_one(model_type: str, edits: dict) -> None:
    data = {"model_type": model_type, **TINY[model_type], **edits}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "config.json").write_text(json.dumps(data))
        try:
            config = AutoConfig.from_pretrained(folder)
        except (ValueError, OSError) as err:
            assert str(err).strip(), f"empty message for {edits!r}"
            return
        AutoModel.from_config(config)
        for task, auto in HEADS.items():
            if model_type in MODEL_MAPPINGS[task]:
                auto.from_config(config)
        config.save_pretrained(folder / "again")
        assert AutoConfig.from_pretrained(folder / "again").to_json_string() == config.to_json_string()


@pytest.mark.parametrize("model_type", sorted(CONFIG_MAPPING))
def test_any_json_in_config_gives_a_model_or_a_clear_error(model_type):
    keys = keys_of(model_type)

    @settings(max_examples=40, deadline=None, database=None)
    @given(edits=st.dictionaries(st.sampled_from(keys), JSON_VALUES, min_size=1, max_size=3))
    def run(edits):
        check_one(model_type, edits)

    run()
