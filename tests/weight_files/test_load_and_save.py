"""The one loader: formats, shards, key fix-ups, strict reports and refusals."""

from __future__ import annotations

import json
import logging
import os

import pytest
import torch

import clearformer
from clearformer.weight_files import CheckpointError
from tests.models._oracle import oracle_config

transformers = pytest.importorskip("transformers", reason="transformers is the test oracle")


@pytest.fixture()
def oracle_mlm(tmp_path):
    torch.manual_seed(0)
    ref = transformers.BertForMaskedLM(oracle_config("bert")).eval()
    ref.save_pretrained(tmp_path / "ref")
    return ref, tmp_path / "ref"


def _ids():
    return torch.tensor([[5, 6, 7, 8, 9, 10]])


def _same_logits(ref, ours):
    with torch.no_grad():
        assert (ref(_ids()).logits - ours(_ids()).logits).abs().max() < 1e-5


def test_bin_checkpoint_loads(oracle_mlm, tmp_path):
    ref, folder = oracle_mlm
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "config.json").write_text((folder / "config.json").read_text())
    torch.save(ref.state_dict(), bin_dir / "pytorch_model.bin")  # 5.24 no longer writes .bin
    _same_logits(ref, clearformer.AutoModelForMaskedLM.from_pretrained(bin_dir))


@pytest.mark.parametrize("safe", [True, False])
def test_sharded_save_and_load_round_trip(oracle_mlm, tmp_path, safe):
    ref, folder = oracle_mlm
    ours = clearformer.AutoModelForMaskedLM.from_pretrained(folder)
    ours.save_pretrained(tmp_path / "sharded", safe_serialization=safe, max_shard_size="20KB")
    index = "model.safetensors.index.json" if safe else "pytorch_model.bin.index.json"
    weight_map = json.loads((tmp_path / "sharded" / index).read_text())["weight_map"]
    assert len(set(weight_map.values())) > 1
    _same_logits(ref, clearformer.AutoModelForMaskedLM.from_pretrained(tmp_path / "sharded"))
    if safe:  # the oracle reads our shards too
        _same_logits(transformers.BertForMaskedLM.from_pretrained(tmp_path / "sharded").eval(), ours)


def test_oracle_shards_load(oracle_mlm, tmp_path):
    ref, _ = oracle_mlm
    ref.save_pretrained(tmp_path / "osh", max_shard_size="20KB")
    assert (tmp_path / "osh" / "model.safetensors.index.json").exists()
    _same_logits(ref, clearformer.AutoModelForMaskedLM.from_pretrained(tmp_path / "osh"))


def test_resave_in_other_format_removes_stale_weights(oracle_mlm, tmp_path):
    _, folder = oracle_mlm
    ours = clearformer.AutoModelForMaskedLM.from_pretrained(folder)
    ours.save_pretrained(tmp_path / "x", safe_serialization=False)
    ours.save_pretrained(tmp_path / "x")
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["config.json", "model.safetensors"]


def test_prefix_is_added_and_stripped(oracle_mlm, tmp_path):
    ref, folder = oracle_mlm
    # Base checkpoint without the "bert." prefix (as the MiniLM one) into a head model ...
    torch.manual_seed(0)
    base = transformers.BertModel(oracle_config("bert")).eval()
    base.save_pretrained(tmp_path / "base")
    from safetensors.torch import load_file

    assert not any(k.startswith("bert.") for k in load_file(tmp_path / "base" / "model.safetensors"))
    head = clearformer.BertForSequenceClassification.from_pretrained(tmp_path / "base")
    assert torch.equal(head.bert.embeddings.word_embeddings.weight, base.embeddings.word_embeddings.weight)
    # ... and a head checkpoint ("bert." keys + cls.*) into the base model.
    plain = clearformer.BertModel.from_pretrained(folder, add_pooling_layer=False)
    assert torch.equal(plain.embeddings.word_embeddings.weight, ref.bert.embeddings.word_embeddings.weight)


def test_new_head_is_reported(tmp_path, caplog):
    torch.manual_seed(0)
    transformers.BertModel(oracle_config("bert")).save_pretrained(tmp_path)
    with caplog.at_level(logging.WARNING):
        model, info = clearformer.AutoModelForSequenceClassification.from_pretrained(
            tmp_path, num_labels=3, output_loading_info=True
        )
    assert sorted(info["missing_keys"]) == ["classifier.bias", "classifier.weight"]
    assert "newly initialised" in caplog.text and "classifier.weight" in caplog.text
    assert model.config.num_labels == 3


def test_legacy_gamma_beta_names_load(oracle_mlm, tmp_path):
    ref, folder = oracle_mlm
    state = {
        k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
        for k, v in ref.state_dict().items()
    }
    assert any(k.endswith("gamma") for k in state)
    out = tmp_path / "legacy"
    out.mkdir()
    (out / "config.json").write_text((folder / "config.json").read_text())
    torch.save(state, out / "pytorch_model.bin")
    _same_logits(ref, clearformer.AutoModelForMaskedLM.from_pretrained(out))


def test_unexplained_keys_raise_naming_them(oracle_mlm, tmp_path):
    ref, folder = oracle_mlm
    state = dict(ref.state_dict())
    del state["bert.encoder.layer.1.output.dense.weight"]
    state["bert.encoder.layer.0.surprise"] = torch.zeros(3)
    out = tmp_path / "bad"
    out.mkdir()
    (out / "config.json").write_text((folder / "config.json").read_text())
    from safetensors.torch import save_file

    tied = ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias")
    save_file({k: v.clone() for k, v in state.items() if k not in tied}, out / "model.safetensors")
    with pytest.raises(CheckpointError) as e:
        clearformer.AutoModelForMaskedLM.from_pretrained(out)
    assert "encoder.layer.1.output.dense.weight" in str(e.value) and "surprise" in str(e.value)


def test_head_shape_mismatch_needs_ignore_mismatched_sizes(tmp_path):
    torch.manual_seed(0)
    transformers.BertForSequenceClassification(oracle_config("bert", num_labels=2)).save_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match="ignore_mismatched_sizes=True"):
        clearformer.AutoModelForSequenceClassification.from_pretrained(tmp_path, num_labels=5)
    model, info = clearformer.AutoModelForSequenceClassification.from_pretrained(
        tmp_path, num_labels=5, ignore_mismatched_sizes=True, output_loading_info=True
    )
    assert model.classifier.weight.shape == (5, 32)
    assert "classifier.weight" in info["missing_keys"]


@pytest.mark.parametrize("damage", ["truncate", "garbage_header"])
def test_corrupt_safetensors_names_the_file(oracle_mlm, tmp_path, damage):
    _, folder = oracle_mlm
    bad = tmp_path / "corrupt"
    bad.mkdir()
    (bad / "config.json").write_text((folder / "config.json").read_text())
    data = (folder / "model.safetensors").read_bytes()
    data = data[: len(data) // 2] if damage == "truncate" else b"\xff" * 16 + data[16:]
    (bad / "model.safetensors").write_bytes(data)
    with pytest.raises(CheckpointError, match="model.safetensors"):
        clearformer.AutoModelForMaskedLM.from_pretrained(bad)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/clearformer-pwned",))


def test_pickle_with_code_is_refused(oracle_mlm, tmp_path):
    _, folder = oracle_mlm
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "config.json").write_text((folder / "config.json").read_text())
    torch.save({"bert.embeddings.word_embeddings.weight": _Evil()}, evil / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="refused"):
        clearformer.AutoModelForMaskedLM.from_pretrained(evil)
    assert not os.path.exists("/tmp/clearformer-pwned")


def test_missing_weights_and_config_name_the_paths(tmp_path):
    with pytest.raises(OSError, match="config.json"):
        clearformer.AutoModel.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "bert", "hidden_size": 32, "num_attention_heads": 4})
    )
    with pytest.raises(CheckpointError, match="model.safetensors"):
        clearformer.AutoModel.from_pretrained(tmp_path)


def test_unknown_model_type_lists_supported(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama9"}))
    with pytest.raises(ValueError, match="llama9.*bert"):
        clearformer.AutoModel.from_pretrained(tmp_path)
    with pytest.raises(ValueError, match="llama9"):
        clearformer.AutoConfig.from_pretrained(tmp_path)


def test_hub_id_resolves_from_local_cache_only(oracle_mlm, tmp_path, monkeypatch):
    ref, folder = oracle_mlm
    snap = tmp_path / "hf" / "hub" / "models--org--tiny-bert" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap.parent.parent / "refs").mkdir()
    (snap.parent.parent / "refs" / "main").write_text("abc123")
    for f in folder.iterdir():
        (snap / f.name).write_bytes(f.read_bytes())
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    _same_logits(ref, clearformer.AutoModelForMaskedLM.from_pretrained("org/tiny-bert"))
    with pytest.raises(OSError, match="never downloads.*") as e:
        clearformer.AutoModel.from_pretrained("bert-base-uncased-not-here")
    assert str(tmp_path / "hf" / "hub") in str(e.value)


def test_dtype_and_device_arguments(oracle_mlm):
    _, folder = oracle_mlm
    model = clearformer.AutoModelForMaskedLM.from_pretrained(folder, dtype=torch.bfloat16, device="cpu")
    assert model.dtype == torch.bfloat16 and model.device.type == "cpu"
    assert clearformer.AutoModelForMaskedLM.from_pretrained(folder, torch_dtype="auto").dtype == torch.float32
    with pytest.raises(ValueError, match="unknown dtype"):
        clearformer.AutoModelForMaskedLM.from_pretrained(folder, dtype="float7")


def test_saving_is_atomic_per_file(oracle_mlm, tmp_path, monkeypatch):
    """A crash while writing leaves the previous weights file intact and no temp files behind."""
    _, folder = oracle_mlm
    model = clearformer.AutoModelForMaskedLM.from_pretrained(folder)
    model.save_pretrained(tmp_path / "out")
    before = (tmp_path / "out" / "model.safetensors").read_bytes()
    import safetensors.torch

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(safetensors.torch, "save_file", boom)
    with pytest.raises(KeyboardInterrupt):
        model.save_pretrained(tmp_path / "out")
    assert (tmp_path / "out" / "model.safetensors").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["config.json", "model.safetensors"]
