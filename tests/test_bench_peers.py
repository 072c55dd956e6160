"""benchmarks/bench_peers.py's logic without any engine: the interleaved order, the per-engine summary,
the ratio to the best comparable peer, the output checks and the worker's command protocol."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_peers  # noqa: E402
import peers_worker  # noqa: E402
from peers_report import COMPARABLE, Row, markdown_table, ratio_to_best_peer, round_order, run_rounds  # noqa: E402

ENGINES = ["clearformer-fp32", "clearformer-int8", "ctranslate2-float32", "onnxruntime-int8"]


def test_rounds_run_every_engine_once_per_round_one_at_a_time_in_a_changing_order():
    calls = []
    seconds = run_rounds(ENGINES, 5, lambda name: calls.append(name) or float(len(calls)))
    assert len(calls) == 5 * len(ENGINES)
    rounds = [calls[i : i + len(ENGINES)] for i in range(0, len(calls), len(ENGINES))]
    for r, names in enumerate(rounds):
        assert sorted(names) == sorted(ENGINES)  # every engine once per round: they alternate
        assert names == round_order(ENGINES, r)
    assert len({names[0] for names in rounds}) > 1  # not always the same engine first
    assert {e: len(s) for e, s in seconds.items()} == dict.fromkeys(ENGINES, 5)
    # each engine's samples are its own calls' results, in call order
    assert seconds["clearformer-fp32"] == [float(i + 1) for i, n in enumerate(calls) if n == "clearformer-fp32"]


def test_no_engine_always_follows_the_same_neighbour_and_the_order_is_repeatable():
    engines = [f"e{i}" for i in range(7)]
    orders = [round_order(engines, r) for r in range(5)]
    assert orders == [round_order(engines, r) for r in range(5)]  # seeded: a rerun runs the same order
    for engine in engines:
        before = {order[order.index(engine) - 1] if order.index(engine) else None for order in orders}
        assert len(before) > 1, f"{engine} always ran after {before}"


def test_zero_rounds_is_an_error():
    with pytest.raises(ValueError, match="rounds must be at least 1, got 0"):
        run_rounds(["a"], 0, lambda name: 1.0)


def test_median_and_range_are_the_throughputs_of_the_median_slowest_and_fastest_sample():
    row = Row("ctranslate2-int8", "int8", (2.0, 1.0, 4.0), work=64)
    assert (row.median, row.low, row.high) == (32.0, 16.0, 64.0)


def _rows() -> list[Row]:
    return [
        Row("clearformer-fp32", "fp32", (1.0,), 100),  # 100 tok/s
        Row("clearformer-bf16", "bf16", (0.25,), 100),  # 400
        Row("clearformer-int8", "int8", (0.5,), 100),  # 200
        Row("ctranslate2-float32", "fp32", (0.8,), 100),  # 125
        Row("onnxruntime-fp32", "fp32", (2.0,), 100),  # 50
        Row("ctranslate2-int8", "int8", (0.4,), 100),  # 250: fastest peer overall
        Row("onnxruntime-int8", "int8", (0.5,), 100),  # 200
    ]


def test_each_clearformer_row_is_compared_with_the_best_peer_of_its_precision():
    rows = _rows()
    by = {r.engine: r for r in rows}
    ratio, peer = ratio_to_best_peer(by["clearformer-fp32"], rows)
    assert (ratio, peer.engine) == (0.8, "ctranslate2-float32")  # not the faster int8 peers
    ratio, peer = ratio_to_best_peer(by["clearformer-int8"], rows)
    assert (ratio, peer.engine) == (0.8, "ctranslate2-int8")
    ratio, peer = ratio_to_best_peer(by["clearformer-bf16"], rows)  # no bf16 peer: the best overall
    assert (ratio, peer.engine) == (1.6, "ctranslate2-int8")
    assert ratio_to_best_peer(by["onnxruntime-fp32"], rows) is None  # peers get no ratio


def test_a_clearformer_row_without_a_comparable_peer_says_so_in_the_table():
    rows = [Row("clearformer-int8", "int8", (1.0,), 10), Row("ctranslate2-float32", "fp32", (1.0,), 10)]
    text = markdown_table({"w": rows})
    assert "| w | clearformer-int8 | 10.0 | 10.0–10.0 | no comparable peer ran |" in text
    assert "| w | ctranslate2-float32 | 10.0 | 10.0–10.0 |  |" in text


def test_the_table_has_one_line_per_engine_with_the_ratio_and_the_peer_it_is_against():
    text = markdown_table({"BERT-base 1x32": _rows()})
    lines = text.splitlines()
    assert lines[0].startswith("| workload | engine | median tok/s | min–max |")
    assert len(lines) == 2 + len(_rows())
    assert "| BERT-base 1x32 | clearformer-fp32 | 100 | 100–100 | **0.80** (ctranslate2-float32) |" in lines


def test_every_clearformer_row_in_the_script_table_has_a_comparable_precision():
    for name, (precision, options) in bench_peers.OURS.items():
        assert precision in COMPARABLE, f"OURS[{name!r}] precision {precision!r}"
        assert isinstance(options, dict)
    engines = bench_peers.ours_engines(["fp32", "int8"])
    assert [e.name for e in engines] == ["clearformer-fp32", "clearformer-int8"]
    with pytest.raises(SystemExit, match="unknown row"):
        bench_peers.ours_engines(["fp16"])


def _generate(tokens_by_engine: dict) -> tuple[dict, dict]:
    workload = {"kind": "generate", "ids": [[1, 2], [3, 4]], "new_tokens": 3}
    outputs = {name: {"tokens": t} for name, t in tokens_by_engine.items()}
    return workload, outputs


def test_decoding_check_flags_different_fp32_tokens_and_refuses_a_short_row():
    workload, outputs = _generate(
        {"clearformer-fp32": [[5, 6, 7], [8, 9, 10]], "ctranslate2-float32": [[5, 6, 7], [8, 9, 11]]}
    )
    checks = bench_peers.check_outputs(workload, outputs, {})
    assert checks["ctranslate2-float32"] == {"identical": False, "agreement": 5 / 6}
    assert checks["clearformer-fp32"]["identical"] is True
    workload, outputs = _generate({"clearformer-fp32": [[5, 6, 7], [8, 9]]})
    with pytest.raises(RuntimeError, match=r"clearformer-fp32: made \[2, 3\] tokens per row .* expected 3"):
        bench_peers.check_outputs(workload, outputs, {})


class FakeEngine(peers_worker.Engine):
    def load_model(self, paths, model):
        if model == "broken":
            raise ValueError("no such model")
        return model

    def prepare_inputs(self):
        self.calls = 0

    def call(self):
        self.calls += 1
        return [[7] * self.workload["new_tokens"]]


def test_worker_answers_load_run_and_errors_one_json_line_each_and_stops_at_quit():
    workload = {"model": "gpt2", "kind": "generate", "new_tokens": 2}
    lines = [
        json.dumps({"cmd": "load", "paths": {}, "workload": workload}),
        json.dumps({"cmd": "run", "calls": 3}),
        json.dumps({"cmd": "load", "paths": {}, "workload": dict(workload, model="broken")}),
        json.dumps({"cmd": "bogus"}),
        json.dumps({"cmd": "quit"}),
        json.dumps({"cmd": "run"}),  # after quit: never read
    ]
    replies = []
    engine = FakeEngine({}, threads=1)
    peers_worker.serve(engine, iter(lines), replies.append)
    assert replies[0] == {"tokens": [[7, 7]]}
    assert replies[1]["seconds"] >= 0 and engine.calls == 1 + 3  # the load's warm-up call, then 3 timed
    assert replies[2] == {"error": "ValueError: no such model"}
    assert "unknown command 'bogus'" in replies[3]["error"]
    assert len(replies) == 4


def test_accuracy_runs_for_the_int8_modes_timed_and_a_compiled_row_counts_as_its_eager_mode():
    assert bench_peers.accuracy_modes(["fp32", "w8a8-compiled", "int8"]) == ["int8", "w8a8"]
    assert bench_peers.accuracy_modes(["fp32", "fp32-packed", "bf16"]) == []
    assert bench_peers.accuracy_modes(["w8a8", "w8a8-compiled"]) == ["w8a8"]
