"""from_pretrained skips random init for loaded weights, initialises new ones, and owns its tensors."""

from __future__ import annotations

import hashlib
import math

import torch
from torch import nn

import clearformer
from clearformer.lazy_init import init_missing, skip_random_init


def _tiny_bert():
    return clearformer.BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64
    )


def _tiny_gpt2():
    return clearformer.GPT2Config(vocab_size=99, n_embd=64, n_layer=3, n_head=4, n_positions=32)


def test_skip_random_init_restores_the_fillers():
    before = nn.init.normal_
    with skip_random_init():
        assert nn.init.normal_ is not before
        t = torch.full((3,), 7.0)
        nn.init.normal_(t)
        assert torch.equal(t, torch.full((3,), 7.0))  # left as it was
    assert nn.init.normal_ is before


def test_new_head_is_initialised_like_a_fresh_model(tmp_path):
    torch.manual_seed(0)
    clearformer.BertModel(_tiny_bert()).save_pretrained(tmp_path)
    model = clearformer.BertForSequenceClassification.from_pretrained(tmp_path, num_labels=3)
    w, b = model.classifier.weight, model.classifier.bias
    assert torch.isfinite(w).all()
    assert abs(w.std().item() - 0.02) < 0.01  # N(0, initializer_range), not leftover memory
    assert torch.equal(b, torch.zeros_like(b))


def test_missing_gpt2_projection_gets_the_scaled_init():
    torch.manual_seed(0)
    config = _tiny_gpt2()
    with skip_random_init():
        model = clearformer.GPT2LMHeadModel(config)
    nan = float("nan")
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(nan)  # what is not initialised below stays visible
    names = [n for n, _ in model.named_parameters()]
    loaded = [n for n in names if n != "transformer.h.1.attn.c_proj.weight"]
    missing = init_missing(model, loaded=loaded, tied=model.tied_weight_keys())
    assert missing == ["transformer.h.1.attn.c_proj.weight"]
    w = model.transformer.h[1].attn.c_proj.weight
    assert torch.isfinite(w).all()
    # GPT-2's residual projections: std / sqrt(2 * n_layer), set by the parent block's rule
    expected = config.initializer_range / math.sqrt(2 * config.n_layer)
    assert abs(w.std().item() - expected) < 0.3 * expected


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
    with caplog.at_level("WARNING"):
        model, info = clearformer.BertForSequenceClassification.from_pretrained(
            tmp_path, num_labels=2, output_loading_info=True
        )
    assert {"bert.pooler.dense.weight", "bert.pooler.dense.bias"} <= set(info["missing_keys"])
    assert "pooler" in caplog.text
    assert torch.isfinite(model.bert.pooler.dense.weight).all()
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
