"""from_pretrained builds without random init, initialises only what the checkpoint lacks, owns its tensors.

Loading never replaces ``torch.nn.init`` (other threads keep working), leaves no meta tensor behind,
gives buffers the values a normally built model has, and a head the checkpoint lacks gets exactly the
weights the previous loader gave it for the same seed (owner and parent: reset_parameters, then
the model's ``_init_weights``).
"""

from __future__ import annotations

import hashlib
import math
import threading

import pytest
import torch
from torch import nn

import clearformer
import clearformer.modeling_utils as modeling_utils


def _tiny_bert(num_labels=2):
    config = clearformer.BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64
    )
    config.num_labels = num_labels
    return config


def _tiny_gpt2():
    return clearformer.GPT2Config(vocab_size=99, n_embd=64, n_layer=3, n_head=4, n_positions=32)


def _tiny_distilbert(sinusoidal):
    return clearformer.DistilBertConfig(
        vocab_size=99, dim=32, n_heads=4, n_layers=2, hidden_dim=64, sinusoidal_pos_embds=sinusoidal
    )


def _tiny_roberta():
    return clearformer.RobertaConfig(
        vocab_size=99,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        pad_token_id=1,
        max_position_embeddings=40,
    )


def _tiny_marian():
    return clearformer.MarianConfig(
        vocab_size=99,
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=40,
        pad_token_id=98,
        decoder_start_token_id=98,
        eos_token_id=0,
    )


def _tiny_t5():
    return clearformer.T5Config(
        vocab_size=99, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_decoder_layers=2, num_heads=4
    )


FAMILIES = {
    "bert-mlm": (clearformer.BertForMaskedLM, lambda: _tiny_bert()),
    "bert-cls": (clearformer.BertForSequenceClassification, lambda: _tiny_bert(num_labels=3)),
    "distilbert-learned": (clearformer.DistilBertForSequenceClassification, lambda: _tiny_distilbert(False)),
    "distilbert-sinusoidal": (clearformer.DistilBertForMaskedLM, lambda: _tiny_distilbert(True)),
    "roberta": (clearformer.RobertaForMaskedLM, _tiny_roberta),
    "gpt2": (clearformer.GPT2LMHeadModel, _tiny_gpt2),
    "marian": (clearformer.MarianMTModel, _tiny_marian),
    "t5": (clearformer.T5ForConditionalGeneration, _tiny_t5),
}


def _meta_tensors(model: nn.Module) -> list[str]:
    named = [*model.named_parameters(remove_duplicate=False), *model.named_buffers(remove_duplicate=False)]
    return [name for name, t in named if t.is_meta]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_loaded_model_equals_the_saved_one_buffers_included_and_holds_no_meta_tensor(family, tmp_path):
    cls, make_config = FAMILIES[family]
    torch.manual_seed(0)
    built = cls(make_config()).eval()
    built.save_pretrained(tmp_path)
    rng = torch.get_rng_state()
    loaded = cls.from_pretrained(tmp_path)
    assert torch.equal(torch.get_rng_state(), rng)  # nothing missing: no random number drawn
    assert _meta_tensors(loaded) == []
    # Every buffer, non-persistent ones (position_ids, sinusoidal tables) included, as built.
    want = dict(built.named_buffers(remove_duplicate=False))
    got = dict(loaded.named_buffers(remove_duplicate=False))
    assert sorted(got) == sorted(want)
    for name, value in want.items():
        assert got[name].dtype == value.dtype and torch.equal(got[name], value), name
    for name, value in built.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name
    # Ties survive: as many distinct parameters as a normally built model (shared ones counted once).
    assert len(list(loaded.parameters())) == len(list(built.parameters()))
    assert {n for n, _ in loaded.named_parameters()} == {n for n, _ in built.named_parameters()}


def _seeded_linear(seed: int) -> nn.Linear:
    torch.manual_seed(seed)
    return nn.Linear(8, 8)


def test_loading_never_replaces_torch_nn_init_and_another_thread_can_still_initialise(tmp_path):
    torch.manual_seed(0)
    clearformer.GPT2LMHeadModel(_tiny_gpt2()).save_pretrained(tmp_path)
    original = nn.init.normal_
    seen = {}

    class Probe(clearformer.GPT2LMHeadModel):
        def __init__(self, config):
            # Runs while from_pretrained builds the model: another thread initialises a tensor now.
            seen["normal_ is torch's"] = nn.init.normal_ is original
            tensor = torch.full((64,), 7.0)
            worker = threading.Thread(target=nn.init.normal_, args=(tensor,))
            worker.start()
            worker.join()
            seen["other thread's tensor was filled"] = not torch.equal(tensor, torch.full((64,), 7.0))
            # A model another thread builds meanwhile is an ordinary one: real, seeded weights.
            built = []
            worker = threading.Thread(target=lambda: built.append(_seeded_linear(3)))
            worker.start()
            worker.join()
            seen["other thread's module is normal"] = torch.equal(built[0].weight, expected.weight)
            super().__init__(config)

    expected = _seeded_linear(3)
    Probe.from_pretrained(tmp_path)
    assert seen == {
        "normal_ is torch's": True,
        "other thread's tensor was filled": True,
        "other thread's module is normal": True,
    }
    assert nn.init.normal_ is original


def _reinit_like_the_loader(model: nn.Module, owners: list[str], seed: int) -> None:
    """The rule, written out: each owner module (then its parent, unless that is the whole model)
    gets reset_parameters on every submodule, then the model's _init_weights on every submodule."""
    modules = dict(model.named_modules())
    targets = {}
    for owner in owners:
        targets[owner] = modules[owner]
        parent = owner.rpartition(".")[0]
        if parent:
            targets[parent] = modules[parent]
    torch.manual_seed(seed)
    with torch.no_grad():
        for module in targets.values():
            module.apply(lambda m: m.reset_parameters() if hasattr(m, "reset_parameters") else None)
            module.apply(model._init_weights)


def test_a_new_head_gets_the_same_weights_as_before_for_the_same_seed(tmp_path):
    torch.manual_seed(0)
    clearformer.BertModel(_tiny_bert()).save_pretrained(tmp_path)
    torch.manual_seed(123)
    loaded = clearformer.BertForSequenceClassification.from_pretrained(tmp_path, num_labels=3)
    reference = clearformer.BertForSequenceClassification(_tiny_bert(num_labels=3))
    _reinit_like_the_loader(reference, ["classifier"], seed=123)
    assert torch.equal(loaded.classifier.weight, reference.classifier.weight)
    assert torch.equal(loaded.classifier.bias, torch.zeros(3))
    assert abs(loaded.classifier.weight.std().item() - 0.02) < 0.01  # N(0, initializer_range)


def test_a_resized_head_gets_the_same_weights_as_before_for_the_same_seed(tmp_path):
    torch.manual_seed(0)
    clearformer.BertForSequenceClassification(_tiny_bert(num_labels=2)).save_pretrained(tmp_path)
    torch.manual_seed(7)
    loaded = clearformer.BertForSequenceClassification.from_pretrained(
        tmp_path, num_labels=5, ignore_mismatched_sizes=True
    )
    reference = clearformer.BertForSequenceClassification(_tiny_bert(num_labels=5))
    _reinit_like_the_loader(reference, ["classifier"], seed=7)
    assert torch.equal(loaded.classifier.weight, reference.classifier.weight)
    assert _meta_tensors(loaded) == []


def test_a_missing_gpt2_projection_gets_the_scaled_init_of_its_parent_block(tmp_path):
    class MayLackOneProjection(clearformer.GPT2LMHeadModel):
        _keys_to_ignore_on_load_missing = [r"^transformer\.h\.1\.attn\.c_proj\.weight$"]

    torch.manual_seed(0)
    config = _tiny_gpt2()
    clearformer.GPT2LMHeadModel(config).save_pretrained(tmp_path)
    state = clearformer.GPT2LMHeadModel.from_pretrained(tmp_path).state_dict()
    del state["transformer.h.1.attn.c_proj.weight"]
    torch.manual_seed(5)
    loaded = MayLackOneProjection.from_pretrained(tmp_path, state_dict=state)
    reference = clearformer.GPT2LMHeadModel(config)
    _reinit_like_the_loader(reference, ["transformer.h.1.attn.c_proj"], seed=5)
    w = loaded.transformer.h[1].attn.c_proj.weight
    assert torch.equal(w, reference.transformer.h[1].attn.c_proj.weight)
    # GPT-2's residual projections: std / sqrt(2 * n_layer), set by the parent block's rule
    expected = config.initializer_range / math.sqrt(2 * config.n_layer)
    assert abs(w.std().item() - expected) < 0.3 * expected
    # The rest of that block is the checkpoint's, not re-initialised.
    assert torch.equal(loaded.transformer.h[1].attn.c_attn.weight, state["transformer.h.1.attn.c_attn.weight"])
    assert _meta_tensors(loaded) == []


def test_a_tensor_left_on_the_meta_device_is_named_in_an_error(tmp_path, monkeypatch):
    torch.manual_seed(0)
    clearformer.BertModel(_tiny_bert()).save_pretrained(tmp_path)
    # Simulate a loader bug: nothing initialises the new head.
    monkeypatch.setattr(modeling_utils, "init_missing", lambda model, loaded, tied=(): [])
    with pytest.raises(RuntimeError, match=r"meta device.*classifier\.weight"):
        clearformer.BertForSequenceClassification.from_pretrained(tmp_path, num_labels=3)


def test_loaded_weights_are_the_files_and_training_never_writes_the_file(tmp_path):
    torch.manual_seed(0)
    clearformer.GPT2LMHeadModel(_tiny_gpt2()).save_pretrained(tmp_path)
    file = tmp_path / "model.safetensors"
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    model = clearformer.GPT2LMHeadModel.from_pretrained(tmp_path)
    again = clearformer.GPT2LMHeadModel.from_pretrained(tmp_path)
    for (name, a), b in zip(model.state_dict().items(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert model.lm_head.weight is model.transformer.wte.weight
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    ids = torch.tensor([[1, 2, 3, 4]])
    model(ids, labels=ids).loss.backward()
    optimizer.step()
    with torch.no_grad():
        model.transformer.h[0].attn.c_attn.weight.add_(1.0)
    assert hashlib.sha256(file.read_bytes()).hexdigest() == digest
    assert not torch.equal(model.transformer.h[0].attn.c_attn.weight, again.transformer.h[0].attn.c_attn.weight)


def test_tied_decoder_bias_follows_the_loaded_bias(tmp_path):
    torch.manual_seed(0)
    clearformer.BertForMaskedLM(_tiny_bert()).save_pretrained(tmp_path)
    model = clearformer.BertForMaskedLM.from_pretrained(tmp_path)
    assert model.cls.predictions.decoder.bias is model.cls.predictions.bias
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight


def test_classifier_from_a_masked_lm_checkpoint_gets_a_fresh_pooler(tmp_path, caplog):
    # A masked-LM checkpoint has no pooler (BertForMaskedLM builds BertModel without one);
    # transformers initialises it and warns, and so do we.
    torch.manual_seed(0)
    mlm = clearformer.BertForMaskedLM(_tiny_bert())
    mlm.save_pretrained(tmp_path)
    torch.manual_seed(11)
    with caplog.at_level("WARNING"):
        model, info = clearformer.BertForSequenceClassification.from_pretrained(
            tmp_path, num_labels=2, output_loading_info=True
        )
    assert {"bert.pooler.dense.weight", "bert.pooler.dense.bias"} <= set(info["missing_keys"])
    assert "pooler" in caplog.text
    reference = clearformer.BertForSequenceClassification(_tiny_bert(num_labels=2))
    _reinit_like_the_loader(reference, ["bert.pooler.dense", "classifier"], seed=11)
    assert torch.equal(model.bert.pooler.dense.weight, reference.bert.pooler.dense.weight)
    assert torch.equal(model.classifier.weight, reference.classifier.weight)
    assert torch.equal(model.bert.pooler.dense.bias, torch.zeros(32))
    assert torch.equal(model.bert.encoder.layer[0].output.dense.weight, mlm.bert.encoder.layer[0].output.dense.weight)


def test_save_over_the_folder_the_model_was_loaded_from(tmp_path):
    torch.manual_seed(0)
    clearformer.GPT2LMHeadModel(_tiny_gpt2()).save_pretrained(tmp_path)
    model = clearformer.GPT2LMHeadModel.from_pretrained(tmp_path)  # parameters map the file
    with torch.no_grad():
        model.transformer.h[0].mlp.c_fc.weight.mul_(2.0)
    model.save_pretrained(tmp_path)  # atomic replace of the mapped file
    back = clearformer.GPT2LMHeadModel.from_pretrained(tmp_path)
    assert torch.equal(back.transformer.h[0].mlp.c_fc.weight, model.transformer.h[0].mlp.c_fc.weight)


def test_a_constructor_that_raises_during_loading_leaves_later_builds_normal(tmp_path):
    torch.manual_seed(0)
    clearformer.DistilBertModel(_tiny_distilbert(False)).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="n_heads"):
        clearformer.DistilBertModel.from_pretrained(tmp_path, n_heads=7)  # 32 is not a multiple of 7
    assert torch.equal(_seeded_linear(3).weight, _seeded_linear(3).weight)
    assert not _seeded_linear(3).weight.is_meta
    assert torch.overrides._get_current_function_mode_stack() == []
