"""The paper's Transformer: the copy task, the course-code bugs that must stay fixed, training pieces.

The training pieces (Batch, LabelSmoothing, NoamOpt, run_epoch, data_gen) are the course's loop and
live with the recipes (recipes/paper_transformer_training.py), so that folder is put on sys.path.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch

from clearformer.models.transformer.decoding_transformer import PaperTransformerForGeneration, greedy_decode
from clearformer.models.transformer.modeling_transformer import (
    MultiHeadedAttention,
    PositionalEncoding,
    make_model,
    subsequent_mask,
)

RECIPES = str(Path(__file__).resolve().parents[2] / "recipes")
if RECIPES not in sys.path:
    sys.path.insert(0, RECIPES)
from paper_transformer_training import (  # noqa: E402 - needs the recipes folder on sys.path
    Batch,
    LabelSmoothing,
    NoamOpt,
    SimpleLossCompute,
    data_gen,
    rate,
    run_epoch,
)

V = 11


@pytest.fixture(scope="module")
def copy_model():
    """The course's copy task, scaled down to train in seconds: 400 batches of 30, d_model=32.

    One thread: the matrices are tiny, and on a loaded machine extra threads only wait on each other.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = make_model(V, V, N=2, d_model=32, d_ff=64, h=4, dropout=0.0)
    adam = torch.optim.Adam(model.parameters(), lr=0, betas=(0.9, 0.98), eps=1e-9)
    opt = NoamOpt(32, 0.5, 100, adam)
    criterion = LabelSmoothing(V, 0, 0.0)
    model.train()
    for _ in range(20):
        run_epoch(data_gen(V, 30, 20, generator=g), model, SimpleLossCompute(model.generator, criterion, opt))
    model.eval()
    with torch.no_grad():
        loss = run_epoch(data_gen(V, 30, 5, generator=g), model, SimpleLossCompute(model.generator, criterion))
    torch.set_num_threads(threads)
    return model, loss


def test_copy_task_decodes_one_to_ten(copy_model):
    model, loss = copy_model
    assert loss < 0.3
    src = torch.arange(1, 11)[None]
    src_mask = torch.ones(1, 1, 10, dtype=torch.bool)
    assert greedy_decode(model, src, src_mask, max_len=10, start_symbol=1).tolist() == [list(range(1, 11))]
    # Beam search is generate's, through the adapter; the removed training_transformer.beam_search
    # returned [2, ..., 10] here too (start symbol dropped; end symbol 0 never chosen, so max_len ends it).
    beam = PaperTransformerForGeneration(model, decoder_start_token_id=1, eos_token_id=0, pad_token_id=0)
    out = beam.generate(src, attention_mask=torch.ones_like(src), max_new_tokens=9, num_beams=3)
    assert out.tolist() == [list(range(1, 11))]
    assert beam.generate(src, attention_mask=torch.ones_like(src), max_new_tokens=9).tolist() == [list(range(1, 11))]


def test_layers_are_independent_copies_not_one_shared_instance():
    model = make_model(V, V, N=3, d_model=16, d_ff=32, h=2)
    layers = model.encoder.layers
    assert layers[0] is not layers[1]
    assert layers[0].self_attn.linears[0].weight.data_ptr() != layers[1].self_attn.linears[0].weight.data_ptr()
    assert not torch.equal(layers[0].self_attn.linears[0].weight, layers[1].self_attn.linears[0].weight)


def test_positions_are_added_once_at_the_embedding():
    model = make_model(V, V, N=2, d_model=16, d_ff=32, h=2, dropout=0.0).eval()
    with torch.no_grad():
        model.src_embed[0].lut.weight.zero_()
    seen = []
    model.encoder.layers[1].register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    layer0_in = []
    model.encoder.layers[0].register_forward_pre_hook(lambda m, args: layer0_in.append(args[0]))
    model.encode(torch.ones(1, 7, dtype=torch.long), None)
    pe = model.src_embed[1].pe[:, :7]
    torch.testing.assert_close(layer0_in[0], pe)  # embedding (zero) + the table exactly once
    assert sum(isinstance(m, PositionalEncoding) for m in model.modules()) == 2  # source and target, no layer


def test_pre_norm_stack_ends_with_a_wired_final_norm():
    torch.manual_seed(0)
    model = make_model(V, V, N=2, d_model=16, d_ff=32, h=2, dropout=0.0, norm_first=True).eval()
    memory = model.encode(torch.randint(1, V, (2, 6)), None)
    torch.testing.assert_close(memory.mean(-1), torch.zeros(2, 6), atol=1e-5, rtol=0)
    post = make_model(V, V, N=2, d_model=16, d_ff=32, h=2, norm_first=False)
    assert isinstance(post.encoder.norm, torch.nn.Identity)  # post-norm: the last sublayer already normalised


def test_odd_model_width_positional_encoding():
    pe = PositionalEncoding(33, 0.0, max_len=20)
    assert pe.pe.shape == (1, 20, 33)
    pos = torch.arange(20.0)
    torch.testing.assert_close(pe.pe[0, :, 32], torch.sin(pos / 10000 ** (32 / 33)))
    model = make_model(V, V, N=1, d_model=33, d_ff=20, h=3)
    assert model.encode(torch.ones(1, 4, dtype=torch.long), None).shape == (1, 4, 33)


def test_generator_shares_the_target_embedding_and_scales_by_sqrt_d():
    model = make_model(V, V, N=1, d_model=16, d_ff=32, h=2, share_embeddings=True)
    assert model.generator.proj.weight is model.tgt_embed[0].lut.weight is model.src_embed[0].lut.weight
    ids = torch.tensor([[3]])
    torch.testing.assert_close(model.tgt_embed[0](ids)[0, 0], model.tgt_embed[0].lut.weight[3] * 4.0)


def test_attention_query_length_may_differ_from_key_length():
    attn = MultiHeadedAttention(6, 300, dropout=0.0, keep_weights=True)
    out = attn(torch.randn(64, 12, 300), torch.randn(64, 10, 300), torch.randn(64, 10, 300))
    assert out.shape == (64, 12, 300) and attn.attn.shape == (64, 6, 12, 10)


def test_masks_hide_padding_and_future():
    assert subsequent_mask(3)[0].tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    b = Batch(torch.tensor([[5, 6, 0]]), torch.tensor([[1, 7, 8, 0]]), pad=0)
    assert b.src_mask.tolist() == [[[True, True, False]]]
    assert b.tgt_mask[0, 2].tolist() == [True, True, True] and b.tgt_mask[0, 0].tolist() == [True, False, False]
    assert b.ntokens == 2


def test_label_smoothing_distribution():
    crit = LabelSmoothing(5, padding_idx=0, smoothing=0.4)
    logp = torch.log(torch.tensor([[0, 0.2, 0.7, 0.1, 0]] * 3) + 1e-9)
    crit(logp, torch.tensor([2, 1, 0]))
    dist = crit.true_dist
    assert dist[:, 0].abs().sum() == 0 and dist[2].abs().sum() == 0  # pad column and pad rows
    torch.testing.assert_close(dist[0], torch.tensor([0, 0.4 / 3, 0.6, 0.4 / 3, 0.4 / 3]))
    torch.testing.assert_close(dist[:2].sum(-1), torch.ones(2))


def test_noam_rate_warms_up_then_decays():
    assert rate(4000, 512, 1, 4000) == pytest.approx(512**-0.5 * 4000**-0.5)
    values = [rate(s, 512, 1, 4000) for s in (1, 2000, 4000, 8000, 20000)]
    assert values[0] < values[1] < values[2] > values[3] > values[4]
    assert math.isfinite(rate(0, 512, 1, 4000))


def test_target_id_outside_vocabulary_is_a_clear_error():
    model = make_model(V, 7, N=1, d_model=16, d_ff=32, h=2)
    src = torch.ones(1, 3, dtype=torch.long)
    with pytest.raises(IndexError, match="outside the vocabulary of 7"):
        model(src, torch.tensor([[1, 9]]), None, subsequent_mask(2))
    with pytest.raises(ValueError, match="one vocabulary"):
        make_model(V, 7, share_embeddings=True)
