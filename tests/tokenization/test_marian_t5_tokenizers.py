"""MarianTokenizer and T5Tokenizer: SentencePiece models trained here with the ``sentencepiece``
package on the course's data, compared with sentencepiece (plain text), transformers 5.24's
MarianTokenizer.from_pretrained (special tokens, text_target) and 4.57's T5Tokenizer and
``as_target_tokenizer`` (5.24 dropped it; its T5 needs protobuf to read a .model file).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from clearformer.models.marian.configuration_marian import MarianConfig
from clearformer.models.marian.modeling_marian import MarianMTModel
from clearformer.models.marian.tokenization_marian import MarianTokenizer
from clearformer.models.t5.tokenization_t5 import T5Tokenizer
from tests.conftest import run_legacy

spm = pytest.importorskip("sentencepiece", reason="the sentencepiece package trains the test models")

EN_TEXTS = [
    "Two young, White males are outside near many bushes.",
    "  spaces   and\ttabs ",
    "Ünïcödé café ½ — “quotes”",
    "A man in a blue shirt is standing on a ladder cleaning windows.",
    "",
]
DE_TEXTS = ["Zwei junge weiße Männer sind im Freien.", "Ein Hund läuft über die Straße.", "ß Ä ö ü", ""]
SPECIAL_TEXTS = ["Hello</s> world <pad> x <unk>", "a <extra_id_0> b <extra_id_99>c", "summarize: the <pad>dog"]


def _lines(path: Path, n: int, column: int | None = None) -> str:
    out = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= n:
                break
            out.append(line.rstrip("\n").split("\t")[column] if column is not None else line.rstrip("\n"))
    return "\n".join(out) + "\n"


def _train(corpus: str, prefix: Path, vocab_size: int, **ids) -> Path:
    text_file = prefix.with_suffix(".txt")
    text_file.write_text(corpus, encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(text_file),
        model_prefix=str(prefix),
        vocab_size=vocab_size,
        model_type="unigram",
        minloglevel=2,
        **ids,
    )
    return prefix.with_suffix(".model")


@pytest.fixture(scope="module")
def t5_dir(shared_data, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("t5tok")
    model = _train(_lines(shared_data / "multi30k" / "train.en", 5000), folder / "spiece", 1000,
                   pad_id=0, eos_id=1, unk_id=2, bos_id=-1)  # fmt: skip
    model.rename(folder / "spiece.model")
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "T5Tokenizer", "extra_ids": 100}))
    return folder


@pytest.fixture(scope="module")
def marian_dir(shared_data, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mariantok")
    vocab = {"</s>": 0, "<unk>": 1}
    for side, lang, size in (("source", "en", 800), ("target", "de", 900)):
        corpus = _lines(shared_data / "multi30k" / f"train.{lang}", 5000)
        model = _train(corpus, folder / side, size, unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1)
        model.rename(folder / f"{side}.spm")
        for line in (folder / f"{side}.vocab").read_text(encoding="utf-8").splitlines():
            vocab.setdefault(line.split("\t")[0], len(vocab))
    vocab["<pad>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    config = {"tokenizer_class": "MarianTokenizer", "source_lang": "en", "target_lang": "de"}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


def test_t5_plain_text_matches_sentencepiece(t5_dir):
    ours = T5Tokenizer.from_pretrained(t5_dir)
    ref = spm.SentencePieceProcessor(model_file=str(t5_dir / "spiece.model"))
    for text in EN_TEXTS:
        assert ours(text, add_special_tokens=False).input_ids == ref.encode(text)
        assert ours(text).input_ids == ref.encode(text) + [1]
        if 2 not in ref.encode(text):  # skip_special_tokens also drops <unk>, which sentencepiece prints as " ⁇ "
            assert ours.decode(ours(text).input_ids, skip_special_tokens=True) == ref.decode(ref.encode(text))


def test_t5_sentinels_are_the_last_ids(t5_dir):
    tok = T5Tokenizer.from_pretrained(t5_dir)
    assert len(tok) == 1100
    assert tok.convert_tokens_to_ids("<extra_id_0>") == 1099 and tok.convert_tokens_to_ids("<extra_id_99>") == 1000
    assert tok.get_sentinel_token_ids()[0] == 1099


def test_chinese_sentencepiece_model_matches(shared_data, tmp_path):
    corpus = _lines(shared_data / "tatoeba-cmn-eng" / "cmn.txt", 3000, column=1)
    model = _train(corpus, tmp_path / "cmn", 1500, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=0.98)
    model.rename(tmp_path / "spiece.model")
    ours = T5Tokenizer(vocab_file=str(tmp_path / "spiece.model"))
    ref = spm.SentencePieceProcessor(model_file=str(tmp_path / "spiece.model"))
    texts = corpus.splitlines()[-200:] + ["我们明天去北京，好吗？", "Ｔｏｍ说：“你好！”", "生僻字龘靐"]
    for text in texts:
        assert ours(text, add_special_tokens=False).input_ids == ref.encode(text), text


def test_t5_with_special_tokens_matches_legacy_oracle(t5_dir, legacy_python):
    script = (
        "import json, sys, transformers\n"
        "tok = transformers.T5Tokenizer.from_pretrained(sys.argv[1])\n"
        "print(json.dumps([tok(t).input_ids for t in json.loads(sys.argv[2])]))\n"
    )
    texts = EN_TEXTS + SPECIAL_TEXTS
    want = json.loads(run_legacy(legacy_python, script, str(t5_dir), json.dumps(texts)))
    ours = T5Tokenizer.from_pretrained(t5_dir)
    assert [ours(t).input_ids for t in texts] == want


def test_marian_matches_reference_with_special_tokens_and_text_target(marian_dir):
    transformers = pytest.importorskip("transformers")
    ref = transformers.AutoTokenizer.from_pretrained(marian_dir)
    ours = MarianTokenizer.from_pretrained(marian_dir)
    assert len(ours) == len(ref)
    sources = EN_TEXTS + SPECIAL_TEXTS[:1]
    targets = DE_TEXTS + ["Ein Hund</s> läuft <pad>", "x"]
    for kwargs in ({}, {"max_length": 8, "truncation": True}):
        a, b = ref(sources, text_target=targets, **kwargs), ours(sources, text_target=targets, **kwargs)
        assert b["input_ids"] == a["input_ids"]
        assert b["labels"] == a["labels"]
    a = ref(sources, text_target=targets, padding=True, return_tensors="pt")
    b = ours(sources, text_target=targets, padding=True, return_tensors="pt")
    assert torch.equal(a["input_ids"], b["input_ids"]) and torch.equal(a["attention_mask"], b["attention_mask"])
    for ids in a["labels"].tolist():
        assert ours.decode(ids, skip_special_tokens=True) == ref.decode(ids, skip_special_tokens=True)


def test_marian_source_and_target_use_different_models(marian_dir):
    tok = MarianTokenizer.from_pretrained(marian_dir)
    text = "Männer sind im Freien"
    assert tok(text).input_ids != tok(text_target=text).input_ids


def test_as_target_tokenizer_shim_equals_text_target(marian_dir):
    tok = MarianTokenizer.from_pretrained(marian_dir)
    with tok.as_target_tokenizer():
        inside = tok(DE_TEXTS, max_length=6, truncation=True)
    assert inside["input_ids"] == tok(text_target=DE_TEXTS, max_length=6, truncation=True)["input_ids"]
    assert tok(DE_TEXTS[0]).input_ids == tok(text=DE_TEXTS[0]).input_ids  # back on the source side


def test_as_target_tokenizer_matches_legacy_oracle(marian_dir, legacy_python):
    script = (
        "import json, sys, transformers\n"
        "tok = transformers.MarianTokenizer.from_pretrained(sys.argv[1])\n"
        "with tok.as_target_tokenizer():\n"
        "    out = tok(json.loads(sys.argv[2]), max_length=128, truncation=True)['input_ids']\n"
        "print(json.dumps(out))\n"
    )
    want = json.loads(run_legacy(legacy_python, script, str(marian_dir), json.dumps(DE_TEXTS)))
    tok = MarianTokenizer.from_pretrained(marian_dir)
    with tok.as_target_tokenizer():
        assert tok(DE_TEXTS, max_length=128, truncation=True)["input_ids"] == want


def test_tokenizer_vocabulary_larger_than_model_is_a_clear_error(marian_dir):
    tok = MarianTokenizer.from_pretrained(marian_dir)
    config = MarianConfig(vocab_size=99, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                          decoder_attention_heads=2, encoder_ffn_dim=16, decoder_ffn_dim=16, pad_token_id=98,
                          decoder_start_token_id=98, max_position_embeddings=64)  # fmt: skip
    model = MarianMTModel(config).eval()
    batch = tok(["Two dogs."], text_target=["Zwei Hunde laufen über die Straße."], return_tensors="pt")
    with pytest.raises(ValueError, match="target vocabulary has 99 entries.*len\\(tokenizer\\)"):
        model(**batch)


MARIAN_FILES = {"source.spm", "target.spm", "vocab.json", "tokenizer_config.json", "special_tokens_map.json"}


def test_marian_save_pretrained_round_trip_both_ways(marian_dir, tmp_path):
    transformers = pytest.importorskip("transformers")
    ours = MarianTokenizer.from_pretrained(marian_dir)
    ours.save_pretrained(tmp_path / "saved")
    assert {p.name for p in (tmp_path / "saved").iterdir()} >= MARIAN_FILES
    assert not (tmp_path / "saved" / "tokenizer.json").exists()
    config = json.loads((tmp_path / "saved" / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "MarianTokenizer" and config["source_lang"] == "en"
    sources, targets = EN_TEXTS + SPECIAL_TEXTS[:1], DE_TEXTS + ["Ein Hund</s> läuft <pad>"]
    want = ours(sources, text_target=targets)
    again = MarianTokenizer.from_pretrained(tmp_path / "saved")
    assert len(again) == len(ours) and again.source_lang == "en" and again.target_lang == "de"
    got = again(sources, text_target=targets)
    assert got["input_ids"] == want["input_ids"] and got["labels"] == want["labels"]
    ref = transformers.MarianTokenizer.from_pretrained(tmp_path / "saved")  # ours -> transformers
    got = ref(sources, text_target=targets)
    assert got["input_ids"] == want["input_ids"] and got["labels"] == want["labels"]
    ref.save_pretrained(tmp_path / "from_ref")  # transformers -> ours
    got = MarianTokenizer.from_pretrained(tmp_path / "from_ref")(sources, text_target=targets)
    assert got["input_ids"] == want["input_ids"] and got["labels"] == want["labels"]


@pytest.fixture(scope="module")
def multilingual_marian_dir(marian_dir, tmp_path_factory) -> Path:
    """marian_dir with target-language codes in vocab.json, like opus-mt-en-ROMANCE."""
    folder = tmp_path_factory.mktemp("mariancodes")
    for name in ("source.spm", "target.spm", "tokenizer_config.json"):
        (folder / name).write_bytes((marian_dir / name).read_bytes())
    vocab = json.loads((marian_dir / "vocab.json").read_text(encoding="utf-8"))
    for code in (">>fra<<", ">>deu<<", ">>pt_BR<<"):
        vocab[code] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    return folder


LANGUAGE_CODE_TEXTS = [
    ">>fra<< Two dogs run.",
    ">>deu<<Two dogs",
    ">>pt_BR<< x",
    ">>xyz<< a code that is not in the vocabulary",
    "a >>fra<< code that does not start the text",
    ">>fra<<",
    ">>fra",
    ">>fra<< a</s>>>deu<< b",
    " >>fra<< leading space",
]


def test_marian_language_codes_match_reference(multilingual_marian_dir, tmp_path):
    transformers = pytest.importorskip("transformers")
    ref = transformers.MarianTokenizer.from_pretrained(multilingual_marian_dir)
    ours = MarianTokenizer.from_pretrained(multilingual_marian_dir)
    assert ours.supported_language_codes == ref.supported_language_codes == [">>fra<<", ">>deu<<", ">>pt_BR<<"]
    assert [ours(t).input_ids for t in LANGUAGE_CODE_TEXTS] == [ref(t).input_ids for t in LANGUAGE_CODE_TEXTS]
    assert ours.tokenize(">>fra<< Two dogs") == ref.tokenize(">>fra<< Two dogs")
    code = ours.convert_tokens_to_ids(">>fra<<")
    assert ours(">>fra<< Two dogs").input_ids[0] == code != ours.unk_token_id
    assert ours(">>xyz<< dogs").input_ids[0] == ours.unk_token_id
    ours.save_pretrained(tmp_path / "saved")
    again = MarianTokenizer.from_pretrained(tmp_path / "saved")
    assert [again(t).input_ids for t in LANGUAGE_CODE_TEXTS] == [ref(t).input_ids for t in LANGUAGE_CODE_TEXTS]


def test_t5_save_pretrained_round_trip(t5_dir, tmp_path):
    ours = T5Tokenizer.from_pretrained(t5_dir)
    ours.save_pretrained(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} >= {"spiece.model", "tokenizer_config.json", "special_tokens_map.json"}
    again = T5Tokenizer.from_pretrained(tmp_path)
    texts = EN_TEXTS + SPECIAL_TEXTS
    assert len(again) == len(ours) == 1100
    assert [again(t).input_ids for t in texts] == [ours(t).input_ids for t in texts]


def test_t5_and_marian_pickle_and_give_equal_ids_after(t5_dir, marian_dir):
    import copy
    import pickle

    for tok in (T5Tokenizer.from_pretrained(t5_dir), MarianTokenizer.from_pretrained(marian_dir)):
        expected = tok(EN_TEXTS, text_target=DE_TEXTS + ["x"])
        for clone in (pickle.loads(pickle.dumps(tok)), copy.deepcopy(tok)):
            assert type(clone) is type(tok)
            again = clone(EN_TEXTS, text_target=DE_TEXTS + ["x"])
            assert again["input_ids"] == expected["input_ids"] and again["labels"] == expected["labels"]
            assert clone.batch_decode(again["labels"]) == tok.batch_decode(expected["labels"])
