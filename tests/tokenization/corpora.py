"""Samples of the course's data sets for tokenizer parity tests (fixed seed, 2,000 per source)."""

from __future__ import annotations

import json

from .conftest import need_data, sample


def sst2() -> list[str]:
    lines = need_data("sst2", "train.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return sample([line.split("\t")[0] for line in lines])


def conll_words() -> list[list[str]]:
    text = need_data("conll2003", "train.txt").read_text(encoding="utf-8")
    sentences, words = [], []
    for line in text.splitlines():
        if not line.strip():
            if words:
                sentences.append(words)
            words = []
        elif not line.startswith("-DOCSTART-"):
            words.append(line.split(" ")[0])
    return sample(sentences)


def _squad_pairs(path, n: int) -> list[tuple[str, str]]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    pairs = [
        (qa["question"], para["context"]) for article in data for para in article["paragraphs"] for qa in para["qas"]
    ]
    return sample(pairs, n)


def squad(n: int = 600) -> list[tuple[str, str]]:
    return _squad_pairs(need_data("squad", "dev-v1.1.json"), n)


def cmrc(n: int = 400) -> list[tuple[str, str]]:
    return _squad_pairs(need_data("cmrc2018", "cmrc2018_dev.json"), n)


def multi30k_de() -> list[str]:
    return sample(need_data("multi30k", "train.de").read_text(encoding="utf-8").splitlines())


def tatoeba_cmn() -> list[str]:
    lines = need_data("tatoeba-cmn-eng", "cmn.txt").read_text(encoding="utf-8").splitlines()
    return sample([" ".join(line.split("\t")[:2]) for line in lines if "\t" in line])


def wikitext() -> list[str]:
    lines = need_data("wikitext-2-raw", "wiki.valid.raw").read_text(encoding="utf-8").splitlines(True)
    return sample(lines)


TEXT_SOURCES = {
    "sst2": sst2,
    "multi30k_de": multi30k_de,
    "tatoeba_cmn": tatoeba_cmn,
    "wikitext": wikitext,
}

HARD_CASES = [
    "",
    " ",
    "   \t\n  ",
    "Hello, world!",
    "I like natural language progressing!",
    "naïve café résumé Ångström İstanbul ǅ ß ﬁ",
    "e\u0301 a\u0323\u0302 o\u0308\u0301 combining",
    "zero\u200bwidth\u200c\u200djoin\ufeffbom",
    "ctrl\x00nul\x01\x07bell\x1bx\x7fdel\ufffdrepl",
    "tabs\tand\nnewlines\r\nand\x0bvt\x0cff\x85nel",
    "nbsp\u00a0ideo\u3000space\u2003em\u2028ls\u2029ps",
    "emoji 😀🎉👍🏽 family 👨‍👩‍👧 flag 🇫🇷",
    "RTL: שלום עולם مرحبا بالعالم",
    "mixed 中文English123数字４５６ and 日本語テキスト 한국어",
    "x" * 200,
    "supercalifragilistic" * 10 + " short",
    "a" * 99 + " " + "b" * 100 + " " + "c" * 101,
    "multiple     spaces    between",
    "don't can't won't it's I'm we've they're I'd we'll",
    "$100 + 50% = <tag> ^caret^ `tick` |pipe| ~tilde~ {brace} [bracket] @at #hash",
    "   leading and trailing   ",
    "[CLS] in text [SEP] and [MASK] and [UNK] [PAD]",
    "<|endoftext|>special<|endoftext|> <s>roberta</s> <mask>",
    "numbers 3.14159 1,600 2021-09-01 0x1F",
    "\U0002b820\U0002b920\U00020000\u4e00\u9fff\uf900 cjk edges",
    "a\U0002b820b a\U0002b81fb a\U0002b920b a\u33ffb a\u3400b cjk range ends inside words",
    "Ⅻ ① ¼ ² µ Ω K Å ﬀ",
    "🤗 Transformers provides general-purpose architectures",
    "a\x1cb\x1d c\u0085d\u00a0e\u2028f \u3000 g\x0b\x0ch  \t\n x",
    "sep\x1c\x1d\x1e\x1funit \u180e mongol \u2060wj \u00ad soft-hyphen",
    "\ud7ff\ue000 private \U000f0000 plane15 \U0010ffff",
    "trailing spaces   ",
    "\n\nleading newlines",
    "'s 'S 'LL 'll' '' ''' quotes",
    "a\u0301\u0301\u0301 stacked marks \u0301 alone",
    "  <|endoftext|>  spaced special  ",
    "compatibility ideographs \ufa26\uf900 and full-width ＡＢＣ１２３",
]
