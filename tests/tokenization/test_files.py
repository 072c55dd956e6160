"""Files: save_pretrained writes what transformers and `tokenizers` read back identically;
from_pretrained reads vocab files or tokenizer.json; AutoTokenizer resolves and registers."""

from __future__ import annotations

import json

import pytest

from clearformer.tokenization import AutoTokenizer, PreTrainedTokenizer, PreTrainedTokenizerFast

from .conftest import assert_same

TEXTS = ["Hello, world! Naïve café 中文 😀", "", "a second, longer sentence for the batch"]
FIELDS = dict(return_offsets_mapping=True, return_special_tokens_mask=True)


@pytest.mark.parametrize("kind", ["bert", "distilbert", "gpt2", "roberta"])
def test_saved_folder_loads_identically_everywhere(ours, kind, tmp_path):
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    tok = AutoTokenizer.from_pretrained(ours(kind).name_or_path)
    tok.add_tokens(["newtok"])
    tok.add_special_tokens({"additional_special_tokens": ["<extra>"]})
    files = tok.save_pretrained(tmp_path)
    names = {p.rsplit("/", 1)[-1] for p in files}
    assert {"tokenizer_config.json", "special_tokens_map.json", "tokenizer.json"} <= names
    assert set(type(tok).vocab_files_names.values()) <= names
    text = TEXTS + ["with newtok and <extra> inside"]
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    theirs = transformers.AutoTokenizer.from_pretrained(str(tmp_path))
    assert type(reloaded) is type(tok)
    assert_same(reloaded(text, **FIELDS), tok(text, **FIELDS), "clearformer reload")
    assert_same(theirs(text, **FIELDS), tok(text, **FIELDS), "transformers reload")
    assert len(theirs) == len(tok) and theirs.model_max_length == tok.model_max_length
    rust = tokenizers.Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    assert [e.ids for e in rust.encode_batch(text)] == tok(text)["input_ids"]


def test_tokenizer_json_only_folder_loads(ours, oracle, tmp_path):
    oracle("gpt2").save_pretrained(tmp_path)  # transformers 5.24 writes tokenizer.json only
    assert not (tmp_path / "vocab.json").exists()
    tok = AutoTokenizer.from_pretrained(tmp_path)
    assert_same(tok(TEXTS, **FIELDS), oracle("gpt2")(TEXTS, **FIELDS), "tokenizer.json only")


def test_vocab_files_only_folder_loads(ours, oracle):
    # the GPT-2 fixture folder holds vocab.json + merges.txt and no tokenizer.json
    assert_same(ours("gpt2")(TEXTS, **FIELDS), oracle("gpt2")(TEXTS, **FIELDS), "vocab files")


def test_model_max_length_comes_from_tokenizer_config(ours):
    assert ours("bert").model_max_length == 512
    enc = ours("bert")("word " * 600, truncation=True)
    assert len(enc["input_ids"]) == 512


def test_auto_tokenizer_resolution_order(folders, tmp_path):
    import shutil

    shutil.copy(folders["bert"] / "vocab.txt", tmp_path / "vocab.txt")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "distilbert"}))
    assert type(AutoTokenizer.from_pretrained(tmp_path)).__name__ == "DistilBertTokenizer"
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizerFast"}))
    assert type(AutoTokenizer.from_pretrained(tmp_path)).__name__ == "BertTokenizer"
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "XTokenizer"}))
    with pytest.raises(ValueError, match=r"'XTokenizer' is not supported; supported: \["):
        AutoTokenizer.from_pretrained(tmp_path)


def test_auto_tokenizer_register(folders, tmp_path):
    from clearformer.models.bert.tokenization_bert import BertTokenizer

    class MyTokenizer(BertTokenizer):
        pass

    import shutil

    shutil.copy(folders["bert"] / "vocab.txt", tmp_path / "vocab.txt")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "my-bert"}))
    with pytest.raises(ValueError, match="my-bert"):
        AutoTokenizer.from_pretrained(tmp_path)
    AutoTokenizer.register("my-bert", MyTokenizer)
    tok = AutoTokenizer.from_pretrained(tmp_path)
    assert isinstance(tok, MyTokenizer) and isinstance(tok, PreTrainedTokenizerFast)
    assert tok("I like natural language progressing!")["input_ids"][1] == 1045
    with pytest.raises(ValueError, match="already registered"):
        AutoTokenizer.register("my-bert", MyTokenizer)


def test_explain_returns_every_stage(ours):
    trace = ours("bert").explain("Héllo, WORLD 中文!")
    assert trace["normalized"] == "hello, world  中  文 !"
    assert trace["pre_tokens"] == ["hello", ",", "world", "中", "文", "!"]
    assert trace["tokens"][0] == "[CLS]" and trace["tokens"][-1] == "[SEP]"
    assert trace["word_ids"][1:-1] == [0, 1, 2, 3, 4, 5]
    assert trace["decoded"] == "[CLS] hello, world 中 文! [SEP]"


def test_direct_construction_from_vocab_file_works(folders):
    # unlike transformers 5.24, building the class from vocab.txt gives real ids, not [UNK]s
    from clearformer.models.bert.tokenization_bert import BertTokenizer

    tok = BertTokenizer(vocab_file=str(folders["bert"] / "vocab.txt"))
    assert tok("I like natural language progressing!")["input_ids"] == [101, 1045, 2066, 3019, 2653, 27673, 999, 102]


@pytest.mark.parametrize("rust", [False, True])
def test_tokenizers_pickle_and_hash_stably(folders, rust):
    import copy
    import pickle

    tok = AutoTokenizer.from_pretrained(folders["bert"], backend="tokenizers" if rust else None)
    before = pickle.dumps(tok)
    expected = tok(TEXTS, **FIELDS)
    assert pickle.dumps(tok) == before  # caches filled by the call are not part of the state
    for clone in (pickle.loads(before), copy.deepcopy(tok)):
        assert type(clone) is type(tok)
        assert_same(clone(TEXTS, **FIELDS), expected, "clone")


def test_class_from_pretrained_accepts_backend(folders):
    from clearformer.models.bert.tokenization_bert import BertTokenizer
    from clearformer.tokenization import TokenizersBackend

    tok = BertTokenizer.from_pretrained(folders["bert"], backend="tokenizers")
    assert tok.is_fast and isinstance(tok, BertTokenizer) and isinstance(tok, TokenizersBackend)
    with pytest.raises(ValueError, match="backend='rust'"):
        BertTokenizer.from_pretrained(folders["bert"], backend="rust")


@pytest.mark.parametrize("kind", ["bert", "gpt2", "roberta"])
def test_train_new_from_iterator_gives_a_tokenizer_transformers_agrees_with(ours, kind, tmp_path):
    transformers = pytest.importorskip("transformers")
    from . import corpora

    texts = corpora.sst2()[:1500]
    new = ours(kind).train_new_from_iterator([texts[i : i + 100] for i in range(0, 1500, 100)], 800)
    assert type(new) is type(ours(kind)) and len(new) == 800
    assert new.pad_token_id == ours(kind).pad_token_id or kind == "gpt2"
    new.save_pretrained(tmp_path)
    ref = transformers.AutoTokenizer.from_pretrained(str(tmp_path))
    assert_same(new(texts[:300], **FIELDS), ref(texts[:300], **FIELDS), f"retrained {kind}")


@pytest.mark.parametrize("trim", [True, False])
def test_old_style_gpt2_tokenizer_json_matches_tokenizers(oracle, tmp_path, trim):
    """Hub GPT-2 tokenizer.json files use a ByteLevel post-processor (trim_offsets on or off)."""
    tokenizers = pytest.importorskip("tokenizers")
    oracle("gpt2").save_pretrained(tmp_path)
    spec = json.loads((tmp_path / "tokenizer.json").read_text())
    spec["post_processor"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": trim, "use_regex": True}
    (tmp_path / "tokenizer.json").write_text(json.dumps(spec))
    rust = tokenizers.Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    tok = AutoTokenizer.from_pretrained(tmp_path)
    for text, pair in [(" Hello  world", " pair x "), ("naïve  😀 ", "b")]:
        expected = rust.encode(text, pair)
        enc = tok(text, pair, return_offsets_mapping=True, return_token_type_ids=True)
        assert enc["input_ids"] == expected.ids
        assert enc["offset_mapping"] == expected.offsets
        assert enc["token_type_ids"] == expected.type_ids


def test_generic_classes_build_from_a_tokenizer_json_file(oracle, tmp_path):
    oracle("gpt2").save_pretrained(tmp_path)
    for cls in (PreTrainedTokenizer, PreTrainedTokenizerFast):
        tok = cls(tokenizer_file=str(tmp_path / "tokenizer.json"))
        assert tok("Hello, my dog is cute")["input_ids"] == [15496, 11, 616, 3290, 318, 13779]
        assert tok.is_fast == (cls is PreTrainedTokenizerFast)
    with pytest.raises(ValueError, match="tokenizer_file"):
        PreTrainedTokenizer()
