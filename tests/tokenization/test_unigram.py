"""UnigramModel must encode (pieces and ids) and decode exactly like sentencepiece.

Parity runs on SentencePiece models trained here on multi30k (en+de) and on the Chinese side
of tatoeba cmn-eng, with and without byte fallback, over held-out lines plus a hand-made hard
set; a tokenizer.json built with the ``tokenizers`` library must give the same pieces.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

spm = pytest.importorskip("sentencepiece", reason="sentencepiece is the parity oracle")

from clearformer.tokenization.sentencepiece_model import load_sentencepiece_model  # noqa: E402
from clearformer.tokenization.unigram import UnigramModel  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
needs_data = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"shared data not found at {DATA} (../shared/data from the repo)"
)

HARD = [
    "",
    " ",
    "   \t  ",
    "Hello  world",
    "\tTab\nnew\r\nline  ",
    "😀 emoji 👍🏽 👨‍👩‍👧 🙂🙂🙂x🙂",
    "naïve café résumé Ærøskøbing",
    "decomposed e\u0301 a\u0308 o\u0302",
    "ＡＢＣ　１２３ full-width ｶﾀｶﾅ",
    "3.14159 2024-01-01 1,000,000 ½ ²",
    "中文测试，全角标点！？",
    "ǅ ﬁ ① ㈱ ™ Ⅻ",
    "zero\u200bwidth\u200d joiner\ufeff",
    "literal \u2581 block and ~～",
    "<unk> <s> </s> <0x41>",
    "Ωμέγα Ελληνικά Кириллица עברית العربية",
    "\x00\x01 control \x7f chars",
    "x" * 120,
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛 ꙮ 𓀀",
]


def _held_out_lines(kind: str) -> tuple[list[str], list[str]]:
    """(training lines, ≥1000 held-out lines) for 'ende' or 'cmn'."""
    if kind == "ende":
        folder = DATA / "multi30k"
        en = (folder / "train.en").read_text(encoding="utf-8").splitlines()
        de = (folder / "train.de").read_text(encoding="utf-8").splitlines()
        return en[:3000] + de[:3000], en[20000:20600] + de[20000:20600]
    rows = (DATA / "tatoeba-cmn-eng" / "cmn.txt").read_text(encoding="utf-8").splitlines()
    chinese = [row.split("\t")[1] for row in rows if row.count("\t") >= 2]
    random.Random(0).shuffle(chinese)
    return chinese[:4000], chinese[5000:6200]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[tuple[str, bool], tuple[Path, list[str]]]:
    if not DATA.is_dir():
        pytest.skip(f"shared data not found at {DATA} (../shared/data from the repo)")
    folder = tmp_path_factory.mktemp("unigram_parity")
    out = {}
    for kind in ("ende", "cmn"):
        train, held_out = _held_out_lines(kind)
        corpus = folder / f"{kind}.txt"
        corpus.write_text("\n".join(train), encoding="utf-8")
        for byte_fallback in (False, True):
            prefix = folder / f"{kind}_{byte_fallback}"
            spm.SentencePieceTrainer.train(
                input=str(corpus),
                model_prefix=str(prefix),
                model_type="unigram",
                vocab_size=4000 if kind == "ende" else 3000,
                character_coverage=0.9995 if kind == "ende" else 0.995,
                byte_fallback=byte_fallback,
                num_threads=2,
                minloglevel=2,
            )
            out[kind, byte_fallback] = (prefix.with_suffix(".model"), held_out)
    return out


CASES = [("ende", False), ("ende", True), ("cmn", False), ("cmn", True)]


@needs_data
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-bytefallback={c[1]}")
def test_pieces_and_ids_match_sentencepiece_on_held_out_and_hard_text(trained, case):
    path, held_out = trained[case]
    assert len(held_out) >= 1000
    sp = spm.SentencePieceProcessor(model_file=str(path))
    ours = UnigramModel.from_sentencepiece(path)
    assert ours.vocab_size == sp.get_piece_size()
    for text in held_out + HARD:
        assert ours.encode_to_pieces(text) == sp.encode(text, out_type=str), text
        assert ours.encode(text) == sp.encode(text), text


@needs_data
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-bytefallback={c[1]}")
def test_decode_matches_sentencepiece(trained, case):
    path, held_out = trained[case]
    sp = spm.SentencePieceProcessor(model_file=str(path))
    ours = UnigramModel.from_sentencepiece(path)
    for text in held_out + HARD:
        ids = sp.encode(text)
        assert ours.decode(ids) == sp.decode(ids), text
    # Arbitrary id sequences too: control ids, unk ids, broken byte runs, leading "▁" pieces.
    rng = random.Random(0)
    for _ in range(500):
        ids = [rng.randrange(sp.get_piece_size()) for _ in range(rng.randrange(8))]
        if rng.random() < 0.5:  # low ids hold the specials and (with fallback) the bytes
            ids = [rng.randrange(300) for _ in range(rng.randrange(8))]
        assert ours.decode(ids) == sp.decode(ids), ids


def sentencepiece_offsets(sp, text: str) -> tuple[list[int], list[str], list[tuple[int, int]]]:
    try:
        found = sp.encode(text, return_type="offset_mapping")
    except (TypeError, ValueError) as exc:
        pytest.skip(f"this sentencepiece has no offset_mapping return type ({exc})")
    return found["ids"], found["pieces"], [tuple(span) for span in found["offsets"]]


@needs_data
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-bytefallback={c[1]}")
@pytest.mark.parametrize("use_charsmap", [True, False], ids=["charsmap", "unicodedata"])
def test_offsets_match_sentencepiece_offset_mapping(trained, case, use_charsmap):
    path, held_out = trained[case]
    sp = spm.SentencePieceProcessor(model_file=str(path))
    ours = UnigramModel.from_sentencepiece(path, use_charsmap=use_charsmap)
    for text in held_out[::3] + HARD:
        assert tuple(ours.encode_with_offsets(text)) == sentencepiece_offsets(sp, text), text


@needs_data
def test_byte_fallback_spells_unknown_characters_as_utf8_bytes(trained):
    ours = UnigramModel.from_sentencepiece(trained["ende", True][0])
    assert ours.encode_to_pieces("😀")[-4:] == ["<0xF0>", "<0x9F>", "<0x98>", "<0x80>"]
    assert ours.decode(ours.encode("ab 😀 ✓")) == "ab 😀 ✓"


@needs_data
def test_unknown_characters_in_a_row_become_one_unknown_piece(trained):
    ours = UnigramModel.from_sentencepiece(trained["ende", False][0])
    pieces = ours.encode_to_pieces("😀😀😀 x")
    assert pieces[:2] == ["▁", "😀😀😀"]
    assert ours.encode("😀😀😀")[1:] == [ours.settings.unk_id]


@needs_data
@pytest.mark.parametrize("case", [("ende", True), ("cmn", False)], ids=["ende-bf", "cmn"])
def test_tokenizer_json_unigram_section_gives_the_same_pieces(trained, case, tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import Regex, normalizers, pre_tokenizers

    path, held_out = trained[case]
    proto = load_sentencepiece_model(path)
    sp = spm.SentencePieceProcessor(model_file=str(path))
    vocab = [(p.piece, p.score) for p in proto.pieces]
    reference = tokenizers.Tokenizer(
        tokenizers.models.Unigram(vocab, unk_id=0, byte_fallback=proto.trainer_spec.byte_fallback)
    )
    reference.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(proto.normalizer_spec.precompiled_charsmap),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    reference.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    reference.add_special_tokens(["<s>", "</s>"])
    reference.save(str(tmp_path / "tokenizer.json"))

    ours = UnigramModel.from_tokenizer_json(tmp_path / "tokenizer.json")
    assert ours.get_vocab() == {p.piece: i for i, p in enumerate(proto.pieces)}
    for text in held_out[:500] + ["Hello  world", "ＡＢＣ１２３", "naïve 😀"]:
        pieces = ours.encode_to_pieces(text)
        assert pieces == sp.encode(text, out_type=str), text
        assert pieces == reference.encode(text).tokens, text


def _model_level_reference(reference, word: str):
    """The tokenizers Unigram model on one word, offsets turned from bytes into characters."""
    tokens = reference.model.tokenize(word)
    byte_to_char = [i for i, ch in enumerate(word) for _ in ch.encode("utf-8")] + [len(word)]
    return (
        tuple(t.id for t in tokens),
        tuple(t.value for t in tokens),
        tuple((byte_to_char[t.offsets[0]], byte_to_char[t.offsets[1]]) for t in tokens),
    )


def _words(reference, text: str) -> list[str]:
    normalized = reference.normalizer.normalize_str(text) if reference.normalizer else text
    return [word for word, _ in reference.pre_tokenizer.pre_tokenize_str(normalized)]


@needs_data
def test_tokenize_word_matches_the_tokenizers_unigram_model(trained, tmp_path):
    """The pipeline's model stage: one pre-tokenized word in, ids/pieces/offsets out."""
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import normalizers, pre_tokenizers

    for case in [("ende", True), ("cmn", False)]:
        path, held_out = trained[case]
        proto = load_sentencepiece_model(path)
        reference = tokenizers.Tokenizer(
            tokenizers.models.Unigram(
                [(p.piece, p.score) for p in proto.pieces],
                unk_id=0,
                byte_fallback=proto.trainer_spec.byte_fallback,
            )
        )
        reference.normalizer = normalizers.Precompiled(proto.normalizer_spec.precompiled_charsmap)
        reference.pre_tokenizer = pre_tokenizers.Metaspace()
        reference.save(str(tmp_path / "tokenizer.json"))
        ours = UnigramModel.from_tokenizer_json(tmp_path / "tokenizer.json")
        for text in held_out[::4] + HARD:
            for word in _words(reference, text):
                assert ours.tokenize_word(word) == _model_level_reference(reference, word), word


def test_tokenizers_trained_unigram_loads_and_encodes_the_same(corpus_file, tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import normalizers, pre_tokenizers, trainers

    reference = tokenizers.Tokenizer(tokenizers.models.Unigram())
    reference.normalizer = normalizers.NFKC()
    reference.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=400,
        special_tokens=["<unk>", "<s>", "</s>"],
        unk_token="<unk>",
        show_progress=False,
    )
    lines = corpus_file.read_text(encoding="utf-8").splitlines()
    reference.train_from_iterator(lines[:2000], trainer)
    reference.save(str(tmp_path / "tokenizer.json"))
    ours = UnigramModel.from_tokenizer_json(tmp_path / "tokenizer.json")
    assert ours.scoring == "tokenizers"  # float64 sums, every piece matchable
    texts = lines[2000:2400] + ["ＫＡ１２ 東京 ü", "😀 ka 😀😀"]
    for text in texts:
        assert ours.encode_to_pieces(text) == reference.encode(text).tokens, text
    # The added special tokens are split off before the model in a full pipeline; the model
    # itself matches them like any piece.
    for text in [*texts, "<s> x </s>"]:
        for word in _words(reference, text):
            assert ours.tokenize_word(word) == _model_level_reference(reference, word), word
    # to_dict() is the tokenizer.json model section: reloading it changes nothing.
    (tmp_path / "model.json").write_text(json.dumps({"model": ours.to_dict()}), encoding="utf-8")
    again = UnigramModel.from_tokenizer_json(tmp_path / "model.json")
    assert again.get_vocab() == ours.get_vocab()
    assert [again.tokenize_word(w) for w in ("▁kato", "▁東京")] == [ours.tokenize_word(w) for w in ("▁kato", "▁東京")]


@needs_data
def test_unicodedata_normalization_agrees_with_the_charsmap_on_real_text(trained):
    path, held_out = trained["ende", False]
    exact = UnigramModel.from_sentencepiece(path)
    readable = UnigramModel.from_sentencepiece(path, use_charsmap=False)
    for text in held_out + HARD:
        assert readable.encode(text) == exact.encode(text), text


# ----------------------------------------------------------- options (synthetic corpus, no data)
SYLLABLES = ["ka", "to", "mi", "ru", "sen", "ber", "ü", "é", "ing", "ed", "東", "京", "12", "3"]


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory) -> Path:
    rng = random.Random(1)
    words = ["".join(rng.choices(SYLLABLES, k=rng.randint(1, 4))) for _ in range(800)]
    lines = [" ".join(rng.choices(words, k=rng.randint(2, 12))) for _ in range(4000)]
    path = tmp_path_factory.mktemp("unigram_options") / "corpus.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


OPTIONS = {
    "user_defined": dict(user_defined_symbols=["<a>", "<b>", "hi<a>"], control_symbols=["<c>"]),
    "no_dummy_prefix": dict(add_dummy_prefix=False),
    "keep_whitespace": dict(remove_extra_whitespaces=False),
    "whitespace_as_suffix": dict(treat_whitespace_as_suffix=True),
    "identity": dict(normalization_rule_name="identity"),
    "digits_bytes_pad": dict(split_digits=True, byte_fallback=True, pad_id=3, unk_id=2, eos_id=0),
}
OPTION_TEXTS = [
    "kato miru  senber ",
    "  東京12 3 ",
    "<a> hi<a><b>x <c>",
    "\tü é\u0301 ",
    "ＫＡ１２",
    "😀 ka",
    "",
]


@pytest.mark.parametrize("name", OPTIONS)
def test_trainer_and_normalizer_options_are_honoured(corpus_file, name, tmp_path):
    prefix = tmp_path / name
    spm.SentencePieceTrainer.train(
        input=str(corpus_file),
        model_prefix=str(prefix),
        model_type="unigram",
        vocab_size=500,
        minloglevel=2,
        num_threads=1,
        hard_vocab_limit=False,
        **OPTIONS[name],
    )
    sp = spm.SentencePieceProcessor(model_file=f"{prefix}.model")
    ours = UnigramModel.from_sentencepiece(f"{prefix}.model")
    lines = corpus_file.read_text(encoding="utf-8").splitlines()[:300]
    for text in lines + OPTION_TEXTS:
        assert ours.encode_to_pieces(text) == sp.encode(text, out_type=str), text
        ids = sp.encode(text)
        assert ours.encode(text) == ids, text
        assert ours.decode(ids) == sp.decode(ids), text
        assert tuple(ours.encode_with_offsets(text)) == sentencepiece_offsets(sp, text), text


def test_bpe_model_file_is_rejected_with_a_clear_error(corpus_file, tmp_path):
    prefix = tmp_path / "bpe"
    spm.SentencePieceTrainer.train(
        input=str(corpus_file),
        model_prefix=str(prefix),
        model_type="bpe",
        vocab_size=300,
        minloglevel=2,
        num_threads=1,
        hard_vocab_limit=False,
    )
    with pytest.raises(ValueError, match="'bpe' model; UnigramModel reads only"):
        UnigramModel.from_sentencepiece(f"{prefix}.model")


def test_piece_id_lookups_round_trip(corpus_file, tmp_path):
    prefix = tmp_path / "lookup"
    spm.SentencePieceTrainer.train(
        input=str(corpus_file),
        model_prefix=str(prefix),
        model_type="unigram",
        vocab_size=300,
        minloglevel=2,
        num_threads=1,
        hard_vocab_limit=False,
    )
    sp = spm.SentencePieceProcessor(model_file=f"{prefix}.model")
    ours = UnigramModel.from_sentencepiece(f"{prefix}.model")
    for i in range(ours.vocab_size):
        assert ours.piece_to_id(ours.id_to_piece(i)) == i == sp.piece_to_id(sp.id_to_piece(i))
    assert ours.piece_to_id("never-a-piece") == sp.piece_to_id("never-a-piece") == 0
    with pytest.raises(IndexError, match="outside the vocabulary"):
        ours.id_to_piece(ours.vocab_size)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append(value & 0x7F | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def _with_piece_types(data: bytes, new_types: dict[int, int]) -> bytes:
    """Re-serialize a .model file with some pieces' type field replaced (a test-only writer)."""
    out, pos, index = bytearray(), 0, 0
    while pos < len(data):
        key_end = pos + 1
        length, start = 0, key_end
        for shift in range(0, 64, 7):
            byte = data[start]
            start += 1
            length |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
        body = data[start : start + length]
        if data[pos] == 0x0A and index in new_types:  # field 1 (a piece), length-delimited
            # Drop any existing type field (tag 0x18) and append the new one.
            name_len = body[1]
            kept = body[: 2 + name_len] + body[2 + name_len : 2 + name_len + 5]
            body = kept + b"\x18" + _varint(new_types[index])
            out += data[pos:key_end] + _varint(len(body)) + body
        else:
            out += data[pos : start + length]
        index += data[pos] == 0x0A
        pos = start + length
    return bytes(out)


def test_unused_pieces_are_never_produced(corpus_file, tmp_path):
    prefix = tmp_path / "unused"
    spm.SentencePieceTrainer.train(
        input=str(corpus_file),
        model_prefix=str(prefix),
        model_type="unigram",
        vocab_size=300,
        minloglevel=2,
        num_threads=1,
        hard_vocab_limit=False,
    )
    original = spm.SentencePieceProcessor(model_file=f"{prefix}.model")
    lines = corpus_file.read_text(encoding="utf-8").splitlines()[:200]
    # Mark the pieces most used on these lines (single characters included) as UNUSED.
    used = Counter(i for text in lines for i in original.encode(text))
    unused = {i: 5 for i, _ in used.most_common(12) if not original.is_unknown(i)}
    path = tmp_path / "with_unused.model"
    path.write_bytes(_with_piece_types((tmp_path / "unused.model").read_bytes(), unused))
    sp = spm.SentencePieceProcessor(model_file=str(path))
    assert all(sp.is_unused(i) for i in unused)
    ours = UnigramModel.from_sentencepiece(path)
    for text in lines + OPTION_TEXTS:
        ids = sp.encode(text)
        assert not set(ids) & set(unused)
        assert ours.encode(text) == ids, text
        assert ours.encode_to_pieces(text) == sp.encode(text, out_type=str), text
        assert ours.decode(ids) == sp.decode(ids), text
    assert ours.decode([*unused, 5, *unused]) == sp.decode([*unused, 5, *unused])
