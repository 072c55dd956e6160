"""BertLMHeadModel (is_decoder=True) generates like the reference: greedy and beam search."""

from __future__ import annotations

import pytest
import torch

from clearformer.models.bert.modeling_bert import BertLMHeadModel

transformers = pytest.importorskip("transformers", reason="transformers 5.24 is the oracle for these tests")


@pytest.fixture(scope="module")
def bert_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bert_decoder")
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=61,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=48,
        is_decoder=True,
        initializer_range=0.3,
        pad_token_id=0,
        eos_token_id=3,
    )
    transformers.BertLMHeadModel(config).save_pretrained(folder)
    ref = transformers.BertLMHeadModel.from_pretrained(folder, attn_implementation="eager").eval()
    return ref, BertLMHeadModel.from_pretrained(folder)


@pytest.mark.parametrize("settings", [dict(), dict(num_beams=3), dict(num_beams=2, length_penalty=0.3)])
def test_bert_decoder_generate_matches_reference(bert_models, settings):
    ref, ours = bert_models
    ids = torch.randint(4, 61, (2, 7), generator=torch.Generator().manual_seed(3))
    mask = torch.ones_like(ids)
    mask[1, :2] = 0
    ids = ids.masked_fill(mask == 0, 0)
    expected = ref.generate(ids, attention_mask=mask, max_new_tokens=10, do_sample=False, **settings)
    got = ours.generate(ids, attention_mask=mask, max_new_tokens=10, **settings)
    assert torch.equal(expected, got)
