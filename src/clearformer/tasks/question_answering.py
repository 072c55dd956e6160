"""Extractive question answering (course chapter 4.3): SQuAD-format windows, labels, post-processing.

Long contexts become windows of ``max_length`` tokens overlapping by ``stride`` (question first,
context truncated ``only_second``). A window that holds the answer gets its first/last context
tokens as start/end labels, found through the offset mapping; a window without it points at [CLS],
as the course does. CMRC2018 ships answers whose ``answer_start`` is wrong: ``repair_answer_starts``
moves each to the occurrence of the text nearest to it, or drops the answer, and counts both.
Logits -> answer texts is ``postprocess_qa_predictions`` (re-exported from ``clearformer.postprocessing``).
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..data.collators import default_data_collator
from ..postprocessing.qa import postprocess_qa_predictions  # noqa: F401  (re-exported)
from .spec import TaskDataError, TaskSpec, check_columns, register_task

logger = logging.getLogger("clearformer.tasks")
QA_COLUMNS = ("question", "context", "answers")


# --- training windows ---------------------------------------------------------------------------------
def check_question_room(tokenizer, questions: Sequence[str], max_length: int, stride: int) -> None:
    """Every question must leave more than ``stride`` context tokens per window; else name the row."""
    specials = tokenizer.num_special_tokens_to_add(pair=True)
    lengths = [len(ids) for ids in tokenizer(list(questions), add_special_tokens=False)["input_ids"]]
    for row, n in enumerate(lengths):
        room = max_length - specials - n
        if room <= stride:
            raise TaskDataError(
                f"row {row}: the question has {n} tokens, so max_length={max_length} leaves {room} context tokens "
                f"per window ({specials} special tokens), not more than stride={stride}; raise max_length, lower "
                f"stride, or shorten the question ({questions[row][:60]!r})"
            )


def _windows(tokenizer, examples: dict, max_length: int, stride: int, padding: str | bool):
    check_columns(examples, QA_COLUMNS[:2], "question answering")
    questions = [q.lstrip() for q in examples["question"]]  # leading spaces waste window room
    check_question_room(tokenizer, questions, max_length, stride)
    pad_on_right = tokenizer.padding_side == "right"
    first, second = (questions, examples["context"]) if pad_on_right else (examples["context"], questions)
    return tokenizer(
        first,
        second,
        truncation="only_second" if pad_on_right else "only_first",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=padding,
    ), 1 if pad_on_right else 0


def _context_span(sequence_ids: list, context_id: int) -> tuple[int, int]:
    first = sequence_ids.index(context_id)
    last = len(sequence_ids) - 1 - sequence_ids[::-1].index(context_id)
    return first, last


def answer_token_span(
    offsets: list, sequence_ids: list, context_id: int, start_char: int, end_char: int
) -> tuple[int, int] | None:
    """(start token, end token) of the characters [start_char, end_char) in this window, or None."""
    first, last = _context_span(sequence_ids, context_id)
    if offsets[first][0] > start_char or offsets[last][1] < end_char:
        return None
    start = first
    while start <= last and offsets[start][0] <= start_char:
        start += 1
    end = last
    while end >= first and offsets[end][1] >= end_char:
        end -= 1
    return start - 1, end + 1


def prepare_train_features(
    tokenizer,
    max_length: int = 384,
    stride: int = 128,
    padding: str | bool = "max_length",
) -> Callable[[dict], dict]:
    """Batched map function: windows with ``start_positions`` / ``end_positions`` (both [CLS] when the
    window misses the answer or the question has none). An answer that is not where its answer_start
    says (so in no window) raises ``TaskDataError``."""

    def preprocess(examples: dict) -> dict:
        check_columns(examples, QA_COLUMNS, "question answering")
        encoded, context_id = _windows(tokenizer, examples, max_length, stride, padding)
        sample_of = encoded.pop("overflow_to_sample_mapping")
        offsets_of = encoded.pop("offset_mapping")
        starts, ends, found = [], [], set()
        for i, offsets in enumerate(offsets_of):
            cls_index = encoded["input_ids"][i].index(tokenizer.cls_token_id)
            answers = examples["answers"][sample_of[i]]
            span = None
            if answers["answer_start"]:
                start_char = answers["answer_start"][0]
                span = answer_token_span(
                    offsets, encoded.sequence_ids(i), context_id, start_char, start_char + len(answers["text"][0])
                )
            if span is not None:
                found.add(sample_of[i])
            starts.append(span[0] if span else cls_index)
            ends.append(span[1] if span else cls_index)
        _check_unplaced_answers(examples, found)
        encoded["start_positions"], encoded["end_positions"] = starts, ends
        return encoded

    return preprocess


def _check_unplaced_answers(examples: dict, found: set[int]) -> None:
    """An answer in no window is an error when it is not where answer_start says; an answer longer
    than a window's context room is left at [CLS] in every window, as the course does, and counted."""
    too_long = 0
    for row, answers in enumerate(examples["answers"]):
        if not answers["answer_start"] or row in found:
            continue
        start, text, context = answers["answer_start"][0], answers["text"][0], examples["context"][row]
        if context[start : start + len(text)] == text:
            too_long += 1
            continue
        row_id = examples["id"][row] if "id" in examples else row
        raise TaskDataError(
            f"row {row} (id {row_id!r}): the answer {text!r} is not at answer_start={start} of the "
            f"{len(context)}-character context, so it lies in no window; check answer_start (CMRC2018: use "
            "repair_answer_starts) or drop the row"
        )
    if too_long:
        logger.warning("%d answers are longer than a window's context; their windows are labelled [CLS]", too_long)


def prepare_validation_features(
    tokenizer, max_length: int = 384, stride: int = 128, padding: str | bool = "max_length"
) -> Callable[[dict], dict]:
    """Batched map function: windows with ``example_id`` and offsets (None outside the context), the
    two columns ``postprocess_qa_predictions`` needs."""

    def preprocess(examples: dict) -> dict:
        check_columns(examples, ("id", "question", "context"), "question answering")
        encoded, context_id = _windows(tokenizer, examples, max_length, stride, padding)
        sample_of = encoded.pop("overflow_to_sample_mapping")
        encoded["example_id"] = [examples["id"][s] for s in sample_of]
        encoded["offset_mapping"] = [
            [o if sid == context_id else None for o, sid in zip(offsets, encoded.sequence_ids(i))]
            for i, offsets in enumerate(encoded["offset_mapping"])
        ]
        return encoded

    return preprocess


# --- metrics (post-processing: clearformer.postprocessing.qa.postprocess_qa_predictions) -----------------
_CJK_PUNCTUATION = "，。、；：？！“”‘’（）《》〈〉【】『』「」﹃﹄〔〕…—～·－"


def _normalize_zh(text: str) -> str:
    return "".join(
        ch for ch in text.lower() if not ch.isspace() and ch not in string.punctuation and ch not in _CJK_PUNCTUATION
    )


def _longest_common_substring(a: str, b: str) -> int:
    best, row = 0, [0] * (len(b) + 1)
    for ch in a:
        previous = 0
        for j, other in enumerate(b, start=1):
            current = row[j]
            row[j] = previous + 1 if ch == other else 0
            best = max(best, row[j])
            previous = current
    return best


def cmrc_scores(prediction: str, truths: Sequence[str]) -> tuple[float, float]:
    """CMRC2018's character-level EM and F1 (longest common substring), best over the gold answers."""
    pred, em, f1 = _normalize_zh(prediction), 0.0, 0.0
    for truth in truths:
        gold = _normalize_zh(truth)
        em = max(em, float(pred == gold))
        lcs = _longest_common_substring(pred, gold)
        if lcs:
            precision, recall = lcs / len(pred), lcs / len(gold)
            f1 = max(f1, 2 * precision * recall / (precision + recall))
    return em, f1


def qa_metrics(predictions: dict[str, str], examples, language: str = "en") -> dict[str, float]:
    """EM/F1 (x100): the official SQuAD v1.1 script's for English, CMRC2018's for Chinese."""
    from .. import metrics

    if language == "en":
        return metrics.squad(
            [{"id": k, "prediction_text": v} for k, v in predictions.items()],
            [{"id": ex["id"], "answers": ex["answers"]} for ex in examples],
        )
    scores = [cmrc_scores(predictions[ex["id"]], ex["answers"]["text"]) for ex in examples]
    n = max(1, len(scores))
    return {"exact_match": 100.0 * sum(s[0] for s in scores) / n, "f1": 100.0 * sum(s[1] for s in scores) / n}


# --- data: CMRC2018 repair and SQuAD article split --------------------------------------------------------
@dataclass
class AnswerRepairReport:
    answers: int = 0
    correct: int = 0
    repaired: int = 0  # answer_start moved to the nearest occurrence of the text
    dropped_answers: int = 0  # text not in the context at all
    dropped_examples: int = 0  # no usable answer left

    def __str__(self) -> str:
        return (
            f"{self.answers} answers: {self.correct} correct, {self.repaired} answer_start repaired, "
            f"{self.dropped_answers} dropped (text not in context); {self.dropped_examples} examples dropped"
        )


def repair_answer_starts(dataset):
    """(dataset, report): every answer whose ``context[answer_start:]`` is not its text moves to the
    occurrence nearest to the given start; one whose text is nowhere in the context is dropped, and
    an example left without answers is dropped."""
    report = AnswerRepairReport()

    def fix(example: dict) -> dict:
        context, kept_text, kept_start = example["context"], [], []
        for text, start in zip(example["answers"]["text"], example["answers"]["answer_start"]):
            report.answers += 1
            if context[start : start + len(text)] == text:
                report.correct += 1
            else:
                hits = [m.start() for m in re.finditer(re.escape(text), context)] if text else []
                if not hits:
                    report.dropped_answers += 1
                    continue
                report.repaired += 1
                start = min(hits, key=lambda h: (abs(h - start), h))
            kept_text.append(text)
            kept_start.append(start)
        example["answers"] = {"text": kept_text, "answer_start": kept_start}
        return example

    fixed = [fix(dict(ex)) for ex in dataset]
    kept = [ex for ex in fixed if ex["answers"]["text"]]
    report.dropped_examples = len(fixed) - len(kept)
    return type(dataset).from_list(kept, features=dataset.features), report


def split_by_article(dataset, eval_articles: int = 12):
    """SQuAD has no train split here: train on the first articles (by title, in file order) and
    evaluate on the last ``eval_articles``, so no context is shared between the two."""
    import datasets

    titles = list(dict.fromkeys(dataset["title"]))
    if not 0 < eval_articles < len(titles):
        raise ValueError(f"eval_articles must be between 1 and {len(titles) - 1}, got {eval_articles}")
    held_out = set(titles[-eval_articles:])
    is_eval = [t in held_out for t in dataset["title"]]
    return datasets.DatasetDict(
        {
            "train": dataset.select([i for i, e in enumerate(is_eval) if not e]),
            "validation": dataset.select([i for i, e in enumerate(is_eval) if e]),
        }
    )


def load_squad_split(folder: str | Path, eval_articles: int = 12):
    from ..data.loaders import load_squad

    return split_by_article(load_squad({"validation": Path(folder) / "dev-v1.1.json"})["validation"], eval_articles)


def load_cmrc2018(folder: str | Path):
    """Repaired CMRC2018: trains on cmrc2018_dev.json, evaluates on cmrc2018_trial.json (no train split here)."""
    import datasets

    from ..data.loaders import load_squad

    folder = Path(folder)
    raw = load_squad(
        {"train": folder / "cmrc2018_dev.json", "validation": folder / "cmrc2018_trial.json"}, check_answers=False
    )
    out, reports = {}, {}
    for split in raw:
        out[split], reports[split] = repair_answer_starts(raw[split])
    result = datasets.DatasetDict(out)
    result.repair_reports = reports
    return result


QA_TRAINING = {
    "learning_rate": 2e-5,
    "per_device_train_batch_size": 16,
    "per_device_eval_batch_size": 16,
    "num_train_epochs": 3,
    "weight_decay": 0.01,
}

SQUAD = register_task(
    TaskSpec(
        name="squad",
        family="question_answering",
        auto_model="AutoModelForQuestionAnswering",
        load=load_squad_split,
        preprocess=prepare_train_features,
        collator=lambda tokenizer: default_data_collator,
        compute_metrics=None,
        metric="f1",
        preprocess_defaults={"max_length": 384, "stride": 128},
        training_defaults=dict(QA_TRAINING),
        description="SQuAD v1.1 dev split by article (no train split here); EM/F1",
    )
)

CMRC2018 = register_task(
    TaskSpec(
        name="cmrc2018",
        family="question_answering",
        auto_model="AutoModelForQuestionAnswering",
        load=load_cmrc2018,
        preprocess=prepare_train_features,
        collator=lambda tokenizer: default_data_collator,
        compute_metrics=None,
        metric="f1",
        preprocess_defaults={"max_length": 384, "stride": 128},
        training_defaults=dict(QA_TRAINING),
        description="CMRC2018 (Chinese), answer_start repaired; character EM/F1",
    )
)
