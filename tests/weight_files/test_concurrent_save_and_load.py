"""A load during a save sees the old model or the new one: never shards of two saves, never "no weights"."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

import pytest
import torch

import clearformer

TINY = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)
# Every save switches form, so every switch the precedence rules must survive is exercised:
# one file -> shards -> one file, safetensors -> .bin -> safetensors, shards -> shards of the same count.
FORMS = [
    dict(safe_serialization=True),
    dict(safe_serialization=True, max_shard_size="20KB"),
    dict(safe_serialization=True, max_shard_size="20KB"),
    dict(safe_serialization=False, max_shard_size="20KB"),
    dict(safe_serialization=False),
    dict(safe_serialization=True, max_shard_size="40KB"),
]


def _fill(model: torch.nn.Module, version: int) -> None:
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(float(version))


def _save_in_a_loop(folder: str, stop, saves) -> None:
    model = clearformer.BertModel(clearformer.BertConfig(**TINY))
    version = 1
    while not stop.is_set():
        _fill(model, version)
        model.save_pretrained(folder, **FORMS[version % len(FORMS)])
        saves.value = version
        version += 1


def _versions_in(model: torch.nn.Module) -> set[float]:
    return set(torch.cat([p.detach().flatten() for p in model.parameters()]).unique().tolist())


def test_loads_during_repeated_saves_see_exactly_one_save(tmp_path: Path):
    folder = tmp_path / "live"
    first = clearformer.BertModel(clearformer.BertConfig(**TINY))
    _fill(first, 0)
    first.save_pretrained(folder)

    ctx = mp.get_context("fork")
    stop, saves = ctx.Event(), ctx.Value("i", 0)
    writer = ctx.Process(target=_save_in_a_loop, args=(str(folder), stop, saves), daemon=True)
    writer.start()
    loads, mixed, failed, seen = 0, [], [], set()
    start = time.monotonic()

    def enough() -> bool:  # at least 5 s, and enough overlap even on a busy machine; at most 25 s
        elapsed = time.monotonic() - start
        return elapsed > 25 or elapsed > 5 and loads >= 20 and saves.value >= 2 * len(FORMS)

    try:
        while not enough():
            try:
                model = clearformer.BertModel.from_pretrained(folder)
            except Exception as e:  # any failure is what this test counts
                failed.append(f"{type(e).__name__}: {e}"[:300])
                continue
            loads += 1
            versions = _versions_in(model)
            if len(versions) != 1:
                mixed.append(sorted(versions))
            seen |= versions
    finally:
        stop.set()
        writer.join(timeout=30)
    assert writer.exitcode == 0, "the writer failed"
    assert not mixed and not failed, (
        f"{len(mixed)} mixed and {len(failed)} failed of {loads + len(failed)} loads during {saves.value} "
        f"saves; first mixed {mixed[:1]}, first failure {failed[:1]}"
    )
    assert saves.value >= 2 * len(FORMS) and loads >= 20, f"too little overlap: {saves.value} saves, {loads} loads"
    assert len(seen) >= 3, f"the reader saw only versions {sorted(seen)}"


def test_resave_with_the_same_shard_count_leaves_standard_names_transformers_loads(tmp_path: Path):
    transformers = pytest.importorskip("transformers", reason="transformers is the test oracle")
    model = clearformer.BertModel(clearformer.BertConfig(**TINY))
    for version in (1, 2):
        _fill(model, version)
        model.save_pretrained(tmp_path, max_shard_size="20KB")
    names = sorted(p.name for p in tmp_path.iterdir())
    shards = [n for n in names if n.startswith("model-")]
    assert names == sorted(["config.json", "model.safetensors.index.json", *shards])
    assert all(n.endswith(f"-of-{len(shards):05d}.safetensors") and ".tmp-" not in n for n in shards)
    assert _versions_in(clearformer.BertModel.from_pretrained(tmp_path)) == {2.0}
    ref = transformers.BertModel.from_pretrained(tmp_path)
    assert _versions_in(ref) == {2.0}
