"""T5 against transformers 5.24 on tiny random configs: outputs, loss, cache, generate, files.

5.24's own T5 ``generate`` fails when the decoder depth differs from the encoder's, so unequal
depths are covered by forward/loss parity and a greedy loop over the oracle's forward.
"""

from __future__ import annotations

import pytest
import torch

from clearformer.models.auto import AutoModel, AutoModelForSeq2SeqLM
from clearformer.models.t5.configuration_t5 import T5Config
from clearformer.models.t5.modeling_t5 import (
    T5EncoderModel,
    T5ForConditionalGeneration,
    T5Model,
    relative_position_bucket,
)
from clearformer.nn.cache import EncoderDecoderCache

transformers = pytest.importorskip("transformers", reason="transformers 5.24 is the oracle for these tests")

TINY = dict(
    vocab_size=99,
    d_model=32,
    d_kv=8,
    d_ff=37,
    num_layers=2,
    num_decoder_layers=2,
    num_heads=4,
    relative_attention_num_buckets=8,
    relative_attention_max_distance=20,
    decoder_start_token_id=0,
)
ATOL = 1e-5


def _save_ref(folder, seed=0, cls_name="T5ForConditionalGeneration", **overrides):
    torch.manual_seed(seed)
    config = transformers.T5Config(**{**TINY, **overrides})
    model = getattr(transformers, cls_name)(config).eval()
    model.save_pretrained(folder)
    return getattr(transformers, cls_name).from_pretrained(folder, attn_implementation="eager").eval()


def _batch(batch=3, length=30, seed=0):
    """Long enough (30) that distances fall into the log-spaced buckets, not only the exact ones."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(2, 99, (batch, length), generator=g)
    mask = torch.ones_like(ids)
    mask[1, -9:] = 0
    labels = torch.randint(2, 99, (batch, 25), generator=g)
    labels[2, -5:] = -100
    return ids.masked_fill(mask == 0, 0), mask, labels


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"feed_forward_proj": "gated-gelu"},
        {"num_decoder_layers": 3},
        {"num_layers": 3, "num_decoder_layers": 1, "feed_forward_proj": "gated-gelu", "tie_word_embeddings": False},
    ],
)
def test_encoder_logits_and_loss_match_reference(tmp_path, overrides):
    ref = _save_ref(tmp_path, **overrides)
    ours = AutoModelForSeq2SeqLM.from_pretrained(tmp_path)
    assert isinstance(ours, T5ForConditionalGeneration)
    ids, mask, labels = _batch()
    with torch.no_grad():
        a = ref(input_ids=ids, attention_mask=mask, labels=labels)
        b = ours(input_ids=ids, attention_mask=mask, labels=labels)
    torch.testing.assert_close(b.encoder_last_hidden_state, a.encoder_last_hidden_state, atol=ATOL, rtol=0)
    torch.testing.assert_close(b.logits, a.logits, atol=ATOL, rtol=1e-5)
    torch.testing.assert_close(b.loss, a.loss, atol=ATOL, rtol=0)


def test_base_and_encoder_models_match_reference(tmp_path):
    ref = _save_ref(tmp_path / "m", cls_name="T5Model")
    ours = AutoModel.from_pretrained(tmp_path / "m")
    assert isinstance(ours, T5Model)
    ids, mask, labels = _batch()
    dec = labels.clamp(min=0)
    with torch.no_grad():
        a = ref(input_ids=ids, attention_mask=mask, decoder_input_ids=dec, output_attentions=True)
        b = ours(input_ids=ids, attention_mask=mask, decoder_input_ids=dec, output_attentions=True)
    torch.testing.assert_close(b.last_hidden_state, a.last_hidden_state, atol=ATOL, rtol=0)
    for x, y in zip(b.decoder_attentions, a.decoder_attentions):
        torch.testing.assert_close(x, y, atol=ATOL, rtol=0)
    enc_ref = _save_ref(tmp_path / "e", cls_name="T5EncoderModel")
    enc = T5EncoderModel.from_pretrained(tmp_path / "e")
    with torch.no_grad():
        torch.testing.assert_close(
            enc(ids, mask).last_hidden_state,
            enc_ref(input_ids=ids, attention_mask=mask).last_hidden_state,
            atol=ATOL,
            rtol=0,
        )


def test_relative_buckets_are_exact_near_and_logarithmic_far():
    distance = torch.arange(-40, 41)
    bi = relative_position_bucket(distance, bidirectional=True, num_buckets=32, max_distance=128)
    assert bi[40].item() == 0 and bi[41].item() == 17 and bi[39].item() == 1  # 0, +1 (upper half), -1
    uni = relative_position_bucket(distance, bidirectional=False, num_buckets=32, max_distance=128)
    assert (uni[41:] == 0).all()  # the future is one bucket for the decoder
    assert uni[0].item() > uni[30].item() and int(uni.max()) <= 31


def test_cached_decoding_matches_full_forward(tmp_path):
    _save_ref(tmp_path, num_decoder_layers=3)
    model = T5ForConditionalGeneration.from_pretrained(tmp_path)
    ids, mask, labels = _batch()
    dec = torch.cat([torch.zeros(3, 1, dtype=torch.long), labels.clamp(min=0)], dim=1)
    with torch.no_grad():
        full = model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec, use_cache=False).logits
        enc = model.get_encoder()(ids, mask)
        cache = EncoderDecoderCache()
        steps = [
            model(encoder_outputs=enc, attention_mask=mask, decoder_input_ids=dec[:, t : t + 1], cache=cache).logits
            for t in range(dec.shape[1])
        ]
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=ATOL, rtol=0)


@pytest.mark.parametrize("num_beams", [1, 3])
def test_generate_matches_reference_token_for_token(tmp_path, num_beams):
    ref = _save_ref(tmp_path, initializer_factor=8.0)
    ours = T5ForConditionalGeneration.from_pretrained(tmp_path)
    ids, mask, _ = _batch()
    want = ref.generate(ids, attention_mask=mask, max_new_tokens=12, num_beams=num_beams, do_sample=False)
    got = ours.generate(ids, attention_mask=mask, max_new_tokens=12, num_beams=num_beams)
    assert got.tolist() == want.tolist()
    assert len(set(map(tuple, got.tolist()))) > 1


def test_generate_with_unequal_depths_matches_greedy_loop_over_reference_forward(tmp_path):
    ref = _save_ref(tmp_path, num_layers=3, num_decoder_layers=1, initializer_factor=8.0)
    ours = T5ForConditionalGeneration.from_pretrained(tmp_path)
    ids, mask, _ = _batch()
    seq = torch.zeros(3, 1, dtype=torch.long)
    with torch.no_grad():
        for _ in range(10):
            logits = ref(input_ids=ids, attention_mask=mask, decoder_input_ids=seq).logits[:, -1]
            seq = torch.cat([seq, logits.argmax(-1, keepdim=True)], dim=1)
    got = ours.generate(ids, attention_mask=mask, max_new_tokens=10, eos_token_id=None)
    assert got.tolist() == seq.tolist()


def test_save_pretrained_loads_in_reference(tmp_path):
    torch.manual_seed(1)
    ours = T5ForConditionalGeneration(T5Config(**TINY, feed_forward_proj="gated-gelu")).eval()
    ours.save_pretrained(tmp_path)
    ref = transformers.T5ForConditionalGeneration.from_pretrained(tmp_path).eval()
    ids, mask, labels = _batch()
    with torch.no_grad():
        a = ref(input_ids=ids, attention_mask=mask, labels=labels)
        b = ours(input_ids=ids, attention_mask=mask, labels=labels)
        again = T5ForConditionalGeneration.from_pretrained(tmp_path)(input_ids=ids, attention_mask=mask, labels=labels)
    torch.testing.assert_close(a.logits, b.logits, atol=ATOL, rtol=1e-5)
    torch.testing.assert_close(again.logits, b.logits)


def test_missing_decoder_start_token_raises():
    model = T5ForConditionalGeneration(T5Config(**{**TINY, "decoder_start_token_id": None})).eval()
    ids = torch.ones(1, 5, dtype=torch.long)
    with pytest.raises(ValueError, match="decoder_start_token_id"):
        model(input_ids=ids, labels=ids)


def test_bad_feed_forward_proj_is_named():
    with pytest.raises(ValueError, match="gated-ACT"):
        T5Config(feed_forward_proj="gelu-gated")
