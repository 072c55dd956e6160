"""WikiText-2: the unigram baseline beside the small-LM runs (wikitext_small_lm.py must have built its folders).

Unigram baseline for the WikiText runs: add-one-smoothed token frequencies of the training blocks,
scored on the same eval blocks (causal: positions 1..127 of each block; masked: every non-special token)."""

import math
from collections import Counter

from _common import DATA

from clearformer.tasks import get_task, lm_preprocess
from clearformer.tokenization import AutoTokenizer

for kind, folder in (("clm", "/tmp/wikitext_small_clm"), ("mlm", "/tmp/wikitext_small_mlm")):
    tok = AutoTokenizer.from_pretrained(folder)
    data = get_task("wikitext-" + kind).load(DATA / "wikitext-2-raw")
    fn = lm_preprocess(tok, 128, mlm=kind == "mlm")
    train = fn(data["train"][:])
    test = fn(data["validation"][:1000])
    counts = Counter(t for b in train["input_ids"] for t in b)
    total, V = sum(counts.values()), len(tok)
    if kind == "clm":
        targets = [t for b in test["input_ids"] for t in b[1:]]
    else:
        targets = [t for b, m in zip(test["input_ids"], test["special_tokens_mask"]) for t, s in zip(b, m) if not s]
    nll = -sum(math.log((counts[t] + 1) / (total + V)) for t in targets) / len(targets)
    print(
        kind,
        "train tokens",
        total,
        "eval blocks",
        len(test["input_ids"]),
        "targets",
        len(targets),
        "unigram ppl",
        round(math.exp(nll), 1),
    )
