"""Each topic's numbers prove its claim (topics that build their own small models; no downloads)."""

from __future__ import annotations

import pytest

from clearformer.explain import TOPICS, registry


def run(name: str, **kw) -> dict:
    return TOPICS[name].module.run(**kw)


def test_every_topic_has_a_module_with_run_and_titles():
    assert len(TOPICS) == 20
    for topic in TOPICS.values():
        assert callable(topic.module.run), topic.name
        assert topic.title and topic.title_zh and topic.question.endswith("?")


def test_embedding_sum_is_one_linear_layer_and_a_rank_7_joint_table():
    r = run("embedding-sum")
    assert r["max_abs_diff_sum_vs_linear"] < 1e-6
    assert r["max_abs_diff_sum_vs_joint_table"] < 1e-6
    assert r["shapes"]["stacked_linear_weight"] == [9, 768]
    assert r["shapes"]["joint_table"] == [24, 768]
    assert r["example"]["concatenated_one_hot"] == [0, 1, 0, 0, 0, 0, 1, 0, 1]
    assert r["joint_table_rank"] == r["expected_rank"] == 7
    var = r["variance"]
    assert var["sum"] == pytest.approx(var["sum_of_three"], rel=0.1)
    assert var["after_layernorm_per_token_mean"] == pytest.approx(1.0, rel=1e-3)


def test_attention_scale_keeps_unit_variance_and_unscaled_saturates():
    r = run("attention-scale")
    for row in r["rows"]:
        assert row["var_scaled"] == pytest.approx(1.0, rel=0.1), row["d"]
        assert row["var_t5_init"] == pytest.approx(1.0, rel=0.1), row["d"]
        assert row["var_unscaled"] == pytest.approx(row["d"], rel=0.15)
    big = r["rows"][-1]
    assert big["d"] == 1024 and big["max_weight_unscaled"] > 0.9 and big["max_weight_scaled"] < 0.3
    assert big["grad_norm_unscaled"] < big["grad_norm_scaled"] / 3
    grads = [row["grad_norm_unscaled"] for row in r["rows"]]
    assert grads[-1] < grads[0] / 3  # shrinks as d grows


def test_positional_encoding_lines_match_sinusoidal_table_and_shapes():
    r = run("positional-encoding")
    s = r["shapes"]
    assert s["P"] == [1, 512, 10] and s["P[:, :, 0::2]"] == [1, 512, 5]
    assert s["P[:, :X.shape[1], :]"] == [1, 4, 10] and s["X + P[:, :X.shape[1], :]"] == [2, 4, 10]
    assert r["max_abs_diff_vs_clearformer_sinusoidal_table"] < 1e-5
    assert r["same_added_to_every_sentence"] and r["half_layout_is_a_column_permutation"]
    assert r["column_0_is_sin_of_position"][1] == pytest.approx(0.8415, abs=1e-4)
    assert r["column_1_is_cos_of_position"][1] == pytest.approx(0.5403, abs=1e-4)
    assert max(r["dot_product_spread_for_fixed_offset"].values()) < 1e-3


def test_qkv_without_projections_attends_to_itself():
    r = TOPICS["qkv-projections"].module._synthetic()
    assert r["Q=K=V=X"]["rows_attending_most_to_self"] == 1.0
    assert r["Q=K=V=X"]["mean_self_weight"] > 0.9
    assert r["random W_q, W_k"]["mean_self_weight"] < 0.3


def test_linear_is_x_times_w_transposed_plus_b():
    r = run("linear")
    assert r["shapes"] == {"x": [2, 5, 4], "weight": [3, 4], "bias": [3], "y": [2, 5, 3]}
    assert r["parameters"] == 15
    assert r["max_abs_diff_vs_x_WT_plus_b"] < 1e-6 and r["max_abs_diff_single_token_W_x_plus_b"] < 1e-6


def test_encoder_only_right_context_reaches_the_blank_only_without_causal_mask():
    r = run("encoder-only")
    assert r["visible_keys_per_query_causal"] == list(range(1, 9))
    assert r["visible_keys_per_query_bidirectional"] == [8] * 8
    assert r["right_context_influence_causal"] == 0.0
    assert r["right_context_influence_bidirectional"] > 1e-3
    blank = r["blank_position"]
    assert all(v > 0 for v in r["influence_on_blank_causal"][: blank + 1])


def test_dropout_and_layernorm_counts_and_order():
    r = run("dropout-and-layernorm")
    assert r["BertModel"] == {"Dropout": 37, "LayerNorm": 25}
    assert r["BertForSequenceClassification"]["Dropout"] == 38
    assert r["BertForMaskedLM"]["LayerNorm"] == 26
    order = r["forward_order_embeddings_and_layer_0"]
    assert [o.split(" ")[0] for o in order] == [
        "embeddings.LayerNorm",
        "embeddings.dropout",
        "encoder.layer.0.attention.self.dropout",
        "encoder.layer.0.attention.output.dropout",
        "encoder.layer.0.attention.output.LayerNorm",
        "encoder.layer.0.output.dropout",
        "encoder.layer.0.output.LayerNorm",
    ]
    growth = r["post_norm_vs_pre_norm"]
    assert all(abs(v - 1) < 0.01 for v in growth["post_norm_std_per_layer"])
    assert growth["pre_norm_std_per_layer"][-1] > growth["pre_norm_std_per_layer"][0]


def test_residual_connections_keep_the_first_layer_gradient_and_train():
    r = run("residual")
    assert r["first_layer_grad_ratio_residual_over_plain"] > 1e3
    assert r["plain"]["first_layer_grad_norm"] < 1e-3 * r["plain"]["last_layer_grad_norm"]
    assert r["residual"]["final_loss"] < 0.5 * r["plain"]["final_loss"]
    assert r["residual"]["final_loss"] < r["residual"]["initial_loss"]


def test_relative_position_direction_and_t5_buckets():
    r = run("relative-position")
    bert = r["bert_relative_key"]
    assert bert["index_equals_i_minus_j_plus_offset"]
    assert bert["row_for_(i=5, j=3)"] != bert["row_for_(i=3, j=5)"]
    t5 = r["t5_buckets"]
    rel, bi, causal = t5["relative_position"], t5["bucket_bidirectional"], t5["bucket_decoder_causal"]
    b = dict(zip(rel, bi))
    assert b[0] == 0 and b[1] == 17 and b[-1] == 1 and b[7] == 23  # exact below 8, upper half for the right
    assert b[128] == b[200] == 31 and b[-128] == b[-200] == 15  # saturates at max_distance
    c = dict(zip(rel, causal))
    assert all(c[k] == 0 for k in rel if k >= 0)  # a decoder never sees the future


def test_my_t5_bucket_function_matches_transformers():
    torch = pytest.importorskip("torch")
    t5 = pytest.importorskip("transformers.models.t5.modeling_t5")
    from clearformer.explain.relative_position import t5_relative_position_bucket

    rel = torch.arange(-300, 301)[None, :] - torch.arange(0, 5)[:, None]
    for bidirectional in (True, False):
        for buckets, distance in ((32, 128), (16, 64)):
            want = t5.T5Attention._relative_position_bucket(rel, bidirectional, buckets, distance)
            assert torch.equal(t5_relative_position_bucket(rel, bidirectional, buckets, distance), want)


def test_cross_attention_course_shapes_and_kv_length_rule():
    r = run("cross-attention")
    shapes = {s["step"]: s["shape"] for s in r["steps"]}
    assert shapes["Q split into heads"] == [64, 6, 12, 50]
    assert shapes["K split into heads"] == [64, 6, 10, 50]
    assert shapes["weights = softmax(scores)"] == [64, 6, 12, 10]
    assert r["output_shape"] == [64, 12, 300]
    assert r["weights_rows_sum_to_1"] < 1e-5 and r["eager_vs_sdpa_max_abs_diff"] < 1e-5
    assert "same length" in r["key_value_length_mismatch_error"]


def test_heads_divide_error_names_both_numbers():
    r = run("heads-divide")
    assert "768" in r["clearformer_error"] and "10" in r["clearformer_error"]
    assert 12 in r["head_counts_that_divide_up_to_32"] and 10 not in r["head_counts_that_divide_up_to_32"]
    assert r["what_view_would_say"] is not None


def test_split_heads_round_trip_and_contiguity():
    r = run("split-heads")
    shapes = [s["shape"] for s in r["steps"]]
    assert shapes[1] == [2, 5, 12, 64] and shapes[2] == [2, 12, 5, 64] and shapes[-1] == [2, 5, 768]
    assert r["steps"][2]["contiguous"] is False
    assert r["head_slice_equal"] and r["round_trip_exact"]
    assert r["matches_clearformer_split_heads"] and r["matches_clearformer_merge_heads"]
    assert r["view_without_contiguous_error"]


def test_auto_resolution_picks_bert_for_question_answering():
    r = run("auto-resolution")
    assert r["resolved_class"] == "BertForQuestionAnswering"
    steps = {s["step"]: s["found"] for s in r["steps"]}
    assert "model_type='bert'" in steps["read config.json"]
    assert steps["AutoConfig.from_pretrained"] == "BertConfig"
    assert steps["MODEL_MAPPINGS['question_answering']['bert']"].endswith(":BertForQuestionAnswering")
    assert "unicorn" in r["unknown_model_type_error"] and "bert" in r["unknown_model_type_error"]


def test_vocab_size_error_and_resize_fix():
    r = run("vocab-size-error")
    assert "index out of range" in r["course_case"]["torch_error"]
    assert r["course_case"]["nn.Embedding(10, 8) output shape"] == [1, 3, 8]
    tok = r["tokenizer"]
    assert tok["len(tokenizer) after add_tokens(['clearformer'])"] == tok["vocab_size (base vocabulary)"] + 1
    assert "resize_token_embeddings(len(tokenizer))" in r["clearformer_error"]
    assert r["after_resize_token_embeddings"]["embedding_rows"] == 14


def test_kv_cache_equals_recomputation_and_is_faster():
    r = run("kv-cache")
    assert r["max_abs_diff_logits_cached_vs_recomputed"] < 1e-5
    assert r["same_tokens"]
    assert r["prefix_keys_values_unchanged_by_more_tokens"] < 1e-6
    assert "GPT2LMHeadModel" in r["model"] or "BertLMHeadModel" in r["model"]
    assert r["cache_shape_layer_0_keys"][2] == r["prompt_tokens"] + r["generated_tokens"]
    assert r["seconds_with_cache"] < r["seconds_recomputing"]


def test_format_result_prints_every_public_key_and_hides_arrays():
    text = registry.format_result("positional-encoding", run("positional-encoding"))
    assert "max_abs_diff_vs_clearformer_sinusoidal_table" in text and "正弦位置编码" in text
    assert "_interleaved" not in text
