"""Chapter 3.1 relative positions: BERT's relative_key distance embeddings and T5's buckets.

BERT (``position_embedding_type="relative_key"``) gives each query/key pair the learned vector of
row ``i - j + max_position_embeddings - 1``: the sign of i - j is the direction. T5 maps
``key - query`` to one of 32 buckets: 16 for each direction, exact for distances below 8 and
log-spaced up to 128, beyond which all distances share a bucket.
"""

from __future__ import annotations

import math

import torch


def t5_relative_position_bucket(
    relative_position: torch.Tensor, bidirectional: bool = True, num_buckets: int = 32, max_distance: int = 128
) -> torch.Tensor:
    """Bucket of each ``key_position - query_position`` (T5's scheme, written from its description)."""
    bucket = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        bucket = bucket + (relative_position > 0).long() * num_buckets  # keys to the right: upper half
        distance = relative_position.abs()
    else:
        distance = (-relative_position).clamp(min=0)  # a decoder sees only the past; the future is bucket 0
    max_exact = num_buckets // 2
    log_ratio = torch.log(distance.clamp(min=1).float() / max_exact) / math.log(max_distance / max_exact)
    far = (max_exact + log_ratio * (num_buckets - max_exact)).long().clamp(max=num_buckets - 1)
    return bucket + torch.where(distance < max_exact, distance, far)


def bucket_function():
    """clearformer's T5 bucket function once models/t5 has one, else the one written above."""
    try:
        from ..models.t5 import modeling_t5
    except ImportError:
        return t5_relative_position_bucket, "clearformer.explain.relative_position (models/t5 not present)"
    probe = torch.arange(-200, 201)
    for name in ("relative_position_bucket", "_relative_position_bucket"):
        fn = getattr(modeling_t5, name, None) or getattr(getattr(modeling_t5, "T5Attention", None), name, None)
        if fn is None:
            continue
        try:  # use it only if it takes the same arguments and agrees with the scheme written above
            same = all(
                torch.equal(
                    fn(probe, bidirectional=b, num_buckets=32, max_distance=128),
                    t5_relative_position_bucket(probe, b, 32, 128),
                )
                for b in (True, False)
            )
        except TypeError:
            same = False
        if same:
            return fn, f"clearformer.models.t5.modeling_t5 ({name})"
    return t5_relative_position_bucket, "clearformer.explain.relative_position (models/t5 differs)"


def bert_distance_index(length: int, max_positions: int = 16) -> torch.Tensor:
    """Row of BertSelfAttention.distance_embedding used for each (query i, key j), read back from
    clearformer's own relative_scores by giving row r the vector (r, 0, 0, ...)."""
    from ..models.bert.configuration_bert import BertConfig
    from ..models.bert.modeling_bert import BertSelfAttention

    config = BertConfig(
        hidden_size=8,
        num_attention_heads=1,
        max_position_embeddings=max_positions,
        position_embedding_type="relative_key",
    )
    layer = BertSelfAttention(config)
    with torch.no_grad():
        layer.distance_embedding.weight.zero_()
        layer.distance_embedding.weight[:, 0] = torch.arange(2 * max_positions - 1, dtype=torch.float32)
    q = torch.zeros(1, 1, length, 8)
    q[..., 0] = 1.0  # q . row_r = r
    return layer.relative_scores(q, torch.zeros(1, 1, length, 8))[0, 0].round().long()


def run(length: int = 12, max_positions: int = 16) -> dict:
    index = bert_distance_index(length, max_positions)
    i, j = torch.arange(length)[:, None], torch.arange(length)[None, :]
    distance = index - (max_positions - 1)
    bucket, source = bucket_function()
    rel = torch.arange(-150, 151)
    bidir = bucket(rel, bidirectional=True, num_buckets=32, max_distance=128)
    causal = bucket(rel, bidirectional=False, num_buckets=32, max_distance=128)
    show = [-200, -128, -64, -16, -8, -7, -1, 0, 1, 7, 8, 16, 64, 128, 200]
    show_b = bucket(torch.tensor(show), bidirectional=True, num_buckets=32, max_distance=128).tolist()
    show_c = bucket(torch.tensor(show), bidirectional=False, num_buckets=32, max_distance=128).tolist()
    grid = bucket(j - i, bidirectional=True, num_buckets=32, max_distance=128)
    return {
        "bert_relative_key": {
            "rows_in_distance_embedding": 2 * max_positions - 1,
            "row_for_query_i_key_j": f"i - j + {max_positions - 1}",
            "index_equals_i_minus_j_plus_offset": bool(torch.equal(distance, i - j)),
            "row_for_(i=5, j=3)": int(index[5, 3]),
            "row_for_(i=3, j=5)": int(index[3, 5]),
            "distance_matrix_first_row": distance[0].tolist(),
        },
        "t5_buckets": {
            "function": source,
            "relative_position": show,
            "bucket_bidirectional": show_b,
            "bucket_decoder_causal": show_c,
            "distinct_buckets_bidirectional": int(bidir.unique().numel()),
            "distinct_buckets_causal": int(causal.unique().numel()),
        },
        "takeaway": (
            "BERT's relative_key looks up one learned vector per signed distance i - j (left and right "
            "differ); T5 shares a bias per bucket: (encoder) exact for |distance| < 8, logarithmic up to 128, one "
            "bucket beyond, and separate halves for keys left and right of the query (decoders use one side)"
        ),
        "_distance": distance.tolist(),
        "_grid": grid.tolist(),
        "_curve": {"rel": rel.tolist(), "bidirectional": bidir.tolist(), "causal": causal.tolist()},
    }


def plot(result: dict, out) -> list:
    from .plotting import heatmap, pyplot, save

    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
    heatmap(
        axes[0],
        result["_distance"],
        "BERT relative_key: distance i - j",
        xlabel="key j",
        ylabel="query i",
        cmap="RdBu_r",
        colorbar_label="i - j (row offset)",
        annotate=True,
    )
    heatmap(
        axes[1],
        result["_grid"],
        "T5 bucket of (j - i), bidirectional",
        xlabel="key j",
        ylabel="query i",
        cmap="viridis",
        colorbar_label="bucket id",
        annotate=True,
    )
    curve = result["_curve"]
    axes[2].step(curve["rel"], curve["bidirectional"], where="mid", label="encoder (bidirectional)")
    axes[2].step(curve["rel"], curve["causal"], where="mid", label="decoder (causal)")
    axes[2].set(xlabel="key position - query position", ylabel="bucket id", title="T5: 32 buckets, max_distance 128")
    axes[2].grid(alpha=0.3)
    axes[2].legend()
    fig.suptitle("Relative positions: BERT distances and T5 buckets")
    return [save(fig, out, "relative-position.png")]
