"""A tokenizer written the way the course's chapter 3.1 writes BERT's (and transformers 4.x wrote
every Python tokenizer): subclass ``PreTrainedTokenizer``, call ``super().__init__()`` with the
special tokens FIRST, set ``self.vocab`` after it, and supply ``_tokenize`` and friends. Built
here on BERT's real vocab.txt, it must tokenize as clearformer's own ``BertTokenizer`` does."""

from __future__ import annotations

import pickle
import unicodedata

import pytest

from clearformer.tokenization_utils import PreTrainedTokenizer, _is_control, _is_punctuation, _is_whitespace

TEXTS = [
    "Hello, my dog is cute!",
    "Ünïcödé CAFÉ costs $5.00 -- isn't it?",
    "中文字符 mixed with English",
    "[CLS] special tokens [SEP] stay whole [MASK].",
    "unaffable tokenization",
]


class HandWrittenBert(PreTrainedTokenizer):
    """Lower-cases, strips accents, spaces out CJK, splits punctuation, then greedy WordPiece."""

    def __init__(self, vocab_file: str, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                 cls_token="[CLS]", mask_token="[MASK]", **kwargs):  # fmt: skip
        super().__init__(
            unk_token=unk_token, sep_token=sep_token, pad_token=pad_token,
            cls_token=cls_token, mask_token=mask_token, **kwargs,
        )  # fmt: skip
        with open(vocab_file, encoding="utf-8") as f:
            self.vocab = {line.rstrip("\n"): i for i, line in enumerate(f)}
        self.ids_to_tokens = {i: t for t, i in self.vocab.items()}

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def get_vocab(self) -> dict[str, int]:
        return dict(self.vocab, **self.added_tokens_encoder)

    def _words(self, text: str) -> list[str]:
        chars = []
        for ch in text:
            if ord(ch) in (0, 0xFFFD) or _is_control(ch):
                continue
            if _is_whitespace(ch):
                chars.append(" ")
            elif 0x4E00 <= ord(ch) <= 0x9FFF:
                chars.append(f" {ch} ")
            else:
                chars.append(ch)
        words = []
        for word in "".join(chars).lower().split():
            word = "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")
            current = ""
            for ch in word:
                if _is_punctuation(ch):
                    words += [current, ch] if current else [ch]
                    current = ""
                else:
                    current += ch
            if current:
                words.append(current)
        return words

    def _tokenize(self, text: str) -> list[str]:
        pieces = []
        for word in self._words(text):
            start, out = 0, []
            while start < len(word):
                for end in range(len(word), start, -1):
                    candidate = ("##" if start else "") + word[start:end]
                    if candidate in self.vocab:
                        out.append(candidate)
                        start = end
                        break
                else:
                    out = [self.unk_token]
                    break
            pieces += out
        return pieces

    def _convert_token_to_id(self, token: str) -> int:
        return self.vocab.get(token, self.vocab[self.unk_token])

    def _convert_id_to_token(self, index: int) -> str:
        return self.ids_to_tokens.get(index, self.unk_token)

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return " ".join(tokens).replace(" ##", "").strip()

    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
        cls, sep = [self.cls_token_id], [self.sep_token_id]
        return cls + token_ids_0 + sep + (token_ids_1 + sep if token_ids_1 is not None else [])

    def create_token_type_ids_from_sequences(self, token_ids_0, token_ids_1=None):
        first = [0] * (len(token_ids_0) + 2)
        return first + ([1] * (len(token_ids_1) + 1) if token_ids_1 is not None else [])

    def get_special_tokens_mask(self, token_ids_0, token_ids_1=None, already_has_special_tokens=False):
        if already_has_special_tokens:
            return super().get_special_tokens_mask(token_ids_0, token_ids_1, True)
        first = [1] + [0] * len(token_ids_0) + [1]
        return first + ([0] * len(token_ids_1) + [1] if token_ids_1 is not None else [])


@pytest.fixture(scope="module")
def handwritten(bert_dir):
    return HandWrittenBert(str(bert_dir / "vocab.txt"))


def test_vocab_set_after_super_init_works_and_specials_get_vocab_ids(handwritten, ours):
    assert handwritten.cls_token_id == ours("bert").cls_token_id == 101
    assert handwritten.pad_token_id == 0 and handwritten.mask_token_id == 103
    assert len(handwritten) == len(ours("bert"))


def test_handwritten_subclass_tokenizes_like_our_bert_tokenizer(handwritten, ours):
    bert = ours("bert")
    for text in TEXTS:
        assert handwritten.tokenize(text) == bert.tokenize(text), text
    kw = dict(padding=True, truncation=True, max_length=12, return_special_tokens_mask=True)
    mine, want = handwritten(TEXTS, TEXTS[::-1], **kw), bert(TEXTS, TEXTS[::-1], **kw)
    for key in ("input_ids", "token_type_ids", "attention_mask", "special_tokens_mask"):
        assert mine[key] == want[key], key
    ids = bert(TEXTS[0])["input_ids"]
    # BERT's decoder cleans " ," up; a 4.x Python tokenizer did that in decode's clean-up step
    decoded = handwritten.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=True)
    assert decoded == bert.decode(ids, skip_special_tokens=True)
    assert handwritten(TEXTS[0], return_tensors="pt")["input_ids"].tolist() == [ids]


def test_handwritten_subclass_adds_tokens_and_pickles(bert_dir):
    tok = HandWrittenBert(str(bert_dir / "vocab.txt"))
    assert tok.add_tokens(["clearformer"]) == 1
    ids = tok("I like clearformer")["input_ids"]
    assert ids[-2] == len(tok) - 1 and tok.convert_ids_to_tokens(ids[-2]) == "clearformer"
    clone = pickle.loads(pickle.dumps(tok))
    assert clone("I like clearformer")["input_ids"] == ids


def test_handwritten_subclass_has_no_offsets(handwritten):
    with pytest.raises(NotImplementedError, match="return_offsets_mapping"):
        handwritten("hello", return_offsets_mapping=True)
