"""The paper's Transformer decodes incrementally (KV cache) and ``generate`` decodes it like Marian.

A Marian model is the paper's post-norm model with the residual basis permuted (Marian puts the
sines of the positional table in the first half of each vector, the paper interleaves them), so
the paper model's weights can be written into a MarianMTModel exactly; then the course's
``greedy_decode``, ``generate`` through ``PaperTransformerForGeneration`` (greedy and beam) and
``MarianMTModel.generate`` must agree token for token. That is what lets the Multi30k recipe call
the two models' decodings "the same decoding".
"""

from __future__ import annotations

import pytest
import torch

from clearformer.models.marian.configuration_marian import MarianConfig
from clearformer.models.marian.modeling_marian import MarianMTModel
from clearformer.models.transformer.decoding_transformer import PaperTransformerForGeneration, greedy_decode
from clearformer.models.transformer.modeling_transformer import make_model, subsequent_mask

PAD, BOS, EOS, V, D = 0, 2, 3, 23, 16


def paper_model(seed: int = 0):
    torch.manual_seed(seed)
    model = make_model(V, V, N=2, d_model=D, d_ff=32, h=4, dropout=0.0, share_embeddings=True, max_len=64)
    with torch.no_grad():
        model.generator.proj.bias[EOS] += 1.5  # hypotheses end at different lengths
    return model.eval()


def as_marian(paper) -> MarianMTModel:
    """The same function as a MarianMTModel: residual dimension m of Marian is dimension perm[m] of the paper's."""
    config = MarianConfig(vocab_size=V, d_model=D, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                          decoder_attention_heads=4, encoder_ffn_dim=32, decoder_ffn_dim=32, dropout=0.0,
                          max_position_embeddings=64, activation_function="relu", scale_embedding=True,
                          pad_token_id=PAD, eos_token_id=EOS, decoder_start_token_id=BOS,
                          forced_eos_token_id=None)  # fmt: skip
    marian = MarianMTModel(config).eval()
    perm = torch.cat([torch.arange(0, D, 2), torch.arange(1, D, 2)])  # half layout <- interleaved
    sd = {}

    def attn(prefix, module):
        for name, lin in zip(("q_proj", "k_proj", "v_proj"), module.linears[:3]):
            sd[f"{prefix}.{name}.weight"], sd[f"{prefix}.{name}.bias"] = lin.weight[:, perm], lin.bias
        out = module.linears[3]
        sd[f"{prefix}.out_proj.weight"], sd[f"{prefix}.out_proj.bias"] = out.weight[perm], out.bias[perm]

    def norm(prefix, sublayer):
        sd[f"{prefix}.weight"], sd[f"{prefix}.bias"] = sublayer.norm.weight[perm], sublayer.norm.bias[perm]

    def ffn(prefix, module):
        sd[f"{prefix}.fc1.weight"], sd[f"{prefix}.fc1.bias"] = module.w_1.weight[:, perm], module.w_1.bias
        sd[f"{prefix}.fc2.weight"], sd[f"{prefix}.fc2.bias"] = module.w_2.weight[perm], module.w_2.bias[perm]

    for i, layer in enumerate(paper.encoder.layers):
        p = f"model.encoder.layers.{i}"
        attn(f"{p}.self_attn", layer.self_attn)
        norm(f"{p}.self_attn_layer_norm", layer.sublayer[0])
        ffn(p, layer.feed_forward)
        norm(f"{p}.final_layer_norm", layer.sublayer[1])
    for i, layer in enumerate(paper.decoder.layers):
        p = f"model.decoder.layers.{i}"
        attn(f"{p}.self_attn", layer.self_attn)
        norm(f"{p}.self_attn_layer_norm", layer.sublayer[0])
        attn(f"{p}.encoder_attn", layer.src_attn)
        norm(f"{p}.encoder_attn_layer_norm", layer.sublayer[1])
        ffn(p, layer.feed_forward)
        norm(f"{p}.final_layer_norm", layer.sublayer[2])
    embedding = paper.tgt_embed[0].lut.weight[:, perm]
    for name in ("model.shared", "model.encoder.embed_tokens", "model.decoder.embed_tokens", "lm_head"):
        sd[f"{name}.weight"] = embedding
    sd["final_logits_bias"] = paper.generator.proj.bias[None]
    with torch.no_grad():
        for name, tensor in marian.state_dict().items():
            if name in sd:
                tensor.copy_(sd.pop(name))
    assert not sd, f"unused: {sorted(sd)}"
    return marian


def sources():
    g = torch.Generator().manual_seed(1)
    src = torch.randint(4, V, (5, 9), generator=g)
    src[1, 6:] = PAD
    src[3, 3:] = PAD
    return src


def upto_eos(ids: list[int]) -> list[int]:
    return ids[: ids.index(EOS) + 1] if EOS in ids else ids


def beam_search(paper, src, max_len: int, beams: int, length_penalty=1.0, early_stopping=False, use_cache=True):
    """Per sentence the ids after the start symbol, up to eos: generate through the adapter."""
    out = PaperTransformerForGeneration(paper, BOS, EOS, PAD).generate(
        src, attention_mask=(src != PAD).long(), max_new_tokens=max_len - 1, num_beams=beams,
        length_penalty=length_penalty, early_stopping=early_stopping, use_cache=use_cache,
    )  # fmt: skip
    return [upto_eos(row[1:]) for row in out.tolist()]


def test_paper_and_marian_with_mapped_weights_compute_the_same_log_probs():
    paper = paper_model()
    marian = as_marian(paper)
    src, tgt = sources(), torch.randint(4, V, (5, 7), generator=torch.Generator().manual_seed(2))
    tgt[:, 0] = BOS
    with torch.no_grad():
        ours = paper.generator(paper(src, tgt, (src != PAD).unsqueeze(-2), subsequent_mask(7)))
        theirs = marian(input_ids=src, attention_mask=(src != PAD).long(), decoder_input_ids=tgt).logits
    torch.testing.assert_close(ours, torch.log_softmax(theirs, dim=-1), atol=1e-5, rtol=1e-5)


def test_cached_decoding_equals_recomputation():
    paper = paper_model()
    src = sources()
    mask = (src != PAD).unsqueeze(-2)
    tgt = torch.randint(4, V, (5, 8), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        memory = paper.encode(src, mask)
        full = paper.decode(memory, mask, tgt, subsequent_mask(8))
        cache = paper.new_cache()
        steps = [paper.decode(memory, mask, tgt[:, t : t + 1], None, cache) for t in range(8)]
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-5)
    for use_cache in (True, False):
        a = greedy_decode(paper, src, mask, 12, BOS, EOS, use_cache=use_cache)
        assert torch.equal(a, greedy_decode(paper, src, mask, 12, BOS, EOS, use_cache=not use_cache))
    assert beam_search(paper, src, 12, 3) == beam_search(paper, src, 12, 3, use_cache=False)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_and_beam_match_marian_generate(seed):
    paper = paper_model(seed)
    marian = as_marian(paper)
    src = sources()
    mask = (src != PAD).unsqueeze(-2)
    attention_mask = (src != PAD).long()
    greedy = greedy_decode(paper, src, mask, 12, BOS, EOS)
    want = marian.generate(src, attention_mask=attention_mask, max_new_tokens=11, num_beams=1)
    assert [upto_eos(r[1:]) for r in greedy.tolist()] == [upto_eos(r[1:]) for r in want.tolist()]
    assert beam_search(paper, src, 12, 1) == [upto_eos(r[1:]) for r in want.tolist()]  # generate's greedy
    for beams, length_penalty, early_stopping in ((4, 1.0, False), (3, 0.6, True), (2, 1.0, False)):
        ours = beam_search(paper, src, 12, beams, length_penalty, early_stopping)
        want = marian.generate(src, attention_mask=attention_mask, max_new_tokens=11, num_beams=beams,
                               length_penalty=length_penalty, early_stopping=early_stopping)  # fmt: skip
        assert [upto_eos(r) for r in ours] == [upto_eos(r[1:]) for r in want.tolist()]
        assert any(EOS in r for r in ours)


def test_adapter_checks_source_ids_against_the_source_vocabulary_and_special_ids_against_the_target():
    torch.manual_seed(0)
    paper = make_model(30, 12, N=1, d_model=16, d_ff=32, h=2, dropout=0.0).eval()
    src = torch.tensor([[29, 17, 5, 12]])  # ids the target vocabulary of 12 does not have
    out = PaperTransformerForGeneration(paper, decoder_start_token_id=1).generate(src, max_new_tokens=6)
    assert out.tolist() == greedy_decode(paper, src, None, 7, 1).tolist()
    with pytest.raises(ValueError, match="eos_token_id=12 is outside the target vocabulary of 12"):
        PaperTransformerForGeneration(paper, decoder_start_token_id=1, eos_token_id=12)
