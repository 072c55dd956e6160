"""The course's metrics, computed by the libraries made for them, under the course's names.

``load_metric("glue", "cola").compute(predictions=..., references=...)`` and friends: scikit-learn
and scipy (accuracy, F1, MCC, Pearson, Spearman), seqeval (entity P/R/F1), sacrebleu >= 2 (BLEU),
rouge-score (ROUGE with bootstrap low/mid/high), and the official SQuAD v1.1/v2 EM/F1 normalisation.
The libraries are the ``[metrics]`` extra and are imported only when a metric is computed.
"""

from __future__ import annotations

import collections
import math
import re
import string
from collections.abc import Callable, Sequence
from typing import Any

GLUE_CONFIGS = (
    "cola",
    "sst2",
    "mrpc",
    "qqp",
    "stsb",
    "mnli",
    "mnli_matched",
    "mnli_mismatched",
    "mnli-mm",
    "qnli",
    "rte",
    "wnli",
    "hans",
)


def _need(module: str, package: str):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as err:
        raise ImportError(
            f"this metric needs the {package!r} package: pip install {package} (or pip install 'clearformer[metrics]')"
        ) from err


# --- classification and regression --------------------------------------------------------------
def accuracy(predictions: Sequence, references: Sequence) -> dict[str, float]:
    metrics = _need("sklearn.metrics", "scikit-learn")
    return {"accuracy": float(metrics.accuracy_score(references, predictions))}


def f1(predictions: Sequence, references: Sequence, average: str = "binary") -> dict[str, float]:
    metrics = _need("sklearn.metrics", "scikit-learn")
    return {"f1": float(metrics.f1_score(references, predictions, average=average))}


def matthews_correlation(predictions: Sequence, references: Sequence) -> dict[str, float]:
    metrics = _need("sklearn.metrics", "scikit-learn")
    return {"matthews_correlation": float(metrics.matthews_corrcoef(references, predictions))}


def pearson_spearman(predictions: Sequence, references: Sequence) -> dict[str, float]:
    stats = _need("scipy.stats", "scipy")
    return {
        "pearson": float(stats.pearsonr(predictions, references)[0]),
        "spearmanr": float(stats.spearmanr(predictions, references)[0]),
    }


def glue(config_name: str) -> Callable[..., dict[str, float]]:
    """The metric of a GLUE task, as the course's ``load_metric('glue', task)`` computes it."""
    if config_name not in GLUE_CONFIGS:
        raise KeyError(f"unknown GLUE task {config_name!r}; choose one of {GLUE_CONFIGS}")
    if config_name == "cola":
        return matthews_correlation
    if config_name == "stsb":
        return pearson_spearman
    if config_name in ("mrpc", "qqp"):
        return lambda predictions, references: {**accuracy(predictions, references), **f1(predictions, references)}
    return accuracy


# --- sequence labelling ----------------------------------------------------------------------------
def seqeval(
    predictions: list[list[str]],
    references: list[list[str]],
    suffix: bool = False,
    scheme: str | None = None,
    mode: str | None = None,
    zero_division: str | int = "warn",
) -> dict:
    """Per entity type {precision, recall, f1, number} plus overall_precision/recall/f1/accuracy."""
    metrics = _need("seqeval.metrics", "seqeval")
    scheme_class = getattr(_need("seqeval.scheme", "seqeval"), scheme) if scheme else None
    report = metrics.classification_report(
        y_true=references,
        y_pred=predictions,
        suffix=suffix,
        output_dict=True,
        scheme=scheme_class,
        mode=mode,
        zero_division=zero_division,
    )
    for key in ("macro avg", "weighted avg"):
        report.pop(key, None)
    overall = report.pop("micro avg")
    scores = {
        t: {"precision": s["precision"], "recall": s["recall"], "f1": s["f1-score"], "number": s["support"]}
        for t, s in report.items()
    }
    scores["overall_precision"] = overall["precision"]
    scores["overall_recall"] = overall["recall"]
    scores["overall_f1"] = overall["f1-score"]
    scores["overall_accuracy"] = metrics.accuracy_score(y_true=references, y_pred=predictions)
    return scores


# --- SQuAD: the official evaluation script's normalisation ---------------------------------------------
def normalize_answer(text: str) -> str:
    """Lower case, drop punctuation, drop the articles a/an/the, squeeze whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match_score(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


def f1_score(prediction: str, truth: str) -> float:
    pred, gold = normalize_answer(prediction).split(), normalize_answer(truth).split()
    if not pred or not gold:  # v2 no-answer: both empty is a match
        return float(pred == gold)
    common = collections.Counter(pred) & collections.Counter(gold)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def _answers(reference: dict) -> list[str]:
    texts = reference["answers"]["text"] if isinstance(reference["answers"], dict) else reference["answers"]
    return [t for t in texts if normalize_answer(t)] or [""]


def squad(predictions: list[dict], references: list[dict]) -> dict[str, float]:
    """predictions [{'id', 'prediction_text'}], references [{'id', 'answers': {'text': [...]}}]."""
    gold = {r["id"]: _answers(r) for r in references}
    missing = [p["id"] for p in predictions if p["id"] not in gold]
    if missing:
        raise KeyError(f"predictions for ids not among the references: {missing[:5]}")
    em = f = 0.0
    for p in predictions:
        truths = gold[p["id"]]
        em += max(exact_match_score(p["prediction_text"], t) for t in truths)
        f += max(f1_score(p["prediction_text"], t) for t in truths)
    n = max(1, len(predictions))
    return {"exact_match": 100.0 * em / n, "f1": 100.0 * f / n}


def squad_v2(predictions: list[dict], references: list[dict], no_answer_threshold: float = 1.0) -> dict[str, float]:
    """As squad, plus unanswerable questions: a prediction whose ``no_answer_probability`` exceeds
    the threshold counts as "no answer"; scores split into HasAns / NoAns as the official script."""
    gold = {r["id"]: _answers(r) for r in references}
    buckets: dict[str, list[tuple[float, float]]] = {"HasAns": [], "NoAns": []}
    for p in predictions:
        text = "" if p.get("no_answer_probability", 0.0) > no_answer_threshold else p["prediction_text"]
        truths = gold[p["id"]]
        scores = (max(exact_match_score(text, t) for t in truths), max(f1_score(text, t) for t in truths))
        buckets["NoAns" if truths == [""] else "HasAns"].append(scores)
    every = buckets["HasAns"] + buckets["NoAns"]
    out = {
        "exact": 100.0 * sum(e for e, _ in every) / max(1, len(every)),
        "f1": 100.0 * sum(f for _, f in every) / max(1, len(every)),
        "total": len(every),
    }
    for name, rows in buckets.items():
        if rows:
            out[f"{name}_exact"] = 100.0 * sum(e for e, _ in rows) / len(rows)
            out[f"{name}_f1"] = 100.0 * sum(f for _, f in rows) / len(rows)
            out[f"{name}_total"] = len(rows)
    return out


# --- generation ------------------------------------------------------------------------------------------
def sacrebleu(
    predictions: list[str],
    references: list[list[str]],
    smooth_method: str = "exp",
    smooth_value: float | None = None,
    force: bool = False,
    lowercase: bool = False,
    tokenize: str | None = None,
    use_effective_order: bool = False,
) -> dict[str, Any]:
    """Corpus BLEU; ``references`` holds a list of reference strings per prediction."""
    lib = _need("sacrebleu", "sacrebleu")
    counts = {len(r) for r in references}
    if len(counts) != 1:
        raise ValueError(f"sacrebleu needs the same number of references for every prediction, got {sorted(counts)}")
    streams = [[refs[i] for refs in references] for i in range(counts.pop())]
    bleu = lib.corpus_bleu(
        predictions,
        streams,
        smooth_method=smooth_method,
        smooth_value=smooth_value,
        force=force,
        lowercase=lowercase,
        use_effective_order=use_effective_order,
        **({"tokenize": tokenize} if tokenize else {}),
    )
    return {
        "score": bleu.score,
        "counts": bleu.counts,
        "totals": bleu.totals,
        "precisions": bleu.precisions,
        "bp": bleu.bp,
        "sys_len": bleu.sys_len,
        "ref_len": bleu.ref_len,
    }


def rouge(
    predictions: list[str],
    references: list[str],
    rouge_types: Sequence[str] | None = None,
    use_aggregator: bool = True,
    use_stemmer: bool = False,
) -> dict[str, Any]:
    """ROUGE F/P/R; aggregated as rouge_score's bootstrap AggregateScore(low, mid, high) by default.

    rougeLsum splits summaries into sentences on newlines (join sentences with "\\n" first).
    """
    scoring = _need("rouge_score.scoring", "rouge-score")
    scorer_module = _need("rouge_score.rouge_scorer", "rouge-score")
    rouge_types = list(rouge_types or ["rouge1", "rouge2", "rougeL", "rougeLsum"])
    scorer = scorer_module.RougeScorer(rouge_types=rouge_types, use_stemmer=use_stemmer)
    aggregator = scoring.BootstrapAggregator() if use_aggregator else None
    scores = []
    for ref, pred in zip(references, predictions):
        score = scorer.score(ref, pred)
        if aggregator is not None:
            aggregator.add_scores(score)
        else:
            scores.append(score)
    if aggregator is not None:
        return aggregator.aggregate()
    return {t: [s[t] for s in scores] for t in rouge_types}


def perplexity(eval_loss: float) -> float:
    """exp(mean cross-entropy), the course's language-model metric (``math.exp(eval_loss)``)."""
    return math.exp(eval_loss)


# --- the load_metric entry point ----------------------------------------------------------------------
class Metric:
    """``compute(predictions=, references=, **kwargs)``; ``add_batch`` collects across batches first."""

    def __init__(self, name: str, fn: Callable[..., dict], config_name: str | None = None) -> None:
        self.name, self.config_name, self._fn = name, config_name, fn
        self._predictions: list[Any] = []
        self._references: list[Any] = []

    def add_batch(self, predictions: Sequence, references: Sequence) -> None:
        self._predictions += list(predictions)
        self._references += list(references)

    def add(self, prediction: Any, reference: Any) -> None:
        self._predictions.append(prediction)
        self._references.append(reference)

    def compute(self, predictions: Sequence | None = None, references: Sequence | None = None, **kwargs) -> dict:
        if predictions is None and references is None:
            predictions, references = self._predictions, self._references
            self._predictions, self._references = [], []
        if predictions is None or references is None:
            raise ValueError(f"{self.name}.compute needs both predictions= and references=")
        if len(predictions) != len(references):
            raise ValueError(f"{self.name}: {len(predictions)} predictions but {len(references)} references")
        predictions = predictions.tolist() if hasattr(predictions, "tolist") else list(predictions)
        references = references.tolist() if hasattr(references, "tolist") else list(references)
        return self._fn(predictions=predictions, references=references, **kwargs)

    def __repr__(self) -> str:
        return f"Metric(name={self.name!r}, config_name={self.config_name!r})"


_METRICS: dict[str, Callable[..., dict]] = {
    "accuracy": accuracy,
    "f1": f1,
    "matthews_correlation": matthews_correlation,
    "mcc": matthews_correlation,
    "pearsonr": pearson_spearman,
    "spearmanr": pearson_spearman,
    "seqeval": seqeval,
    "squad": squad,
    "squad_v2": squad_v2,
    "sacrebleu": sacrebleu,
    "rouge": rouge,
}


def load_metric(path: str, config_name: str | None = None, **_: Any) -> Metric:
    """The course's ``load_metric`` names, local paths such as './dataset/metrics/squad.py' included."""
    name = re.sub(r"\.py$", "", str(path).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1])
    if name == "glue":
        if config_name is None:
            raise ValueError(f"load_metric('glue', task) needs the task name: one of {GLUE_CONFIGS}")
        return Metric("glue", glue(config_name), config_name)
    if name not in _METRICS:
        raise KeyError(f"unknown metric {path!r}; available: glue, {', '.join(sorted(_METRICS))}")
    return Metric(name, _METRICS[name], config_name)


def list_metrics() -> list[str]:
    return ["glue", *sorted(_METRICS)]
