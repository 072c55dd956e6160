"""generate(return_dict_in_generate=True): transformers 5.24's output class, key order and values."""

from __future__ import annotations

import pytest
import torch
from conftest import transformers

from clearformer.generation import GenerateOutput


def _keys(output) -> list[str]:
    # transformers 5.x calls the cache ``cache``; clearformer keeps ``past_key_values``.
    return ["past_key_values" if k == "cache" else k for k in output]


def _both(ref, ours, ids, mask, **kwargs):
    kwargs.update(return_dict_in_generate=True, output_scores=True, do_sample=False)
    return ref.generate(ids, attention_mask=mask, **kwargs), ours.generate(ids, attention_mask=mask, **kwargs)


def test_greedy_returns_the_decoder_only_output_with_reference_keys_and_scores(models, padded_batch):
    ref, ours = models
    want, got = _both(ref, ours, *padded_batch, max_new_tokens=5)
    assert type(got).__name__ == type(want).__name__ == "GenerateDecoderOnlyOutput"
    assert isinstance(got, GenerateOutput)
    assert _keys(got) == _keys(want) and _keys(got)[:2] == ["sequences", "scores"]
    assert torch.equal(got[0], want[0])
    assert len(got.scores) == len(want.scores) == 5
    for mine, theirs in zip(got.scores, want.scores):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-5)


def test_beam_search_returns_the_beam_output_with_reference_sequence_scores(models, padded_batch):
    ref, ours = models
    want, got = _both(ref, ours, *padded_batch, max_new_tokens=6, num_beams=3, num_return_sequences=2)
    assert type(got).__name__ == type(want).__name__ == "GenerateBeamDecoderOnlyOutput"
    assert isinstance(got, GenerateOutput)
    assert _keys(got)[:2] == _keys(want)[:2] == ["sequences", "sequences_scores"]
    assert torch.equal(got.sequences, want.sequences)
    torch.testing.assert_close(got[1], want.sequences_scores, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("num_beams", "name"), [(1, "GenerateEncoderDecoderOutput"), (2, "GenerateBeamEncoderDecoderOutput")]
)
def test_encoder_decoder_generate_returns_the_encoder_decoder_output(tmp_path, num_beams, name):
    from clearformer.models.marian.modeling_marian import MarianMTModel

    torch.manual_seed(0)
    config = transformers.MarianConfig(
        vocab_size=50, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=20, decoder_ffn_dim=20, max_position_embeddings=32,
        pad_token_id=49, decoder_start_token_id=49, eos_token_id=0, forced_eos_token_id=None,
    )  # fmt: skip
    transformers.MarianMTModel(config).save_pretrained(tmp_path)
    ref = transformers.MarianMTModel.from_pretrained(tmp_path).eval()
    ours = MarianMTModel.from_pretrained(tmp_path)
    ids = torch.tensor([[5, 6, 7, 8], [9, 10, 11, 12]])
    want, got = _both(ref, ours, ids, torch.ones_like(ids), max_new_tokens=4, num_beams=num_beams)
    assert type(got).__name__ == type(want).__name__ == name
    assert isinstance(got, GenerateOutput)
    assert torch.equal(got.sequences, want.sequences)
    assert _keys(got)[0] == "sequences"
