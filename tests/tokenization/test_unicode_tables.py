"""The Unicode exception tables (unicode_tables.py) are exactly where `tokenizers` and Python's
Unicode data disagree: re-measured here on every mark, format, punctuation and symbol
character, every tabled code point and a random sample of the rest."""

from __future__ import annotations

import random
import sys
import unicodedata

import pytest

from clearformer.tokenization import unicode_tables as tables
from clearformer.tokenization.normalizers import BertNormalizer
from clearformer.tokenization.pre_tokenizers import BertPreTokenizer

tokenizers = pytest.importorskip("tokenizers")
pytestmark = pytest.mark.skipif(
    sys.version_info[:2] != (3, 11), reason="the tables are measured against Python 3.11's Unicode 14"
)


def _code_points() -> list[int]:
    cats = {"Mn", "Mc", "Me", "Cf", "Po", "Ps", "Pe", "Pd", "Pc", "Pi", "Pf", "So", "Sk", "Lu", "Lt"}
    chosen = {cp for cp in range(0x30000) if unicodedata.category(chr(cp)) in cats}
    for table in (tables.CLEAN_KEEP, tables.STRIP_KEEP, tables.NOT_PUNCTUATION):
        for lo, hi in table:
            chosen.update(range(lo, hi + 1))
    chosen.update(tables.LOWERCASE_EXTRA, tables.EXTRA_PUNCTUATION, tables.STRIP_DROP)
    rng = random.Random(0)
    chosen.update(rng.randrange(0x110000) for _ in range(20000))
    return sorted(cp for cp in chosen if not 0xD800 <= cp <= 0xDFFF)


CODE_POINTS = _code_points()


@pytest.mark.parametrize(
    "clean,strip,lower",
    [(True, False, False), (False, True, False), (False, False, True), (True, True, True)],
)
def test_normalizer_matches_tokenizers_on_every_checked_code_point(clean, strip, lower):
    rust = tokenizers.normalizers.BertNormalizer(
        clean_text=clean, handle_chinese_chars=True, strip_accents=strip, lowercase=lower
    )
    ours = BertNormalizer(clean, True, strip, lower)
    bad = [hex(cp) for cp in CODE_POINTS if rust.normalize_str(chr(cp)) != ours.normalize(chr(cp))[0]]
    assert not bad, f"{len(bad)} code points differ, first {bad[:10]}"


def test_bert_split_matches_tokenizers_on_every_checked_code_point():
    rust = tokenizers.pre_tokenizers.BertPreTokenizer()
    ours = BertPreTokenizer()
    bad = []
    for cp in CODE_POINTS:
        text = f"a{chr(cp)}b"
        if [s for _, s in rust.pre_tokenize_str(text)] != ours.split(text):
            bad.append(hex(cp))
    assert not bad, f"{len(bad)} code points split differently, first {bad[:10]}"
