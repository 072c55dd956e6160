"""Properties on arbitrary Unicode (hypothesis): no crash, lossless byte-level round trip, offsets
inside the text and covering each token's characters, Python path == `tokenizers` path."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearformer.tokenization.normalizers import BertNormalizer
from clearformer.tokenization.pre_tokenizers import unicode_to_bytes

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ANY_TEXT = st.text(max_size=60)
# characters whose Unicode category both libraries agree on (Python's unicodedata and the Rust
# tables can be different Unicode versions for unassigned code points)
ASSIGNED_TEXT = st.text(st.characters(blacklist_categories=("Cn", "Cs")), max_size=60) | st.text(
    st.sampled_from(list("ab c\t\n.,'!中😀é\u0301 \u00a0\x00\ufffd")), max_size=40
)


@SETTINGS
@given(text=ANY_TEXT)
def test_byte_level_round_trips_any_text(ours, text):
    for kind in ("gpt2", "roberta"):
        tok = ours(kind)
        # special-token strings typed in the text ("<unk>") stay tokens and decode back too
        assert tok.decode(tok.encode(text, add_special_tokens=False)) == text


@SETTINGS
@given(text=ANY_TEXT)
def test_wordpiece_offsets_cover_the_tokens_characters(ours, text):
    tok = ours("bert")
    normalizer = BertNormalizer()
    enc = tok(text, return_offsets_mapping=True)
    for token, (start, end), special in zip(
        enc.tokens(),
        enc["offset_mapping"],
        tok.get_special_tokens_mask(enc["input_ids"], already_has_special_tokens=True),
    ):
        assert 0 <= start <= end <= len(text)
        if special:
            continue
        assert start < end
        if token != "[UNK]":
            assert token.removeprefix("##") in normalizer.normalize(text[start:end])[0]


@SETTINGS
@given(text=ANY_TEXT)
def test_byte_level_offsets_cover_the_tokens_bytes(ours, text):
    tok = ours("gpt2")
    table = unicode_to_bytes()
    enc = tok(text, return_offsets_mapping=True)
    for token, (start, end) in zip(enc.tokens(), enc["offset_mapping"]):
        assert 0 <= start < end <= len(text)
        assert bytes(table[c] for c in token) in text[start:end].encode("utf-8")


@SETTINGS
@given(text=ASSIGNED_TEXT, pair=ASSIGNED_TEXT)
def test_python_path_equals_tokenizers_path(ours, text, pair):
    pytest.importorskip("tokenizers")
    kw = dict(return_offsets_mapping=True, return_special_tokens_mask=True)
    for kind in ("bert", "gpt2", "roberta"):
        a, b = ours(kind)(text, pair, **kw), ours(kind, True)(text, pair, **kw)
        assert dict(a) == dict(b), kind
        assert a.word_ids() == b.word_ids() and a.sequence_ids() == b.sequence_ids()
