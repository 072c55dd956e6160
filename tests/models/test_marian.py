"""Marian against transformers 5.24 on tiny random configs: outputs, loss, cache, generate, files."""

from __future__ import annotations

import pytest
import torch

from clearformer.models.auto import AutoModelForSeq2SeqLM
from clearformer.models.marian.configuration_marian import MarianConfig
from clearformer.models.marian.modeling_marian import MarianModel, MarianMTModel
from clearformer.nn.cache import EncoderDecoderCache
from clearformer.nn.positional import sinusoidal_table

transformers = pytest.importorskip("transformers", reason="transformers 5.24 is the oracle for these tests")

PAD = 98
TINY = dict(
    vocab_size=99,
    d_model=32,
    encoder_layers=2,
    decoder_layers=2,
    encoder_attention_heads=4,
    decoder_attention_heads=4,
    encoder_ffn_dim=37,
    decoder_ffn_dim=37,
    max_position_embeddings=40,
    pad_token_id=PAD,
    decoder_start_token_id=PAD,
    eos_token_id=0,
    forced_eos_token_id=None,
    scale_embedding=True,
    activation_function="swish",
)
ATOL = 1e-5


def _save_ref(folder, seed=0, cls_name="MarianMTModel", **overrides):
    """A random reference model with spread-out weights (so generation is not one repeated token)."""
    torch.manual_seed(seed)
    config = transformers.MarianConfig(**{**TINY, **overrides})
    model = getattr(transformers, cls_name)(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1 and "embed_positions" not in name:  # the sinusoid table stays fixed
                p.normal_(0, 0.3)
        if hasattr(model, "final_logits_bias"):
            model.final_logits_bias.normal_(0, 0.5)
    model.save_pretrained(folder)
    return getattr(transformers, cls_name).from_pretrained(folder, attn_implementation="eager").eval()


def _batch(batch=3, length=11, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, PAD, (batch, length), generator=g)
    mask = torch.ones_like(ids)
    mask[1, -4:] = 0  # right padding
    labels = torch.randint(0, PAD, (batch, 7), generator=g)
    labels[2, -2:] = -100
    return ids.masked_fill(mask == 0, PAD), mask, labels


@pytest.mark.parametrize(
    "overrides",
    [{}, {"scale_embedding": False, "activation_function": "gelu"}, {"share_encoder_decoder_embeddings": False}],
)
def test_encoder_logits_and_loss_match_reference(tmp_path, overrides):
    ref = _save_ref(tmp_path, **overrides)
    ours = AutoModelForSeq2SeqLM.from_pretrained(tmp_path)
    assert isinstance(ours, MarianMTModel)
    ids, mask, labels = _batch()
    with torch.no_grad():
        a = ref(input_ids=ids, attention_mask=mask, labels=labels)
        b = ours(input_ids=ids, attention_mask=mask, labels=labels)
    torch.testing.assert_close(b.encoder_last_hidden_state, a.encoder_last_hidden_state, atol=ATOL, rtol=0)
    torch.testing.assert_close(b.logits, a.logits, atol=ATOL, rtol=0)
    torch.testing.assert_close(b.loss, a.loss, atol=ATOL, rtol=0)


def test_base_model_and_attentions_match_reference(tmp_path):
    ref = _save_ref(tmp_path, cls_name="MarianModel")
    ours = MarianModel.from_pretrained(tmp_path)
    ids, mask, labels = _batch()
    dec = labels.clamp(min=0)
    with torch.no_grad():
        a = ref(input_ids=ids, attention_mask=mask, decoder_input_ids=dec, output_attentions=True)
        b = ours(input_ids=ids, attention_mask=mask, decoder_input_ids=dec, output_attentions=True)
    torch.testing.assert_close(b.last_hidden_state, a.last_hidden_state, atol=ATOL, rtol=0)
    for x, y in zip(b.cross_attentions, a.cross_attentions):
        torch.testing.assert_close(x, y, atol=ATOL, rtol=0)


def test_positions_put_sin_in_first_half_and_cos_in_second():
    table = sinusoidal_table(5, 6, layout="half")
    pos = torch.arange(5.0)[:, None]
    freq = 1.0 / 10000 ** (torch.arange(0, 6, 2) / 6.0)
    torch.testing.assert_close(table[:, :3], torch.sin(pos * freq))
    torch.testing.assert_close(table[:, 3:], torch.cos(pos * freq))


def test_cached_decoding_matches_full_forward(tmp_path):
    _save_ref(tmp_path)
    model = MarianMTModel.from_pretrained(tmp_path)
    ids, mask, labels = _batch()
    dec = torch.cat([torch.full((3, 1), PAD), labels.clamp(min=0)], dim=1)
    with torch.no_grad():
        full = model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec, use_cache=False).logits
        enc = model.get_encoder()(ids, mask)
        cache = EncoderDecoderCache()
        steps = []
        for t in range(dec.shape[1]):
            out = model(encoder_outputs=enc, attention_mask=mask, decoder_input_ids=dec[:, t : t + 1], cache=cache)
            steps.append(out.logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=ATOL, rtol=0)
    assert cache.get_seq_length() == dec.shape[1]
    assert all(cache.is_updated.values())  # cross keys were computed once, at step 0


@pytest.mark.parametrize("num_beams", [1, 3])
def test_generate_matches_reference_token_for_token(tmp_path, num_beams):
    ref = _save_ref(tmp_path)
    ours = MarianMTModel.from_pretrained(tmp_path)
    ids, mask, _ = _batch()
    want = ref.generate(ids, attention_mask=mask, max_new_tokens=12, num_beams=num_beams, do_sample=False)
    got = ours.generate(ids, attention_mask=mask, max_new_tokens=12, num_beams=num_beams)
    assert got.tolist() == want.tolist()
    assert len(set(map(tuple, got.tolist()))) > 1  # the test model really distinguishes its inputs


def test_forced_eos_ends_every_sequence_like_reference(tmp_path):
    ref = _save_ref(tmp_path, forced_eos_token_id=0)
    ours = MarianMTModel.from_pretrained(tmp_path)
    ids, mask, _ = _batch()
    want = ref.generate(ids, attention_mask=mask, max_new_tokens=6, do_sample=False, num_beams=2)
    got = ours.generate(ids, attention_mask=mask, max_new_tokens=6, num_beams=2)
    assert got.tolist() == want.tolist()


def test_save_pretrained_loads_in_reference(tmp_path):
    config = MarianConfig(**TINY)
    torch.manual_seed(1)
    ours = MarianMTModel(config).eval()
    with torch.no_grad():
        ours.final_logits_bias.normal_()
    ours.save_pretrained(tmp_path)
    ref = transformers.MarianMTModel.from_pretrained(tmp_path).eval()
    ids, mask, labels = _batch()
    with torch.no_grad():
        a = ref(input_ids=ids, attention_mask=mask, labels=labels)
        b = ours(input_ids=ids, attention_mask=mask, labels=labels)
    torch.testing.assert_close(a.logits, b.logits, atol=ATOL, rtol=0)
    again = MarianMTModel.from_pretrained(tmp_path)
    torch.testing.assert_close(again(input_ids=ids, decoder_input_ids=labels.clamp(min=0)).logits,
                               ours(input_ids=ids, decoder_input_ids=labels.clamp(min=0)).logits)  # fmt: skip


def test_source_longer_than_max_positions_raises(tmp_path):
    model = MarianMTModel(MarianConfig(**TINY)).eval()
    ids = torch.ones(1, 41, dtype=torch.long)
    with pytest.raises(ValueError, match="max_position_embeddings=40"):
        model(input_ids=ids, decoder_input_ids=ids[:, :2])
    with pytest.raises(ValueError, match="max_position_embeddings=40"):
        model.generate(ids, max_new_tokens=3)


def test_missing_decoder_start_token_raises():
    model = MarianMTModel(MarianConfig(**{**TINY, "decoder_start_token_id": None})).eval()
    ids = torch.ones(1, 5, dtype=torch.long)
    with pytest.raises(ValueError, match="decoder_start_token_id"):
        model(input_ids=ids, labels=ids)
    with pytest.raises(ValueError, match="decoder_start_token_id"):
        model.generate(ids, max_new_tokens=3)


def test_labels_outside_target_vocabulary_raise():
    model = MarianMTModel(MarianConfig(**TINY)).eval()
    ids = torch.ones(1, 5, dtype=torch.long)
    with pytest.raises(ValueError, match="target vocabulary has 99 entries"):
        model(input_ids=ids, labels=torch.tensor([[5, 120]]))
