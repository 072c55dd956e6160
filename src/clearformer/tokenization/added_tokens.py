"""Added tokens: strings that are cut out of the text *before* the pipeline runs.

Special tokens (``[CLS]``, ``<|endoftext|>``) are matched on the raw text; other added tokens
(``normalized=True``) on the normalized text, so "HeLLo" also matches "hello" for an uncased
tokenizer. ``lstrip``/``rstrip`` let a token swallow the whitespace beside it, ``single_word``
only matches it as a whole word.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex


@dataclass(eq=False)
class AddedToken:
    content: str
    single_word: bool = False
    lstrip: bool = False
    rstrip: bool = False
    normalized: bool | None = None
    special: bool = False

    def __post_init__(self) -> None:
        if self.normalized is None:
            self.normalized = not self.special

    def __str__(self) -> str:
        return self.content

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AddedToken):
            return self.content == other.content
        return isinstance(other, str) and self.content == other

    def __hash__(self) -> int:
        return hash(self.content)

    def to_dict(self, token_id: int | None = None) -> dict:
        out = {} if token_id is None else {"id": token_id}
        out.update(
            content=self.content,
            single_word=self.single_word,
            lstrip=self.lstrip,
            rstrip=self.rstrip,
            normalized=self.normalized,
            special=self.special,
        )
        return out


def _pattern(token: AddedToken, content: str) -> str:
    body = regex.escape(content)
    if token.single_word:
        body = rf"(?<!\w){body}(?!\w)"
    if token.lstrip:
        body = r"\s*" + body
    if token.rstrip:
        body = body + r"\s*"
    return body


class AddedVocabulary:
    """id <-> added token, plus the two matchers (raw text and normalized text)."""

    def __init__(self) -> None:
        self.tokens: dict[int, AddedToken] = {}
        self.ids: dict[str, int] = {}
        # what the token looks like in outputs when it differs from its content (an uncased
        # tokenizer shows add_tokens(["HeLLo"]) as "hello", as transformers 5.24 does)
        self.surface: dict[int, str] = {}
        self.raw_matcher: regex.Pattern | None = None
        self.normalized_matcher: regex.Pattern | None = None
        self._group_ids: dict[bool, list[int]] = {False: [], True: []}
        self._raw_first_chars: str | None = None

    def add(self, token: AddedToken, token_id: int, surface: str | None = None) -> None:
        self.tokens[token_id] = token
        self.ids[token.content] = token_id
        if surface is not None and surface != token.content:
            self.surface[token_id] = surface

    def token_string(self, token_id: int) -> str:
        return self.surface.get(token_id) or self.tokens[token_id].content

    def special_ids(self) -> set[int]:
        return {i for i, t in self.tokens.items() if t.special}

    def refresh(self, normalize) -> None:
        """Rebuild both matchers; ``normalize`` maps a token's content to its normalized form.

        Longer tokens come first in the alternation, so the longest token wins at a position.
        """
        ordered = sorted(self.tokens.items(), key=lambda kv: -len(kv[1].content))
        raw, raw_ids, norm, norm_ids = [], [], [], []
        for token_id, token in ordered:
            if token.normalized and normalize is not None:
                norm.append(_pattern(token, normalize(token.content)))
                norm_ids.append(token_id)
            else:
                raw.append(_pattern(token, token.content))
                raw_ids.append(token_id)
        self.raw_matcher = regex.compile("|".join(f"({p})" for p in raw)) if raw else None
        # a cheap pre-check: text without any of these characters cannot hold a raw token
        raw_tokens = [self.tokens[i] for i in raw_ids]
        self._raw_first_chars = (
            "".join(sorted({t.content[0] for t in raw_tokens}))
            if raw_tokens and not any(t.lstrip for t in raw_tokens)
            else None
        )
        self.normalized_matcher = regex.compile("|".join(f"({p})" for p in norm)) if norm else None
        self._group_ids = {False: raw_ids, True: norm_ids}

    def split(self, text: str, normalized: bool) -> list[tuple[int, int, int | None]]:
        """Cut ``text`` into (start, end, added-token id or None for ordinary text) pieces."""
        matcher = self.normalized_matcher if normalized else self.raw_matcher
        if matcher is None or (
            not normalized and self._raw_first_chars is not None and not any(c in text for c in self._raw_first_chars)
        ):
            return [(0, len(text), None)]
        group_ids = self._group_ids[normalized]
        pieces, pos = [], 0
        for m in matcher.finditer(text):
            start, end = m.span()
            if start == end:
                continue
            if start > pos:
                pieces.append((pos, start, None))
            pieces.append((start, end, group_ids[m.lastindex - 1]))
            pos = end
        if pos < len(text) or not pieces:
            pieces.append((pos, len(text), None))
        return pieces
