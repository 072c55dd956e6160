"""BERT in decoder mode: causal mask, cross-attention and the KV cache, against transformers 5.24."""

from __future__ import annotations

import pytest
import torch

import clearformer
from clearformer.nn.cache import DynamicCache, EncoderDecoderCache
from tests.models._oracle import compare_outputs, oracle_config

transformers = pytest.importorskip("transformers", reason="transformers is the test oracle")


@pytest.fixture()
def decoder_pair(tmp_path):
    torch.manual_seed(0)
    ref = transformers.BertLMHeadModel(oracle_config("bert", is_decoder=True, add_cross_attention=True)).eval()
    ref.save_pretrained(tmp_path)
    return ref, clearformer.AutoModelForCausalLM.from_pretrained(tmp_path)


def _batch():
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(3, 99, (2, 8), generator=g)
    enc = torch.randn(2, 5, 32, generator=g)
    enc_mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    return ids, enc, enc_mask


def test_decoder_with_cross_attention_matches_oracle(decoder_pair):
    ref, ours = decoder_pair
    ids, enc, enc_mask = _batch()
    kw = dict(
        input_ids=ids,
        encoder_hidden_states=enc,
        encoder_attention_mask=enc_mask,
        labels=ids,
        output_attentions=True,
        output_hidden_states=True,
        use_cache=False,
    )
    with torch.no_grad():
        diffs = compare_outputs(ref(**kw), ours(**kw))
    assert {"loss", "logits", "attentions", "cross_attentions"} <= set(diffs)


def test_cached_decoding_equals_full_forward(decoder_pair):
    _, ours = decoder_pair
    ids, enc, enc_mask = _batch()
    with torch.no_grad():
        full = ours(ids, encoder_hidden_states=enc, encoder_attention_mask=enc_mask, use_cache=False).logits
        out = ours(ids[:, :3], encoder_hidden_states=enc, encoder_attention_mask=enc_mask, use_cache=True)
        cache = out.past_key_values
        assert isinstance(cache, EncoderDecoderCache) and cache.get_seq_length() == 3
        steps = [out.logits]
        for t in range(3, 8):  # one token at a time, through the `cache` name of transformers 5
            out = ours(ids[:, t : t + 1], encoder_hidden_states=enc, encoder_attention_mask=enc_mask, cache=cache)
            steps.append(out.logits)
    assert (torch.cat(steps, 1) - full).abs().max() < 1e-5


def test_cache_matches_oracle_cache_step(decoder_pair):
    ref, ours = decoder_pair
    ids, enc, enc_mask = _batch()
    with torch.no_grad():
        r = ref(ids[:, :5], encoder_hidden_states=enc, encoder_attention_mask=enc_mask, use_cache=True)
        o = ours(ids[:, :5], encoder_hidden_states=enc, encoder_attention_mask=enc_mask, use_cache=True)
        r2 = ref(ids[:, 5:], encoder_hidden_states=enc, encoder_attention_mask=enc_mask, cache=r.cache)
        o2 = ours(
            ids[:, 5:], encoder_hidden_states=enc, encoder_attention_mask=enc_mask, past_key_values=o.past_key_values
        )
    assert (r2.logits - o2.logits).abs().max() < 1e-5


def test_decoder_only_cache_and_padding(tmp_path):
    torch.manual_seed(0)
    ref = transformers.BertLMHeadModel(oracle_config("bert", is_decoder=True)).eval()
    ref.save_pretrained(tmp_path)
    ours = clearformer.BertLMHeadModel.from_pretrained(tmp_path)
    ids, _, _ = _batch()
    mask = torch.ones_like(ids)
    mask[1, :2] = 0  # left padding
    with torch.no_grad():
        compare_outputs(ref(ids, attention_mask=mask, use_cache=False), ours(ids, attention_mask=mask, use_cache=False))
        full = ours(ids, attention_mask=mask).logits
        first = ours(ids[:, :4], attention_mask=mask[:, :4], use_cache=True)
        assert isinstance(first.past_key_values, DynamicCache)
        rest = ours(ids[:, 4:], attention_mask=mask, past_key_values=first.past_key_values)
    assert (torch.cat([first.logits, rest.logits], 1)[1, 2:] - full[1, 2:]).abs().max() < 1e-5
    assert (torch.cat([first.logits, rest.logits], 1)[0] - full[0]).abs().max() < 1e-5
