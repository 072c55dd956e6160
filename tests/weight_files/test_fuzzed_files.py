"""Fuzzed checkpoint files: every outcome is a loaded model or a clear OSError/ValueError, nothing else.

Generated safetensors headers (header length, dtype names, shapes, offsets, metadata), shard indexes
and damaged bytes of .safetensors and .bin files. No KeyError, IndexError, AttributeError,
struct.error or RuntimeError may leak out of ``from_pretrained``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clearformer

TINY = dict(vocab_size=19, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=9)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


def _base_files() -> dict[str, bytes]:
    torch.manual_seed(0)
    model = clearformer.BertModel(clearformer.BertConfig(**TINY), add_pooling_layer=False)
    with tempfile.TemporaryDirectory() as d:
        model.save_pretrained(d)
        single = {p.name: p.read_bytes() for p in Path(d).iterdir()}
    with tempfile.TemporaryDirectory() as d:
        model.save_pretrained(d, max_shard_size="1KB")
        sharded = {p.name: p.read_bytes() for p in Path(d).iterdir()}
    with tempfile.TemporaryDirectory() as d:
        model.save_pretrained(d, safe_serialization=False)
        as_bin = {p.name: p.read_bytes() for p in Path(d).iterdir()}
    return {"single": single, "sharded": sharded, "bin": as_bin}


BASE = _base_files()


def _load_or_clear_error(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as d:
        for name, data in files.items():
            (Path(d) / name).write_bytes(data)
        try:
            clearformer.BertModel.from_pretrained(d, add_pooling_layer=False)
        except (OSError, ValueError) as e:
            assert str(e).strip(), f"{type(e).__name__} without a message"


def _split_header(data: bytes) -> tuple[dict, bytes]:
    n = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _join_header(header: object, body: bytes, length: int | None = None) -> bytes:
    raw = json.dumps(header).encode()
    return (len(raw) if length is None else length).to_bytes(8, "little") + raw + body


JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8)
ANY_JSON = st.recursive(
    JSON_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
)
DTYPES = st.sampled_from(["F32", "F16", "BF16", "F64", "I64", "I32", "I8", "U8", "BOOL", "F8_E4M3", "U64", "Q4", ""])
DIMS = st.integers(-3, 40) | st.sampled_from([2**31, 2**63 - 1, 2**64])
ENTRY_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "dtype": DTYPES | ANY_JSON,
        "shape": st.lists(DIMS, max_size=4) | ANY_JSON,
        "data_offsets": st.lists(st.integers(-5, 10**6) | st.sampled_from([2**64, 2**70]), max_size=3) | ANY_JSON,
    },
)


@settings(FUZZ, max_examples=40)  # most of these load a whole model: the slowest case per example
@given(which=st.integers(0, 100), fields=ENTRY_FIELDS, drop=st.booleans(), metadata=st.none() | ANY_JSON)
def test_fuzzed_safetensors_header_loads_or_fails_clearly(which, fields, drop, metadata):
    header, body = _split_header(BASE["single"]["model.safetensors"])
    keys = sorted(k for k in header if k != "__metadata__")
    key = keys[which % len(keys)]
    if drop:
        header[key] = fields
    else:
        header[key].update(fields)
    if metadata is not None:
        header["__metadata__"] = metadata
    _load_or_clear_error({**BASE["single"], "model.safetensors": _join_header(header, body)})


@FUZZ
@given(length=st.integers(0, 2**64 - 1) | st.integers(0, 4096), cut=st.integers(0, 10**5))
def test_fuzzed_safetensors_length_and_truncation_load_or_fail_clearly(length, cut):
    header, body = _split_header(BASE["single"]["model.safetensors"])
    data = _join_header(header, body, length)
    _load_or_clear_error({**BASE["single"], "model.safetensors": data[: max(0, len(data) - cut)]})


SHARD_NAMES = st.sampled_from(sorted(n for n in BASE["sharded"] if n.endswith(".safetensors")))
NAMES = SHARD_NAMES | st.sampled_from(["", ".", "..", "../x.safetensors", "/etc/passwd", "sub/x", "config.json"])


@FUZZ
@given(
    edits=st.dictionaries(st.text(max_size=40), NAMES | ANY_JSON, max_size=4),
    drop=st.lists(st.integers(0, 200), max_size=3),
    wrap=st.sampled_from(["keep", "replace_map", "replace_index", "no_metadata"]),
    junk=ANY_JSON,
)
def test_fuzzed_shard_index_loads_or_fails_clearly(edits, drop, wrap, junk):
    index = json.loads(BASE["sharded"]["model.safetensors.index.json"])
    keys = sorted(index["weight_map"])
    for i in drop:
        index["weight_map"].pop(keys[i % len(keys)], None)
    index["weight_map"].update(edits)
    if wrap == "replace_map":
        index["weight_map"] = junk
    elif wrap == "replace_index":
        index = junk
    elif wrap == "no_metadata":
        index.pop("metadata", None)
    _load_or_clear_error({**BASE["sharded"], "model.safetensors.index.json": json.dumps(index).encode()})


@FUZZ
@given(
    form=st.sampled_from(["single", "bin"]),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6),
    cut=st.integers(0, 64),
)
def test_damaged_weight_bytes_load_or_fail_clearly(form, flips, cut):
    name = "model.safetensors" if form == "single" else "pytorch_model.bin"
    data = bytearray(BASE[form][name])
    for pos, value in flips:
        data[pos % len(data)] = value
    _load_or_clear_error({**BASE[form], name: bytes(data[: len(data) - cut])})
