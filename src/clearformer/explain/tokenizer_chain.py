"""HB-28 Q18: what ``tokenizer(text)`` runs, stage by stage, on the real MiniLM (bert-base-uncased) vocab.

The calls are recorded with ``sys.setprofile`` while the tokenizer runs (the top levels of the
chain, in order), then each stage's output is shown with ``tokenizer.explain(text)``, and
``prepare_for_model`` (the second half of the chain, for ids you already have) is checked to give
the same ids.
"""

from __future__ import annotations

import sys

from .resources import load_tokenizer

TEXT = "I like natural language progressing!"
COURSE_IDS = [101, 1045, 2066, 3019, 2653, 27673, 999, 102]  # bert-base-uncased, chapter 3.1


def record_calls(fn, max_depth: int = 5) -> list[str]:
    """Names of the clearformer.tokenization functions ``fn`` calls, indented by depth, repeats folded."""
    calls: list[str] = []
    depth = 0

    def profiler(frame, event, arg):
        nonlocal depth
        if event not in ("call", "return"):
            return
        path = frame.f_code.co_filename.replace("\\", "/")
        mine = "/clearformer/tokenization/" in path or ("/clearformer/models/" in path and "/tokenization_" in path)
        if not mine:
            return
        if event == "call":
            if depth < max_depth and not frame.f_code.co_name.startswith("<"):
                line = "  " * depth + frame.f_code.co_qualname
                if not calls or calls[-1] != line:
                    calls.append(line)
            depth += 1
        else:
            depth -= 1

    sys.setprofile(profiler)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls


def run(model=None, text: str = TEXT) -> dict:
    tokenizer = load_tokenizer(model)
    encoding = tokenizer(text)
    chain = record_calls(lambda: tokenizer(text))
    stages = tokenizer.explain(text)
    bare = tokenizer(text, add_special_tokens=False)["input_ids"]
    prepared = tokenizer.prepare_for_model(bare)
    return {
        "tokenizer": f"{type(tokenizer).__name__} ({len(tokenizer)} tokens) from {tokenizer.name_or_path}",
        "text": text,
        "call_chain": chain,
        "stages": {
            "1 normalizer (clean, lowercase, strip accents)": stages["normalized"],
            "2 pre-tokenizer (whitespace + punctuation)": stages["pre_tokens"],
            "3 model (WordPiece per word)": stages["model_tokens"],
            "4 post-processor ([CLS] A [SEP])": stages["tokens"],
            "5 ids": stages["input_ids"],
            "offsets": stages["offsets"],
            "word_ids": stages["word_ids"],
        },
        "result_type": type(encoding).__name__,
        "result_keys": list(encoding.keys()),
        "input_ids": encoding["input_ids"],
        "matches_course_chapter_3_1_ids": encoding["input_ids"] == COURSE_IDS,
        "prepare_for_model(ids without specials)": prepared["input_ids"],
        "prepare_for_model_equals_call": prepared["input_ids"] == encoding["input_ids"],
        "takeaway": (
            "tokenizer(text) = __call__ (check inputs/options) -> pipeline.encode (normalize -> pre-tokenize -> "
            "WordPiece -> truncate -> add [CLS]/[SEP] and token types) -> _finalize (pad, pick fields) -> "
            "BatchEncoding; prepare_for_model is the second half for ids you already have"
        ),
    }
