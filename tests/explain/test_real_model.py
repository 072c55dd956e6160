"""Topics on the real all-MiniLM-L6-v2 checkpoint and real SST-2; skip when either is absent."""

from __future__ import annotations

import pytest

from clearformer.explain import TOPICS


@pytest.fixture(scope="module")
def model(minilm_dir):
    return str(minilm_dir)


def test_cls_and_mean_pooling_both_beat_chance_on_sst2_dev(model, shared_data, monkeypatch):
    monkeypatch.setenv("CLEARFORMER_DATA", str(shared_data))
    r = TOPICS["cls-pooling"].module.run(model=model)
    assert r["output_shapes_for_2_sentences"]["pooler_output"] == [2, 384]
    assert r["output_shapes_for_2_sentences"]["last_hidden_state"][::2] == [2, 384]
    acc, chance = r["dev_accuracy"], r["majority_class_baseline"]
    assert chance < 0.56
    # 300 dev sentences: one standard error is about 0.03, so +0.1 over the majority class is > 3 SE.
    assert acc["[CLS] hidden state"] > chance + 0.1 and acc["mean pooling"] > chance + 0.15
    assert "400 of" in r["data"] and "300 of" in r["data"]


def test_qkv_real_model_diagonal_dominates_only_without_projections(model):
    r = TOPICS["qkv-projections"].module.run(model=model)["real_minilm"]
    assert r["Q=K=V=X (embeddings)"]["rows_attending_most_to_self"] == 1.0
    assert r["learned W_q, W_k (layer 0, all heads)"]["mean_self_weight"] < 0.3
    assert r["learned W_q, W_k (layer 0, all heads)"]["rows_attending_most_to_self"] < 0.5


def test_multi_head_heads_differ_and_12x64_costs_the_same_as_1x768(model):
    r = TOPICS["multi-head"].module.run(model=model)
    layers = r["minilm_heads_per_layer"]
    assert len(layers) == 6
    assert any(row["entropy_max"] - row["entropy_min"] > 1.0 for row in layers)
    assert any(row["distance_max"] - row["distance_min"] > 2.0 for row in layers)
    many, one = r["width_768"]["12 heads x 64"], r["width_768"]["1 head x 768"]
    assert many["parameters"] == one["parameters"]
    assert many["matmul_flops"] == one["matmul_flops"]
    assert many["softmax_rows"] == 12 * one["softmax_rows"]
    assert r["width_768"]["max_abs_diff_between_outputs"] > 1e-3


def test_contextual_embeddings_static_identical_contextual_differ(model):
    r = TOPICS["contextual-embeddings"].module.run(model=model)
    assert all(v == pytest.approx(1.0, abs=1e-6) for v in r["static_cosine"].values())
    ctx = r["contextual_cosine"]
    assert max(ctx.values()) < 0.95
    assert ctx["money_1 vs money_2"] > ctx["money_1 vs river"]
    assert ctx["money_1 vs money_2"] > ctx["money_2 vs river"]


def test_tokenizer_chain_on_real_vocab_matches_course_ids(model):
    r = TOPICS["tokenizer-chain"].module.run(model=model)
    assert r["input_ids"] == [101, 1045, 2066, 3019, 2653, 27673, 999, 102]
    assert r["matches_course_chapter_3_1_ids"] and r["prepare_for_model_equals_call"]
    chain = [c.strip() for c in r["call_chain"]]
    assert chain[0] == "PreTrainedTokenizerBase.__call__"
    assert chain.index("Pipeline.encode") < chain.index("PreTrainedTokenizerBase._finalize")
    assert r["result_type"] == "BatchEncoding"
    assert r["stages"]["4 post-processor ([CLS] A [SEP])"][0] == "[CLS]"


def test_attention_map_shapes_and_rows_sum_to_one(model):
    r = TOPICS["attention-map"].module.run(model=model)
    assert r["attentions_shape"] == [6, 12, len(r["tokens"]), len(r["tokens"])]
    assert r["max_row_sum_error"] < 1e-5
    assert r["most_focused_head"]["entropy"] < r["most_diffuse_head_entropy"] / 2
