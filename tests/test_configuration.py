"""Config dataclasses: config.json keys, unknown keys kept, labels, aliases."""

from __future__ import annotations

import json

import pytest

from clearformer import AutoConfig, BertConfig, DistilBertConfig


def test_unknown_keys_survive_a_round_trip(tmp_path):
    data = {
        "model_type": "bert",
        "hidden_size": 48,
        "num_attention_heads": 4,
        "gradient_checkpointing": False,
        "my_custom_key": [1, 2, {"x": "y"}],
        "_name_or_path": "x",
    }
    (tmp_path / "config.json").write_text(json.dumps(data))
    config = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(config, BertConfig) and config.hidden_size == 48
    assert config.my_custom_key == [1, 2, {"x": "y"}]
    config.save_pretrained(tmp_path / "out")
    saved = json.loads((tmp_path / "out" / "config.json").read_text())
    assert saved["my_custom_key"] == [1, 2, {"x": "y"}] and saved["gradient_checkpointing"] is False
    assert BertConfig.from_pretrained(tmp_path / "out") == config


def test_num_labels_builds_id2label_and_json_keys_are_strings():
    config = BertConfig.from_dict({"num_labels": 3})
    assert config.id2label == {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"} and config.num_labels == 3
    config = BertConfig.from_dict({"id2label": {"0": "neg", "1": "pos"}})
    assert config.id2label == {0: "neg", 1: "pos"} and config.label2id == {"neg": 0, "pos": 1}
    assert json.loads(config.to_json_string())["id2label"] == {"0": "neg", "1": "pos"}


def test_attribute_map_aliases_read_and_write():
    config = DistilBertConfig(dim=64)
    assert config.hidden_size == 64
    config.hidden_size = 128
    assert config.dim == 128
    assert DistilBertConfig.from_dict({"hidden_size": 96}).dim == 96


def test_torch_dtype_is_read_as_dtype():
    assert BertConfig.from_dict({"torch_dtype": "float16"}).dtype == "float16"


def test_wrong_model_type_for_class(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "distilbert"}))
    with pytest.raises(ValueError, match="AutoConfig"):
        BertConfig.from_pretrained(tmp_path)


def test_malformed_config_json_names_line(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "bert",\n "x": }')
    with pytest.raises(ValueError, match=r"config.json is not valid JSON \(line 2"):
        AutoConfig.from_pretrained(tmp_path)
