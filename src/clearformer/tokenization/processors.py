"""Post-processors: the stage that wraps model output in special tokens and sets token types.

``TemplateProcessing`` covers BERT (``[CLS] A [SEP] B [SEP]``, types 0/1) and GPT-2 (no special
tokens, B has type 1); ``RobertaProcessing`` adds ``<s> A </s></s> B </s>`` with all types 0 and
trims the spaces byte-level tokens carry out of their offsets, as the `tokenizers` library does.
"""

from __future__ import annotations

from .encoding import Encoding

# A template item is ("A" | "B", type_id) for a sequence or (token, type_id) for a special token.
Template = list[tuple[str, int]]


class TemplateProcessing:
    def __init__(self, single: Template, pair: Template, special_tokens: dict[str, int] | None = None) -> None:
        self.single = single
        self.pair = pair
        self.special_tokens = special_tokens or {}

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        template = self.pair if is_pair else self.single
        return sum(1 for name, _ in template if name not in ("A", "B"))

    def adjust(self, encoding: Encoding, sequence: int) -> Encoding:
        """A hook for processors that rewrite a sequence's offsets (RoBERTa's trimming)."""
        return encoding

    def process(self, a: Encoding, b: Encoding | None, add_special_tokens: bool = True) -> Encoding:
        parts = {"A": self.adjust(a, 0), "B": self.adjust(b, 1) if b is not None else None}
        template = self.pair if b is not None else self.single
        if not add_special_tokens:
            template = [item for item in template if item[0] in ("A", "B")]
        ids, tokens, offsets, words, types, special, seqs = [], [], [], [], [], [], []
        for name, type_id in template:
            part = parts.get(name)
            if name in ("A", "B"):
                if part is None:
                    continue
                n = len(part.ids)
                ids += part.ids
                tokens += part.tokens
                offsets += part.offsets
                words += part.words
                types += [type_id] * n
                special += [0] * n
                seqs += [0 if name == "A" else 1] * n
            else:
                ids.append(self.special_tokens[name])
                tokens.append(name)
                offsets.append((0, 0))
                words.append(None)
                types.append(type_id)
                special.append(1)
                seqs.append(None)
        return Encoding(ids, tokens, offsets, words, types, special, seqs, [1] * len(ids))

    def to_dict(self) -> dict:
        def items(template: Template) -> list[dict]:
            out = []
            for name, type_id in template:
                if name in ("A", "B"):
                    out.append({"Sequence": {"id": name, "type_id": type_id}})
                else:
                    out.append({"SpecialToken": {"id": name, "type_id": type_id}})
            return out

        return {
            "type": "TemplateProcessing",
            "single": items(self.single),
            "pair": items(self.pair),
            "special_tokens": {t: {"id": t, "ids": [i], "tokens": [t]} for t, i in self.special_tokens.items()},
        }


def bert_processing(cls: tuple[str, int], sep: tuple[str, int]) -> TemplateProcessing:
    single = [(cls[0], 0), ("A", 0), (sep[0], 0)]
    pair = single + [("B", 1), (sep[0], 1)]
    return TemplateProcessing(single, pair, {cls[0]: cls[1], sep[0]: sep[1]})


def plain_processing() -> TemplateProcessing:
    return TemplateProcessing([("A", 0)], [("A", 0), ("B", 1)])


class RobertaProcessing(TemplateProcessing):
    def __init__(
        self,
        cls: tuple[str, int],
        sep: tuple[str, int],
        trim_offsets: bool = True,
        add_prefix_space: bool = False,
    ) -> None:
        single = [(cls[0], 0), ("A", 0), (sep[0], 0)]
        pair = single + [(sep[0], 0), ("B", 0), (sep[0], 0)]
        super().__init__(single, pair, {cls[0]: cls[1], sep[0]: sep[1]})
        self.cls, self.sep = cls, sep
        self.trim_offsets = trim_offsets
        self.add_prefix_space = add_prefix_space

    def adjust(self, encoding: Encoding, sequence: int) -> Encoding:
        if not self.trim_offsets:
            return encoding
        offsets = [
            trim_offset(tok, off, i, self.add_prefix_space)
            for i, (tok, off) in enumerate(zip(encoding.tokens, encoding.offsets))
        ]
        return Encoding(encoding.ids, encoding.tokens, offsets, encoding.words)

    def to_dict(self) -> dict:
        return {
            "type": "RobertaProcessing",
            "sep": list(self.sep),
            "cls": list(self.cls),
            "trim_offsets": self.trim_offsets,
            "add_prefix_space": self.add_prefix_space,
        }


class ByteLevelProcessing(RobertaProcessing):
    """The `tokenizers` ByteLevel post-processor: no special tokens (B gets type 1), offsets
    optionally trimmed of the spaces byte-level tokens carry (old GPT-2 tokenizer.json files)."""

    def __init__(self, trim_offsets: bool = True, add_prefix_space: bool = False) -> None:
        TemplateProcessing.__init__(self, [("A", 0)], [("A", 0), ("B", 1)])
        self.trim_offsets = trim_offsets
        self.add_prefix_space = add_prefix_space

    def to_dict(self) -> dict:
        return {
            "type": "ByteLevel",
            "add_prefix_space": self.add_prefix_space,
            "trim_offsets": self.trim_offsets,
            "use_regex": True,
        }


def trim_offset(token: str, offset: tuple[int, int], index: int, add_prefix_space: bool):
    """Drop the leading/trailing spaces ('Ġ') a byte-level token carries from its offsets."""
    lead = len(token) - len(token.lstrip("Ġ"))
    trail = len(token) - len(token.rstrip("Ġ"))
    if not lead and not trail:
        return offset
    start, end = offset
    if lead:
        if (index == 0 or start == 0) and add_prefix_space and lead == 1:
            lead = 0  # that space was added by us, it is not in the user's text
        start = min(start + lead, end)
    if trail and end >= trail:
        end = max(end - trail, start)
    return (start, end)
