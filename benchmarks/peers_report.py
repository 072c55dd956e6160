"""The pure parts of bench_peers.py: the interleaved round order, per-engine summaries, the ratio of
each clearformer row to the best peer of comparable precision, and the Markdown table.

No engine, no torch: tests/test_bench_peers_report.py pins this logic with fake workers.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

OURS_PREFIX = "clearformer"
# A clearformer row is compared with the best peer of the same precision; bf16 has no bf16 peer
# (CTranslate2 and ONNX Runtime run fp32 or int8 here), so it is compared with the best peer overall.
COMPARABLE = {"fp32": ("fp32",), "int8": ("int8",), "bf16": ("fp32", "int8")}


@dataclass(frozen=True)
class Row:
    """One engine's samples on one workload: ``seconds`` per sample, ``work`` tokens per sample."""

    engine: str
    precision: str
    seconds: tuple[float, ...]
    work: int

    @property
    def is_ours(self) -> bool:
        return self.engine.startswith(OURS_PREFIX)

    @property
    def median(self) -> float:
        """Median throughput, tokens/s (the median time's rate: rates are monotone in time)."""
        return self.work / statistics.median(self.seconds)

    @property
    def low(self) -> float:
        return self.work / max(self.seconds)

    @property
    def high(self) -> float:
        return self.work / min(self.seconds)


def round_order(engines: Sequence[str], round_index: int, seed: int = 0) -> list[str]:
    """The engines' turn order in one round: every engine once, shuffled per round (seeded, so a run
    is repeatable), so no engine always runs first or always right after the same neighbour (whose
    thread pool may still be winding down, or whose memory traffic may have evicted its caches)."""
    order = list(engines)
    random.Random(seed * 1_000_003 + round_index).shuffle(order)
    return order


def run_rounds(engines: Sequence[str], rounds: int, run_one: Callable[[str], float]) -> dict[str, list[float]]:
    """Call ``run_one(engine)`` once per engine per round, in ``round_order``, one call at a time (the
    engines never overlap); the seconds each call returned, per engine."""
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    seconds: dict[str, list[float]] = {e: [] for e in engines}
    for r in range(rounds):
        for engine in round_order(engines, r):
            seconds[engine].append(run_one(engine))
    return seconds


def best_peer(rows: Sequence[Row], precisions: Sequence[str]) -> Row | None:
    """The fastest (by median) peer row whose precision is one of ``precisions``."""
    peers = [r for r in rows if not r.is_ours and r.precision in precisions]
    return max(peers, key=lambda r: r.median, default=None)


def ratio_to_best_peer(row: Row, rows: Sequence[Row]) -> tuple[float, Row] | None:
    """(ours / best comparable peer in tokens/s, that peer) for a clearformer row; None for a peer
    row or when no comparable peer ran."""
    if not row.is_ours:
        return None
    peer = best_peer(rows, COMPARABLE.get(row.precision, ("fp32", "int8")))
    return None if peer is None else (row.median / peer.median, peer)


def fmt_rate(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def markdown_table(workloads: dict[str, Sequence[Row]]) -> str:
    """workload | engine | median tok/s | min–max | ours / best peer, one line per engine."""
    lines = [
        "| workload | engine | median tok/s | min–max | ours / best comparable peer |",
        "|---|---|---|---|---|",
    ]
    for workload, rows in workloads.items():
        for row in rows:
            found = ratio_to_best_peer(row, rows)
            if row.is_ours:
                ratio = "no comparable peer ran" if found is None else f"**{found[0]:.2f}** ({found[1].engine})"
            else:
                ratio = ""
            lines.append(
                f"| {workload} | {row.engine} | {fmt_rate(row.median)} | "
                f"{fmt_rate(row.low)}–{fmt_rate(row.high)} | {ratio} |"
            )
    return "\n".join(lines)


def summary_json(rows: Sequence[Row]) -> list[dict]:
    out = []
    for row in rows:
        found = ratio_to_best_peer(row, rows)
        out.append(
            {
                "engine": row.engine,
                "precision": row.precision,
                "tokens_per_sample": row.work,
                "seconds": list(row.seconds),
                "median_tok_s": row.median,
                "min_tok_s": row.low,
                "max_tok_s": row.high,
                "ratio_to_best_peer": None if found is None else found[0],
                "best_peer": None if found is None else found[1].engine,
            }
        )
    return out
