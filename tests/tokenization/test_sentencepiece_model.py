"""The protobuf reader must see what sentencepiece sees: every piece, score and type, the
trainer/normalizer fields (proto2 defaults when absent) and the precompiled charsmap; broken
files must fail with an error naming the file. Models are trained on a synthetic corpus."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pytest

spm = pytest.importorskip("sentencepiece", reason="sentencepiece is the parity oracle")

from clearformer.tokenization.sentencepiece_model import (  # noqa: E402
    PieceType,
    PrecompiledCharsmap,
    SentencePieceModelError,
    load_sentencepiece_model,
    parse_sentencepiece_model,
)
from clearformer.tokenization.unigram import SentencePieceNormalizer  # noqa: E402

SYLLABLES = [
    *["ka", "to", "mi", "ru", "sen", "ber", "ü", "straß", "é", "naï"],
    *["ing", "ed", "東", "京", "北", "12", "3", "ro", "la", "vi"],
]


def synthetic_corpus(n_lines: int = 3000, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words = ["".join(rng.choices(SYLLABLES, k=rng.randint(1, 4))) for _ in range(600)]
    return [" ".join(rng.choices(words, k=rng.randint(3, 12))) for _ in range(n_lines)]


# Planes 0-3 and 14 hold every assigned character; planes 4-13 are empty and 15-16 private use.
ASSIGNABLE = [c for c in [*range(1, 0x323B0), *range(0xE0000, 0xE01F0)] if not 0xD800 <= c < 0xE000]


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("spm_reader")
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(synthetic_corpus()), encoding="utf-8")
    common = dict(input=str(corpus), vocab_size=120, minloglevel=2, num_threads=1, hard_vocab_limit=False)
    options = {
        "default": {},
        "custom": dict(
            model_type="bpe",
            unk_id=1,
            bos_id=-1,
            eos_id=2,
            pad_id=3,
            split_digits=True,
            add_dummy_prefix=False,
            remove_extra_whitespaces=False,
            byte_fallback=True,
            user_defined_symbols=["<mask>"],
            control_symbols=["<ctl>"],
            unk_surface="??",
            treat_whitespace_as_suffix=True,
            normalization_rule_name="nfkc_cf",
            max_sentencepiece_length=8,
            vocab_size=400,
        ),
    }
    paths = {}
    for name, extra in options.items():
        spm.SentencePieceTrainer.train(model_prefix=str(folder / name), **{**common, **extra})
        paths[name] = folder / f"{name}.model"
    return paths


@pytest.mark.parametrize("name", ["default", "custom"])
def test_pieces_scores_and_types_match_sentencepiece(models, name):
    proto = load_sentencepiece_model(models[name])
    sp = spm.SentencePieceProcessor(model_file=str(models[name]))
    assert len(proto.pieces) == sp.get_piece_size()
    for i, piece in enumerate(proto.pieces):
        assert piece.piece == sp.id_to_piece(i)
        assert piece.score == sp.get_score(i)  # float32 widened: exact
        assert (piece.type == PieceType.UNKNOWN) == sp.is_unknown(i)
        assert (piece.type == PieceType.CONTROL) == sp.is_control(i)
        assert (piece.type == PieceType.BYTE) == sp.is_byte(i)
        assert (piece.type == PieceType.UNUSED) == sp.is_unused(i)


def test_absent_fields_take_proto2_defaults(models):
    proto = load_sentencepiece_model(models["default"])
    trainer, normalizer = proto.trainer_spec, proto.normalizer_spec
    assert trainer.model_type == "unigram" and trainer.vocab_size == 120
    assert (trainer.unk_id, trainer.bos_id, trainer.eos_id, trainer.pad_id) == (0, 1, 2, -1)
    assert not trainer.byte_fallback and not trainer.split_digits
    assert normalizer.name == "nmt_nfkc" and normalizer.precompiled_charsmap
    assert normalizer.add_dummy_prefix and normalizer.remove_extra_whitespaces
    assert normalizer.escape_whitespaces
    assert trainer.unk_surface == " \u2047 "


def test_set_fields_are_read_with_their_values(models):
    proto = load_sentencepiece_model(models["custom"])
    trainer, normalizer = proto.trainer_spec, proto.normalizer_spec
    assert trainer.model_type == "bpe" and trainer.vocab_size == 400
    assert (trainer.unk_id, trainer.bos_id, trainer.eos_id, trainer.pad_id) == (1, -1, 2, 3)
    assert trainer.byte_fallback and trainer.split_digits and trainer.treat_whitespace_as_suffix
    assert trainer.user_defined_symbols == ["<mask>"] and trainer.control_symbols == ["<ctl>"]
    assert trainer.unk_surface == "??" and trainer.max_sentencepiece_length == 8
    assert normalizer.name == "nfkc_cf"
    assert not normalizer.add_dummy_prefix and not normalizer.remove_extra_whitespaces
    types = {p.piece: p.type for p in proto.pieces}
    assert types["<mask>"] == PieceType.USER_DEFINED and types["<ctl>"] == PieceType.CONTROL
    assert types["<0x41>"] == PieceType.BYTE


@pytest.mark.parametrize("fraction", [0.001, 0.3, 0.5, 0.9, 0.999])
def test_truncated_file_raises_naming_the_file(models, tmp_path, fraction):
    data = models["default"].read_bytes()
    broken = tmp_path / "broken.model"
    broken.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(SentencePieceModelError, match="broken.model"):
        load_sentencepiece_model(broken)


def test_file_cut_after_the_pieces_reports_missing_specs(models, tmp_path):
    data = models["default"].read_bytes()
    proto = load_sentencepiece_model(models["default"])
    # Re-find the end of the last piece: pieces come first, each as field 1.
    cut = data.rfind(proto.pieces[-1].piece.encode()) + len(proto.pieces[-1].piece.encode()) + 5
    broken = tmp_path / "cut.model"
    broken.write_bytes(data[:cut])
    with pytest.raises(SentencePieceModelError, match=r"cut\.model.*trainer_spec"):
        load_sentencepiece_model(broken)


@pytest.mark.parametrize("payload", [b"", b"not a model at all\n", bytes(range(256)) * 4])
def test_garbage_bytes_raise_a_clear_error(payload):
    with pytest.raises(SentencePieceModelError, match="garbage.model.*not a valid SentencePiece"):
        parse_sentencepiece_model(payload, source="garbage.model")


def test_precompiled_charsmap_normalizes_every_code_point_like_sentencepiece(models):
    proto = load_sentencepiece_model(models["default"])
    sp = spm.SentencePieceProcessor(model_file=str(models["default"]))
    normalizer = SentencePieceNormalizer.from_spec(proto.normalizer_spec)
    code_points = [c for c in ASSIGNABLE if c > 0x20]
    # "a" after each character keeps whitespace/empty mappings from merging across them.
    for start in range(0, len(code_points), 20000):
        text = "".join(chr(c) + "a" for c in code_points[start : start + 20000])
        assert normalizer(text) == sp.normalize(text)


def test_unicodedata_nfkc_differs_from_the_charsmap_only_on_unassigned_code_points(models):
    proto = load_sentencepiece_model(models["default"])
    table = PrecompiledCharsmap(proto.normalizer_spec.precompiled_charsmap)
    exact = SentencePieceNormalizer("nmt_nfkc", table, add_dummy_prefix=False, remove_extra_whitespaces=False)
    readable = SentencePieceNormalizer("nmt_nfkc", None, add_dummy_prefix=False, remove_extra_whitespaces=False)
    differ = [c for c in ASSIGNABLE if exact._map(chr(c)) != readable._map(chr(c))]
    # The charsmap follows a newer Unicode than this Python's unicodedata; nothing else differs.
    assert differ, "expected some characters newer than unicodedata's Unicode version"
    assert all(unicodedata.category(chr(c)) == "Cn" for c in differ)
