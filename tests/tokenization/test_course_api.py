"""What the course's own notebooks do with tokenizers works on clearformer: the class checks of
4.2/4.3, the module paths of 3.1 and 4.4, pickling for ``datasets.map(num_proc=4)`` (4.5)."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys

import pytest

import clearformer
from clearformer.tokenization import AutoTokenizer

KINDS = ["bert", "distilbert", "gpt2", "roberta"]
TEXTS = ["Hello, my dog is cute", "lower newer  x\n\tünïcödé 中文 and <mask> [MASK]"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("use_fast", [None, True, False])
def test_default_tokenizer_is_a_pretrained_tokenizer_fast_with_alignment(folders, kind, use_fast):
    kwargs = {} if use_fast is None else {"use_fast": use_fast}  # 5.24 ignores use_fast too
    tok = AutoTokenizer.from_pretrained(folders[kind], **kwargs)
    assert isinstance(tok, clearformer.PreTrainedTokenizerFast)  # the course's 4.2 / 4.3 assert
    assert not isinstance(tok, clearformer.TokenizersBackend)
    assert tok.is_fast
    enc = tok("Hello world", return_offsets_mapping=True)
    assert enc.word_ids() and enc["offset_mapping"]


def test_default_tokenizer_needs_no_tokenizers_package(folders):
    # `tokenizers` made unimportable in a fresh interpreter: loading, calling, word_ids still work
    code = f"""
import sys
sys.modules["tokenizers"] = None
import clearformer
from clearformer import AutoTokenizer, PreTrainedTokenizerFast
tok = AutoTokenizer.from_pretrained({str(folders["bert"])!r})
assert isinstance(tok, PreTrainedTokenizerFast), type(tok).__mro__
assert tok("Hello world").word_ids() == [None, 0, 1, None]
try:
    AutoTokenizer.from_pretrained({str(folders["bert"])!r}, backend="tokenizers")
except ImportError as err:
    assert "tokenizers" in str(err)
else:
    raise AssertionError("backend='tokenizers' worked without the package")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_class_hierarchy_names_what_each_class_is(folders):
    from clearformer.models.t5.tokenization_t5 import T5Tokenizer

    base = clearformer.PreTrainedTokenizerBase
    assert issubclass(clearformer.PreTrainedTokenizer, base)
    assert issubclass(clearformer.PreTrainedTokenizerFast, base)
    assert issubclass(clearformer.TokenizersBackend, clearformer.PreTrainedTokenizerFast)
    # SentencePiece tokenizers here see a text as one word: no per-word alignment, not "fast"
    assert issubclass(T5Tokenizer, clearformer.PreTrainedTokenizer) and not T5Tokenizer.is_fast


def test_course_module_paths_import():
    from clearformer.tokenization_utils import (
        PreTrainedTokenizer,
        _is_control,
        _is_punctuation,
        _is_whitespace,
    )
    from clearformer.tokenization_utils_base import (
        BatchEncoding,
        PaddingStrategy,
        PreTrainedTokenizerBase,
        TruncationStrategy,
    )

    assert PreTrainedTokenizer is clearformer.PreTrainedTokenizer
    assert PreTrainedTokenizerBase is clearformer.PreTrainedTokenizerBase
    assert BatchEncoding is clearformer.BatchEncoding
    assert PaddingStrategy("longest") is PaddingStrategy.LONGEST
    assert TruncationStrategy.ONLY_SECOND == "only_second"
    assert [_is_whitespace(c) for c in " \t\u3000x\x0b"] == [True, True, True, False, False]
    assert [_is_control(c) for c in "\x00\u200b\tx"] == [True, True, False, False]
    assert [_is_punctuation(c) for c in "$,\u3001a\u00b7"] == [True, True, True, False, True]


def test_strategy_enums_work_as_padding_and_truncation_options(ours, oracle):
    from clearformer.tokenization_utils_base import PaddingStrategy, TruncationStrategy

    kw = dict(padding=PaddingStrategy.MAX_LENGTH, truncation=TruncationStrategy.LONGEST_FIRST, max_length=6)
    for rust in (False, True):
        assert ours("bert", rust)(TEXTS, **kw)["input_ids"] == oracle("bert")(TEXTS, **kw)["input_ids"]


TOKENIZER_FOLDERS = ["bert", "distilbert", "gpt2", "roberta"]


@pytest.mark.parametrize("rust", [False, True])
@pytest.mark.parametrize("kind", TOKENIZER_FOLDERS)
def test_every_tokenizer_pickles_and_gives_equal_ids_after(ours, kind, rust):
    tok = ours(kind, rust)
    expected = tok(TEXTS, TEXTS[::-1], return_offsets_mapping=True)
    for clone in (pickle.loads(pickle.dumps(tok)), copy.deepcopy(tok)):
        assert type(clone) is type(tok)
        again = clone(TEXTS, TEXTS[::-1], return_offsets_mapping=True)
        assert again["input_ids"] == expected["input_ids"]
        assert again["offset_mapping"] == expected["offset_mapping"]
        assert clone.decode(again["input_ids"][0]) == tok.decode(expected["input_ids"][0])
