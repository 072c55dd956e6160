"""Bad input gives a clear, specific error (file and line, the value seen) and never hangs."""

from __future__ import annotations

import json
import shutil
import warnings

import pytest

from clearformer.tokenization import AutoTokenizer
from clearformer.tokenization.bpe import load_merges_txt, load_vocab_json
from clearformer.tokenization.wordpiece import load_vocab_txt


def test_missing_vocab_file_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="vocab.txt"):
        load_vocab_txt(tmp_path / "vocab.txt")


def test_blank_line_in_vocab_txt_names_file_and_line(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[PAD]\n[UNK]\n\nhello\n")
    with pytest.raises(ValueError, match=r"vocab.txt, line 3"):
        load_vocab_txt(path)


def test_malformed_merges_names_file_and_line(tmp_path):
    path = tmp_path / "merges.txt"
    path.write_text("#version: 0.2\nĠ t\nthis line has three\n")
    with pytest.raises(ValueError, match=r"merges.txt, line 3.*'this line has three'"):
        load_merges_txt(path)


def test_invalid_vocab_json_names_file_and_line(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_text('{\n"a": 0,\n"b": oops\n}')
    with pytest.raises(ValueError, match=r"vocab.json, line 3"):
        load_vocab_json(path)


def test_merges_that_do_not_fit_the_vocab_are_refused(tmp_path, gpt2_dir):
    folder = tmp_path / "bad"
    shutil.copytree(gpt2_dir, folder)
    (folder / "merges.txt").write_text("#version: 0.2\nzz qq\n")
    with pytest.raises(ValueError, match="'zzqq', which is not in the vocabulary"):
        AutoTokenizer.from_pretrained(folder)


def test_folder_without_vocab_files_says_what_is_missing(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizer"}))
    with pytest.raises(FileNotFoundError, match="vocab.txt"):
        AutoTokenizer.from_pretrained(tmp_path)


def test_unknown_model_type_lists_supported(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "xlnet"}))
    with pytest.raises(ValueError, match=r"'xlnet'.*supported model types: \['bert'"):
        AutoTokenizer.from_pretrained(tmp_path)


@pytest.mark.parametrize("rust", [False, True])
def test_max_length_below_special_tokens_is_a_value_error(ours, rust):
    tok = ours("bert", rust)
    with pytest.raises(ValueError, match="special tokens alone take 3"):
        tok("a b c d e f", "g h", truncation=True, max_length=2)
    with pytest.raises(ValueError, match="special tokens alone take 2"):
        tok("a b c d e f", truncation=True, max_length=1)
    assert tok("", truncation=True, max_length=2)["input_ids"] == [101, 102]


@pytest.mark.parametrize("rust", [False, True])
def test_stride_not_below_the_window_is_a_value_error(ours, rust):
    tok = ours("bert", rust)
    with pytest.raises(ValueError, match="stride"):
        tok(
            "q", "a b c d e f g h i j", truncation="only_second", max_length=8, stride=4, return_overflowing_tokens=True
        )
    with pytest.raises(ValueError, match="stride"):
        tok("a b c d e f g h i j", truncation=True, max_length=5, stride=3, return_overflowing_tokens=True)


@pytest.mark.parametrize("rust", [False, True])
def test_pad_to_multiple_must_divide_the_truncation_length(ours, oracle, rust):
    kw = dict(truncation=True, max_length=40, padding="max_length", pad_to_multiple_of=16)
    for tok in (ours("bert", rust), oracle("bert")):  # transformers refuses this too
        with pytest.raises(ValueError, match=r"length \(40\) is not a multiple of pad_to_multiple_of \(16\)"):
            tok("a b c", **kw)
    assert ours("bert", rust)("a b c", **{**kw, "max_length": 48})["input_ids"][:5] == [101, 1037, 1038, 1039, 102]


def test_only_second_needs_a_pair_and_room(ours):
    tok = ours("bert")
    with pytest.raises(ValueError, match="needs a pair"):
        tok("a b c d e", truncation="only_second", max_length=4)
    with pytest.raises(ValueError, match="that sequence has 2 tokens"):
        tok("a b c d e f", "g h", truncation="only_second", max_length=5)


def test_options_that_make_no_sense_are_refused(ours, folders):
    tok = ours("bert")
    with pytest.raises(ValueError, match="truncation='middle'"):
        tok("a", truncation="middle", max_length=3)
    with pytest.raises(ValueError, match="padding=True"):
        tok(["a", "a b c"], return_tensors="pt")
    with pytest.raises(ValueError, match="no pad token"):
        AutoTokenizer.from_pretrained(folders["gpt2"])(["a", "b c"], padding=True)
    with pytest.raises(TypeError, match="list of words"):
        tok("not words", is_split_into_words=True)


def test_invalid_utf8_decodes_to_replacement_with_a_warning_naming_the_position(ours, oracle):
    ids = ours("gpt2").encode("ok 😀")[:-1] + ours("gpt2").encode(" end")  # cut the emoji
    with pytest.warns(UnicodeWarning, match=r"position 3"):
        text = ours("gpt2").decode(ids)
    assert text == oracle("gpt2").decode(ids)
    assert "\ufffd" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours("gpt2").decode(ours("gpt2").encode("fine 😀"))


def test_use_fast_refuses_never_split(folders):
    pytest.importorskip("tokenizers")
    with pytest.raises(ValueError, match="never_split cannot be honoured with backend=.tokenizers."):
        AutoTokenizer.from_pretrained(folders["bert"], backend="tokenizers", never_split=["[unused1]"])


def test_never_split_keeps_the_word_whole_on_the_python_path(folders):
    tok = AutoTokenizer.from_pretrained(folders["bert"], never_split=["[unused1]"])
    assert tok.tokenize("go [unused1] now") == ["go", "[unused1]", "now"]
    plain = AutoTokenizer.from_pretrained(folders["bert"])
    assert plain.tokenize("go [unused1] now") != ["go", "[unused1]", "now"]


@pytest.mark.legacy
def test_never_split_matches_the_original_python_bert_tokenizer(folders):
    """transformers 5.24 ignores never_split; 4.57's Python BertTokenizer is the reference."""
    import json as _json

    from tests.conftest import LEGACY_PYTHON, run_legacy

    if not LEGACY_PYTHON.exists():
        pytest.skip("needs .venv-legacy (scripts/setup_legacy_oracle.sh)")
    words = ["[unused1]", "Hello", "don't"]
    texts = ["go [unused1] now", "Hello, Hello world", "don't stop don't!", "x[unused1]y", "HELLO"]
    script = (
        "import json, sys\nfrom transformers import BertTokenizer\n"
        "t = BertTokenizer(sys.argv[1], never_split=json.loads(sys.argv[2]))\n"
        "print(json.dumps([t.tokenize(s) for s in json.loads(sys.argv[3])]))"
    )
    out = run_legacy(LEGACY_PYTHON, script, str(folders["bert"] / "vocab.txt"), _json.dumps(words), _json.dumps(texts))
    expected = _json.loads(out.strip().splitlines()[-1])
    tok = AutoTokenizer.from_pretrained(folders["bert"], never_split=words)
    assert [tok.tokenize(s) for s in texts] == expected
