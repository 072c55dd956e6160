"""question-answering: the span of the context that answers the question, with char offsets.

A context too long for ``max_seq_len`` is cut into windows overlapping by ``doc_stride`` tokens.
In each window start/end logits become probabilities over context tokens (and [CLS]); a span
scores start-prob x end-prob, at most ``max_answer_len`` tokens long, widened to whole words
(``align_to_words``). Answers with the same text (any case) add up their scores; with
``handle_impossible_answer`` the empty answer competes with the lowest [CLS] score over windows.
Matches transformers 4.57 (5.x dropped this pipeline).
"""

from __future__ import annotations

from typing import Any

import torch

from .base import Pipeline

MASKED_LOGIT = -10000.0  # what transformers writes over question/padding logits before the softmax


class QuestionAnsweringPipeline(Pipeline):
    task = "question-answering"
    token_outputs = ("start_logits", "end_logits")

    def __call__(self, *args: Any, question: Any = None, context: Any = None, **kwargs: Any) -> Any:
        examples = self._examples(args, question, context)
        if isinstance(examples, list) and len(examples) == 1:
            examples = examples[0]  # transformers returns a bare result for one example
        return super().__call__(examples, **kwargs)

    @staticmethod
    def _examples(args: tuple, question: Any, context: Any) -> Any:
        if args:
            if len(args) == 2 and all(isinstance(a, str) for a in args):
                return [{"question": args[0], "context": args[1]}]
            if len(args) > 1:
                raise TypeError("give question=..., context=... or one dict / list of dicts")
            inputs = args[0]
            if isinstance(inputs, dict):
                return [inputs]
            return inputs if not isinstance(inputs, tuple) else list(inputs)
        if question is None or context is None:
            raise ValueError("question-answering needs both question=... and context=... (or a dict with both)")
        if isinstance(question, str) and isinstance(context, str):
            return [{"question": question, "context": context}]
        if isinstance(question, list) and isinstance(context, str):
            return [{"question": q, "context": context} for q in question]
        if isinstance(question, list) and isinstance(context, list):
            if len(question) != len(context):
                raise ValueError(f"{len(question)} questions but {len(context)} contexts; they pair up one to one")
            return [{"question": q, "context": c} for q, c in zip(question, context)]
        raise ValueError(f"cannot pair question of type {type(question).__name__} with {type(context).__name__}")

    def _sanitize_parameters(
        self,
        top_k: int | None = None,
        doc_stride: int | None = None,
        max_answer_len: int | None = None,
        max_seq_len: int | None = None,
        handle_impossible_answer: bool | None = None,
        align_to_words: bool | None = None,
    ):
        pre = {k: v for k, v in (("doc_stride", doc_stride), ("max_seq_len", max_seq_len)) if v is not None}
        post: dict[str, Any] = {}
        for name, value in (("top_k", top_k), ("max_answer_len", max_answer_len)):
            if value is not None:
                if not isinstance(value, int) or value < 1:
                    raise ValueError(f"{name} must be an int >= 1, got {value!r}")
                post[name] = value
        if handle_impossible_answer is not None:
            post["handle_impossible_answer"] = handle_impossible_answer
        if align_to_words is not None:
            post["align_to_words"] = align_to_words
        return pre, {}, post

    # ------------------------------------------------------------------ windows
    def preprocess(self, example: Any, doc_stride: int | None = None, max_seq_len: int | None = None):
        question, context = _check_example(example)
        max_seq_len = max_seq_len or min(self.tokenizer.model_max_length, 384)
        doc_stride = min(max_seq_len // 2, 128) if doc_stride is None else doc_stride
        if doc_stride > max_seq_len:
            raise ValueError(f"doc_stride ({doc_stride}) is larger than max_seq_len ({max_seq_len})")
        self._check_room(question, context, max_seq_len, doc_stride)
        question_first = self._padding_side() == "right"
        enc = self.tokenizer(
            question if question_first else context,
            context if question_first else question,
            truncation="only_second" if question_first else "only_first",
            max_length=max_seq_len,
            stride=doc_stride,
            return_token_type_ids=True,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        context_sequence = 1 if question_first else 0
        for i in range(len(enc["input_ids"])):
            sequence_ids = enc.sequence_ids(i)
            # only context tokens and [CLS] (the "no answer" slot) can be picked
            p_mask = [0 if s == context_sequence else 1 for s in sequence_ids]
            for position, token in enumerate(enc["input_ids"][i]):
                if token == self.tokenizer.cls_token_id:
                    p_mask[position] = 0
            yield {
                "model_inputs": self.model_inputs(enc, i),
                "p_mask": p_mask,
                "offsets": enc["offset_mapping"][i],
                "word_ids": enc.word_ids(i),
                "sequence_ids": sequence_ids,
                "context_sequence": context_sequence,
                "context": context,
            }

    def _check_room(self, question: str, context: str, max_seq_len: int, doc_stride: int) -> None:
        """Name the real problem before the tokenizer's truncation does: no room for context."""
        n_question = len(self.tokenizer(question, add_special_tokens=False)["input_ids"])
        room = max_seq_len - n_question - self.tokenizer.num_special_tokens_to_add(pair=True)
        if room > doc_stride:
            return  # windows can always advance
        n_context = len(self.tokenizer(context, add_special_tokens=False)["input_ids"])
        if room < n_context:
            raise ValueError(
                f"max_seq_len={max_seq_len} is too short for this question: it takes {n_question} tokens, leaving "
                f"{max(room, 0)} per window for the {n_context}-token context, which must exceed doc_stride="
                f"{doc_stride}; raise max_seq_len, lower doc_stride or shorten the question"
            )

    def _forward(self, model_inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = self.model(**model_inputs)
        return {"start_logits": out.start_logits, "end_logits": out.end_logits}

    # ------------------------------------------------------------------ answers
    def postprocess(
        self,
        outputs: list[dict],
        top_k: int = 1,
        handle_impossible_answer: bool = False,
        max_answer_len: int = 15,
        align_to_words: bool = True,
    ) -> Any:
        min_null_score = 1_000_000.0
        answers: list[dict] = []
        for feature in outputs:
            spans, null_score = best_spans(feature, top_k * 2 + 10 if align_to_words else top_k, max_answer_len)
            min_null_score = min(min_null_score, null_score)
            for start, end, score in spans:
                char_start, char_end = self._chars(feature, start, end, align_to_words)
                text = feature["context"][char_start:char_end]
                same = next((a for a in answers if a["answer"].lower() == text.lower()), None)
                if same is not None:
                    same["score"] += score
                else:
                    answers.append({"score": score, "start": char_start, "end": char_end, "answer": text})
        if handle_impossible_answer:
            answers.append({"score": min_null_score, "start": 0, "end": 0, "answer": ""})
        answers = sorted(answers, key=lambda a: a["score"], reverse=True)[:top_k]
        return answers[0] if len(answers) == 1 else answers

    @staticmethod
    def _chars(feature: dict, start: int, end: int, align_to_words: bool) -> tuple[int, int]:
        offsets = feature["offsets"]
        if not align_to_words:
            return offsets[start][0], offsets[end][1]
        seq = feature["context_sequence"]
        first_word, last_word = feature["word_ids"][start], feature["word_ids"][end]
        first = [
            i
            for i, (w, s) in enumerate(zip(feature["word_ids"], feature["sequence_ids"]))
            if w == first_word and s == seq
        ]
        last = [
            i
            for i, (w, s) in enumerate(zip(feature["word_ids"], feature["sequence_ids"]))
            if w == last_word and s == seq
        ]
        if first_word is None or last_word is None or not first or not last:
            return offsets[start][0], offsets[end][1]
        return offsets[first[0]][0], offsets[last[-1]][1]


def best_spans(feature: dict, k: int, max_answer_len: int) -> tuple[list[tuple[int, int, float]], float]:
    """The k best (start, end, probability) spans of one window, and its null ([CLS]) score."""
    allowed = torch.tensor([p == 0 for p in feature["p_mask"]])
    if "attention_mask" in feature["model_inputs"]:
        allowed &= torch.tensor(feature["model_inputs"]["attention_mask"]) == 1
    start = feature["start_logits"].float().masked_fill(~allowed, MASKED_LOGIT).softmax(-1)
    end = feature["end_logits"].float().masked_fill(~allowed, MASKED_LOGIT).softmax(-1)
    null_score = (start[0] * end[0]).item()
    start[0] = end[0] = 0.0  # position 0 ([CLS]) is the null answer, never a span
    scores = start[:, None] * end[None, :]  # (L, L): start i, end j
    length = scores.shape[0]
    i, j = torch.arange(length)[:, None], torch.arange(length)[None, :]
    valid = (j >= i) & (j - i < max_answer_len) & allowed[:, None] & allowed[None, :]
    valid[0, :] = valid[:, 0] = False
    flat = scores.masked_fill(~valid, -1.0).flatten()
    count = min(k, int(valid.sum()))
    values, indices = flat.topk(count)
    return [(int(x) // length, int(x) % length, v) for x, v in zip(indices, values.tolist())], null_score


def _check_example(example: Any) -> tuple[str, str]:
    if not isinstance(example, dict):
        raise ValueError(f"question-answering takes {{'question': ..., 'context': ...}} inputs, got {example!r}")
    for key in ("question", "context"):
        if key not in example:
            raise KeyError(f"a question-answering input needs the keys 'question' and 'context'; got {sorted(example)}")
        if not isinstance(example[key], str) or not example[key].strip():
            raise ValueError(f"{key} must be a non-empty string, got {example[key]!r}")
    return example["question"], example["context"]
