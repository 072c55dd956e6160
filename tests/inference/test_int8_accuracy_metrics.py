"""benchmarks/int8_accuracy.py's pure parts: the metrics, the mode table's skip rule, the goal column.

Tiny random models only; the real numbers come from running the script (see its docstring).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import torch

import clearformer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import int8_accuracy as bench  # noqa: E402


def _bert() -> clearformer.BertModel:
    torch.manual_seed(0)
    cfg = clearformer.BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                 intermediate_size=64)  # fmt: skip
    return clearformer.BertModel(cfg).eval()


def _gpt2() -> clearformer.GPT2LMHeadModel:
    torch.manual_seed(0)
    cfg = clearformer.GPT2Config(vocab_size=99, n_positions=32, n_embd=32, n_layer=2, n_head=4)
    return clearformer.GPT2LMHeadModel(cfg).eval()


def _perturbed(model: torch.nn.Module, scale: float) -> torch.nn.Module:
    other = copy.deepcopy(model)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g))
    return other


def _batches() -> list[dict]:
    torch.manual_seed(2)
    out = []
    for _ in range(2):
        ids = torch.randint(4, 99, (3, 9))
        mask = torch.ones_like(ids)
        mask[1, 6:] = 0
        out.append({"input_ids": ids, "attention_mask": mask})
    return out


def test_mean_pooled_averages_real_tokens_only():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [1e6, -1e6]]])
    mask = torch.tensor([[1, 1, 0]])
    assert torch.equal(bench.mean_pooled(hidden, mask), torch.tensor([[2.0, 3.0]]))


def test_embedding_cosine_is_one_for_the_same_model_and_lower_for_a_perturbed_one():
    model, batches = _bert(), _batches()
    reference = bench.sentence_embeddings(model, batches)
    assert reference.shape == (6, 32)
    same = bench.cosines(reference, bench.sentence_embeddings(copy.deepcopy(model), batches))
    assert torch.allclose(same, torch.ones(6, dtype=same.dtype), atol=1e-6)
    worse = bench.cosines(reference, bench.sentence_embeddings(_perturbed(model, 0.2), batches))
    assert float(worse.max()) < 0.999


def test_cosines_refuse_tables_of_different_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\) vs \(2, 4\)"):
        bench.cosines(torch.ones(3, 4), torch.ones(2, 4))


def test_top1_agreement_is_total_for_the_same_model_and_lower_for_a_perturbed_one():
    model = _gpt2()
    windows = torch.randint(0, 99, (3, 16), generator=torch.Generator().manual_seed(3))
    reference = bench.full_logits(model, windows)
    same, worse = bench.Agreement(), bench.Agreement()
    same.update(reference, bench.full_logits(copy.deepcopy(model), windows))
    worse.update(reference, bench.full_logits(_perturbed(model, 0.2), windows))
    assert (same.rate, same.positions, same.max_abs_diff) == (1.0, 48, 0.0)
    assert worse.positions == 48 and worse.rate < 0.9 and worse.max_abs_diff > 0.1


def test_agreement_over_chunks_equals_agreement_over_the_whole():
    g = torch.Generator().manual_seed(4)
    a, b = torch.randn(4, 5, 7, generator=g), torch.randn(4, 5, 7, generator=g)
    whole, chunked = bench.Agreement(), bench.Agreement()
    whole.update(a, b)
    for x, y in zip(a.split(1), b.split(1), strict=True):
        chunked.update(x, y)
    assert (chunked.same, chunked.positions, chunked.max_abs_diff) == (whole.same, 20, whole.max_abs_diff)
    assert whole.same == int((a.argmax(-1) == b.argmax(-1)).sum())


def test_cached_decoding_logits_match_the_whole_window_forward():
    model = _gpt2()
    windows = torch.randint(0, 99, (2, 12), generator=torch.Generator().manual_seed(5))
    full, stepped = bench.full_logits(model, windows), bench.cached_logits(model, windows)
    assert stepped.shape == full.shape == (2, 12, 99)
    torch.testing.assert_close(stepped, full, atol=1e-5, rtol=1e-5)


def test_accuracy_and_mcc_match_sklearn_and_the_edge_cases():
    from sklearn.metrics import matthews_corrcoef

    g = torch.Generator().manual_seed(6)
    labels, preds = torch.randint(0, 2, (50,), generator=g), torch.randint(0, 2, (50,), generator=g)
    acc, mcc = bench.accuracy_and_mcc(preds, labels)
    assert acc == int((preds == labels).sum()) / 50
    assert mcc == pytest.approx(matthews_corrcoef(labels.numpy(), preds.numpy()), abs=1e-12)
    assert bench.accuracy_and_mcc(labels, labels)[1] == pytest.approx(1.0)
    assert bench.accuracy_and_mcc(1 - labels, labels)[1] == pytest.approx(-1.0)
    assert bench.accuracy_and_mcc(torch.ones(50, dtype=torch.long), labels)[1] == 0.0  # one class only


def test_goal_column_says_no_below_the_goal_and_dash_without_one():
    assert bench.goal_met(0.995, (">=", 0.99)) == "yes"
    assert bench.goal_met(0.98, (">=", 0.99)) == "**no**"
    assert bench.goal_met(0.6, ("<=", 0.5)) == "**no**"
    assert bench.goal_met(3.2, None) == "—"
    table = bench.markdown_table([bench.row("m", "int8", "cosine", 0.98, (">=", 0.99))])
    assert table.splitlines()[-1] == "| m | int8 | cosine | 0.98 | >= 0.99 | **no** |"


def test_a_mode_the_code_refuses_is_skipped_with_a_printed_reason(monkeypatch, capsys):
    monkeypatch.setitem(bench.MODES, "bogus", ({"quantize": "int3"}, "not a mode"))
    skipped = []
    models = bench.quantized_copies(_gpt2, ["bogus", "int8"], "gpt2", skipped)
    assert list(models) == ["int8"]
    assert skipped == [{"model": "gpt2", "mode": "bogus", "reason": skipped[0]["reason"]}]
    assert "int3" in skipped[0]["reason"]
    assert "SKIP gpt2 / bogus" in capsys.readouterr().out


def test_int8_mode_changes_the_logits_but_keeps_most_top1_predictions():
    model = _gpt2()
    windows = torch.randint(0, 99, (2, 16), generator=torch.Generator().manual_seed(7))
    int8 = bench.quantized_copies(_gpt2, ["int8"], "gpt2", [])["int8"]
    agreement = bench.Agreement()
    agreement.update(bench.full_logits(model, windows), bench.full_logits(int8, windows))
    assert agreement.max_abs_diff > 0 and agreement.rate > 0.5


def test_whole_window_agreement_also_counts_the_decoded_windows_apart():
    model = _gpt2()
    windows = torch.randint(0, 99, (5, 8), generator=torch.Generator().manual_seed(8))
    others = {"same": copy.deepcopy(model), "perturbed": _perturbed(model, 0.2)}
    whole, first = bench.whole_window_agreements(model, others, windows, batch=2, first_windows=3)
    assert whole["same"].positions == 40 and first["same"].positions == 24
    assert whole["same"].rate == first["same"].rate == 1.0
    alone = bench.Agreement()
    alone.update(bench.full_logits(model, windows[:3]), bench.full_logits(others["perturbed"], windows[:3]))
    assert (first["perturbed"].same, first["perturbed"].positions) == (alone.same, alone.positions)
    stepped = bench.decoding_agreements(model, others, windows[:3], [1, 2])
    assert {k: a.positions for k, a in stepped.items() if k[0] == "same"} == {("same", 1): 24, ("same", 2): 24}
    assert stepped["same", 2].rate == 1.0 and stepped["same", 2].max_abs_diff < 1e-4


def test_a_pipe_inside_a_cell_is_escaped_so_the_table_keeps_six_columns():
    table = bench.markdown_table([bench.row("m", "int8", "|a - b|", 0.1, ("<=", 0.5))])
    assert table.splitlines()[-1] == "| m | int8 | \\|a - b\\| | 0.1 | <= 0.5 | yes |"
