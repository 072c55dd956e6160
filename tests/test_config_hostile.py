"""Hostile config.json files: absurd sizes, wrong JSON types, wrong shapes.

Every case must end in a ValueError that names the file or field, the value and the fix, raised
while reading the config: before any tensor is allocated.
"""

from __future__ import annotations

import json

import pytest
import torch

from clearformer import AutoConfig, BertConfig, BertModel, GPT2Config, T5Config
from clearformer.models.auto import CONFIG_MAPPING, AutoModel


def write(tmp_path, data, raw: bytes | None = None):
    path = tmp_path / "config.json"
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text(json.dumps(data))
    return tmp_path


# A huge value for each size field of each family. Widths are multiples of the default head count
# so the error is about the size, not about heads dividing the width.
HUGE = [
    ("bert", "num_hidden_layers", 10**6),
    ("bert", "hidden_size", 12 * 10**5),
    ("bert", "vocab_size", 10**9),
    ("bert", "intermediate_size", 10**9),
    ("bert", "max_position_embeddings", 10**9),
    ("bert", "type_vocab_size", 10**9),
    ("roberta", "num_hidden_layers", 10**6),
    ("roberta", "vocab_size", 10**9),
    ("gpt2", "n_layer", 10**6),
    ("gpt2", "n_embd", 12 * 10**5),
    ("gpt2", "vocab_size", 10**9),
    ("gpt2", "n_positions", 10**9),
    ("gpt2", "n_inner", 10**9),
    ("distilbert", "n_layers", 10**6),
    ("distilbert", "dim", 12 * 10**5),
    ("distilbert", "hidden_dim", 10**9),
    ("distilbert", "vocab_size", 10**9),
    ("distilbert", "max_position_embeddings", 10**9),
    ("t5", "num_layers", 10**6),
    ("t5", "num_decoder_layers", 10**6),
    ("t5", "d_model", 10**6),
    ("t5", "d_ff", 10**9),
    ("t5", "d_kv", 10**8),
    ("t5", "num_heads", 10**8),
    ("t5", "vocab_size", 10**9),
    ("t5", "relative_attention_num_buckets", 10**10),
    ("marian", "encoder_layers", 10**6),
    ("marian", "decoder_layers", 10**6),
    ("marian", "d_model", 16 * 10**5),
    ("marian", "encoder_ffn_dim", 10**9),
    ("marian", "decoder_ffn_dim", 10**9),
    ("marian", "vocab_size", 10**9),
    ("marian", "max_position_embeddings", 10**9),
]


@pytest.mark.parametrize("model_type,field,value", HUGE)
def test_absurd_size_is_refused_while_reading_config_json(tmp_path, model_type, field, value):
    folder = write(tmp_path, {"model_type": model_type, field: value})
    with pytest.raises(ValueError) as err:
        AutoConfig.from_pretrained(folder)
    message = str(err.value)
    assert "config.json" in message and f"{field}={value}" in message, message


def test_parameter_limit_names_the_largest_part_and_how_to_raise_it(tmp_path):
    folder = write(tmp_path, {"model_type": "bert", "num_hidden_layers": 1000, "hidden_size": 12 * 1024})
    with pytest.raises(ValueError) as err:
        AutoConfig.from_pretrained(folder)
    message = str(err.value)
    assert "parameters" in message and "num_hidden_layers=1000" in message and "hidden_size=12288" in message
    assert "max_parameters" in message  # the fix for someone who really means it


def test_model_rechecks_a_config_edited_after_loading():
    config = BertConfig(hidden_size=32, num_attention_heads=4, num_hidden_layers=1, intermediate_size=8)
    config.vocab_size = 10**13  # nn.Embedding would fail with an unrelated allocation error
    with pytest.raises(ValueError, match=r"vocab_size=10000000000000"):
        BertModel(config)


@pytest.mark.parametrize(
    "config",
    [
        # t5-11b, the largest checkpoint of the families here (11B parameters); gpt2-xl; bert-large.
        {"model_type": "t5", "d_model": 1024, "d_ff": 65536, "d_kv": 128, "num_heads": 128, "num_layers": 24},
        {"model_type": "gpt2", "n_embd": 1600, "n_layer": 48, "n_head": 25},
        {"model_type": "bert", "hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16},
    ],
)
def test_real_large_checkpoints_configs_still_load(tmp_path, config):
    AutoConfig.from_pretrained(write(tmp_path, config))


@pytest.mark.parametrize(
    "config",
    [
        BertConfig(
            vocab_size=99,
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=24,
            position_embedding_type="relative_key",
        ),
        GPT2Config(vocab_size=99, n_embd=16, n_layer=2, n_head=2, n_positions=20),
        T5Config(vocab_size=99, d_model=16, d_ff=24, d_kv=4, num_heads=2, num_layers=2, feed_forward_proj="gated-gelu"),
    ],
    ids=["bert", "gpt2", "t5"],
)
def test_parameter_estimate_is_within_a_tenth_of_the_real_count(config):
    model = AutoModel.from_config(config)
    real = sum(p.numel() for p in model.parameters()) + sum(b.numel() for b in model.buffers())
    assert abs(config.estimated_parameters() - real) <= 0.1 * real, (config.estimated_parameters(), real)


# (value, a phrase the message must contain). Values as they come out of JSON.
WRONG_INT = [
    ("32", "without quotes"),
    (2.5, "whole number"),
    (None, "null"),
    (True, "true/false"),
    ([12], "a list"),
    ({"n": 12}, "an object"),
]


@pytest.mark.parametrize("value,phrase", WRONG_INT, ids=[repr(v) for v, _ in WRONG_INT])
@pytest.mark.parametrize("field", ["num_hidden_layers", "hidden_size", "vocab_size", "num_attention_heads"])
def test_wrong_json_type_for_a_size_names_field_value_and_fix(tmp_path, field, value, phrase):
    folder = write(tmp_path, {"model_type": "bert", field: value})
    with pytest.raises(ValueError) as err:
        AutoConfig.from_pretrained(folder)
    message = str(err.value)
    assert "config.json" in message and field in message and repr(value) in message, message
    assert phrase in message and "e.g." in message, message


@pytest.mark.parametrize(
    "field,value,phrase",
    [
        ("num_attention_heads", 0, "at least 1"),
        ("num_hidden_layers", -3, "at least 0"),
        ("vocab_size", -1, "at least 1"),
        ("num_attention_heads", 5, "not a multiple"),
        ("hidden_dropout_prob", 1.5, "between 0 and 1"),
        ("hidden_dropout_prob", float("nan"), "finite"),
        ("hidden_act", "gelu2", "known"),
        ("position_embedding_type", "rotary", "absolute"),
        ("pad_token_id", 40000, "vocab_size"),
        ("pad_token_id", -1, "at least 0"),
        ("layer_norm_eps", -1e-5, "at least 0"),
        ("problem_type", "regresion", "single_label_classification"),
        ("num_labels", 0, "at least 1"),
        ("num_labels", 10**12, "at most"),
        ("architectures", "BertModel", "a list"),
    ],
)
def test_out_of_range_value_names_field_value_and_rule(tmp_path, field, value, phrase):
    folder = write(tmp_path, {"model_type": "bert", field: value})
    with pytest.raises(ValueError) as err:
        AutoConfig.from_pretrained(folder)
    message = str(err.value)
    assert field in message and phrase in message, message


def test_constructor_checks_each_value_and_validate_checks_them_together():
    with pytest.raises(ValueError, match=r"num_hidden_layers='12'"):
        BertConfig(num_hidden_layers="12")
    with pytest.raises(ValueError, match=r"feed_forward_proj=3"):
        T5Config(feed_forward_proj=3)
    with pytest.raises(ValueError, match=r"n_layer=100000"):
        GPT2Config(n_layer=100_000)
    config = GPT2Config(n_head=5)  # inconsistent for now, as the reference allows while editing
    with pytest.raises(ValueError, match=r"n_embd \(768\) is not a multiple of n_head \(5\)"):
        config.validate()
    config.n_embd = 640
    config.validate()


@pytest.mark.parametrize(
    "raw",
    [b"[1, 2, 3]", b"3", b'"bert"', b"null", b"\xff\xfe{not utf-8", b"[" * 100_000 + b"]" * 100_000, b""],
    ids=["list", "number", "string", "null", "not-utf8", "deeply-nested", "empty"],
)
def test_config_json_that_is_not_an_object_names_the_file(tmp_path, raw):
    folder = write(tmp_path, None, raw=raw)
    with pytest.raises(ValueError, match=r"config\.json"):
        AutoConfig.from_pretrained(folder)


@pytest.mark.parametrize("model_type", [None, ["bert"], 3, "bart"])
def test_missing_or_odd_model_type_lists_the_supported_ones(tmp_path, model_type):
    data = {"hidden_size": 32} if model_type is None else {"model_type": model_type}
    with pytest.raises(ValueError, match=r"config\.json.*model_type.*bert"):
        AutoConfig.from_pretrained(write(tmp_path, data))


@pytest.mark.parametrize(
    "id2label,phrase",
    [
        ({"a": "x"}, "'a'"),
        ({"0": "x", "2": "y"}, "0..1"),
        (["neg", "pos"], "an object"),
        ({"0": 5}, "5"),
    ],
)
def test_bad_id2label_names_the_key(tmp_path, id2label, phrase):
    folder = write(tmp_path, {"model_type": "bert", "id2label": id2label})
    with pytest.raises(ValueError) as err:
        AutoConfig.from_pretrained(folder)
    assert "id2label" in str(err.value) and phrase in str(err.value), str(err.value)


def test_string_label_keys_written_by_transformers_become_ints(tmp_path):
    folder = write(tmp_path, {"model_type": "bert", "id2label": {"1": "pos", "0": "neg"}, "label2id": {"neg": "0"}})
    config = AutoConfig.from_pretrained(folder)
    assert config.id2label == {0: "neg", 1: "pos"} and config.label2id == {"neg": 0}


@pytest.mark.parametrize("model_type", sorted(CONFIG_MAPPING))
def test_every_family_default_config_is_valid(model_type):
    config = AutoConfig.for_model(model_type)
    config.validate()
    with torch.device("meta"):  # the default (full-size) model builds without allocating
        AutoModel.from_config(config)
