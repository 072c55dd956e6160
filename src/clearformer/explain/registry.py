"""The table of explain topics and the code that runs, prints and saves them.

Each row names a module of this package (``embedding-sum`` -> ``embedding_sum.py``) with the
handbook question it answers and an English and Chinese title. A module has ``run(**kw) -> dict``
(numbers; keys starting with ``_`` hold arrays for pictures and are not printed) and optionally
``plot(result, out) -> list[Path]``.
"""

from __future__ import annotations

import html
import importlib
import inspect
import json
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .resources import MissingResource


@dataclass(frozen=True)
class Topic:
    name: str
    question: str
    title: str
    title_zh: str
    source: str  # where the course or handbook asks it
    needs: str = ""  # "" | "model" | "model+data": what must be installed for the topic to run

    @property
    def module(self) -> ModuleType:
        return importlib.import_module(f"{__package__}.{self.name.replace('-', '_')}")


TOPICS: dict[str, Topic] = {
    t.name: t
    for t in [
        Topic(
            "embedding-sum",
            "Why may BERT add token, position and segment embeddings instead of concatenating?",
            "Summing embeddings is one linear layer",
            "三种嵌入相加等价于一个线性层",
            "HB-29 Q1",
        ),
        Topic(
            "cls-pooling",
            "Why does [CLS] stand for the sentence, and is mean pooling better?",
            "[CLS] vs mean pooling as sentence features",
            "[CLS] 与平均池化作为句子特征",
            "HB-29 Q2, HB-28 Q16",
            "model+data",
        ),
        Topic(
            "attention-scale",
            "Why divide the attention logits by sqrt(d)?",
            "Softmax saturation without 1/sqrt(d)",
            "为什么要除以 sqrt(d)",
            "HB-29 Q3, 2.5 quiz",
        ),
        Topic(
            "positional-encoding",
            "What do P[:, :, 0::2] = sin, P[:, :, 1::2] = cos and X + P[:, :X.shape[1], :] do?",
            "Sinusoidal positional encoding, line by line",
            "正弦位置编码逐行解释",
            "HB-29 Q4, 2.2.2",
        ),
        Topic(
            "qkv-projections",
            "Why project X into Q, K and V instead of using X itself?",
            "Q = K = V = X vs learned projections",
            "为什么要把 X 投影成 Q/K/V",
            "HB-29 Q6",
            "model",
        ),
        Topic(
            "multi-head",
            "Why several heads, and is 12 x 64 the same as one 768 head?",
            "What multiple heads buy",
            "多头注意力的作用",
            "HB-29 Q5, HB-28 Q4/Q8",
            "model",
        ),
        Topic(
            "linear",
            "What does nn.Linear compute, and on which dimension?",
            "nn.Linear: y = x W^T + b",
            "nn.Linear 计算了什么",
            "HB-29 Q7",
        ),
        Topic(
            "encoder-only",
            "Why is BERT encoder-only, and why does masked LM need both sides?",
            "Bidirectional vs causal masks",
            "双向与单向（因果）掩码",
            "HB-29 Q8, HB-28 Q1/Q13",
        ),
        Topic(
            "dropout-and-layernorm",
            "Where exactly are the Dropout and LayerNorm layers in BERT?",
            "Every Dropout and LayerNorm in BERT",
            "BERT 中所有的 Dropout 与 LayerNorm",
            "HB-28 Q2, 3.1",
        ),
        Topic(
            "residual",
            "What do residual connections do for a deep stack?",
            "Residual connections keep gradients alive",
            "残差连接让梯度传得下去",
            "HB-28 Q12, 2.5 quiz",
        ),
        Topic(
            "relative-position",
            "How do relative positions (BERT relative_key, T5 buckets) encode direction?",
            "Relative position: distances and buckets",
            "相对位置：距离嵌入与 T5 分桶",
            "3.1, 4.7 (T5)",
        ),
        Topic(
            "cross-attention",
            "Why is Q [64,12,300] but K/V [64,10,300], and what comes out?",
            "Cross-attention shapes, step by step",
            "交叉注意力的形状逐步解析",
            "HB-28 Q11, Q7, 2.2",
        ),
        Topic(
            "heads-divide",
            "Why must num_heads divide the hidden size?",
            "Heads must divide the width",
            "头数必须整除隐藏维度",
            "HB-28 Q4",
        ),
        Topic(
            "split-heads",
            "What do view and permute(0, 2, 1, 3) do to the tensor?",
            "Splitting and merging heads",
            "多头的拆分与合并",
            "HB-28 Q9",
        ),
        Topic(
            "contextual-embeddings",
            "What is the difference between an embedding and a contextual embedding?",
            "Static vs contextual vectors",
            "静态词向量与上下文向量",
            "HB-28 (embedding vs contextual embedding)",
            "model",
        ),
        Topic(
            "auto-resolution",
            "How does AutoModelForQuestionAnswering pick BertForQuestionAnswering?",
            "How an Auto class resolves",
            "Auto 类如何选择模型类",
            "HB-28 Q17",
        ),
        Topic(
            "tokenizer-chain",
            "What does tokenizer(text) actually run?",
            "The tokenizer call chain",
            "tokenizer(text) 的调用链",
            "HB-28 Q18",
            "model",
        ),
        Topic(
            "vocab-size-error",
            "Why does the embedding raise an index error, and how do I prevent it?",
            "The vocabulary-size index error",
            "词表大小导致的索引错误",
            "HB-28 Q26",
        ),
        Topic(
            "kv-cache",
            "Why can GPT-2 reuse past keys and values?",
            "KV cache: cached equals recomputed",
            "KV 缓存：缓存结果等于重新计算",
            "HB-28 Q27, 2.4",
        ),
        Topic(
            "attention-map",
            "What do the attention heads of a real model look at?",
            "Attention maps of a real model",
            "真实模型的注意力图",
            "2.3, 3.1",
            "model",
        ),
    ]
}


class UnknownTopic(ValueError):
    pass


def get_topic(name: str) -> Topic:
    if name not in TOPICS:
        raise UnknownTopic(f"unknown topic {name!r}; known topics: {', '.join(TOPICS)}")
    return TOPICS[name]


def run_topic(name: str, out: str | Path | None = None, model: str | Path | None = None) -> dict[str, Any]:
    """Run one topic; with ``out`` also write its pictures, ``<name>.json`` and ``<name>.txt``."""
    topic = get_topic(name)
    module = topic.module
    kwargs = {"model": model} if model is not None and "model" in inspect.signature(module.run).parameters else {}
    start = time.perf_counter()
    result = module.run(**kwargs)
    result["seconds"] = round(time.perf_counter() - start, 3)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        files = []
        if hasattr(module, "plot"):
            try:
                files = [p.name for p in module.plot(result, out)]
            except MissingResource as err:  # matplotlib absent: keep the numbers, say how to get pictures
                result["pictures"] = f"not drawn: {err}"
        result["files"] = files
        (out / f"{name}.json").write_text(json.dumps(public(result), indent=1, ensure_ascii=False, default=str))
        (out / f"{name}.txt").write_text(format_result(name, result), encoding="utf-8")
    return result


def public(result: dict) -> dict:
    """The result without its private (``_``) entries, as printed and saved."""
    return {k: v for k, v in result.items() if not k.startswith("_")}


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _lines(value: Any, indent: str) -> list[str]:
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            if isinstance(v, dict) or (isinstance(v, list) and v and isinstance(v[0], (dict, list))):
                out.append(f"{indent}{k}:")
                out += _lines(v, indent + "  ")
            else:
                out.append(f"{indent}{k}: {_fmt(v)}")
        return out
    if isinstance(value, list):
        out = []
        for v in value:
            if isinstance(v, dict):
                out.append(f"{indent}- " + ", ".join(f"{k}={_fmt(x)}" for k, x in v.items()))
            else:
                out.append(f"{indent}- {_fmt(v)}")
        return out
    return [f"{indent}{_fmt(value)}"]


def format_result(name: str, result: dict) -> str:
    """A topic's numbers as readable text: title, question, every public key, the takeaway last."""
    topic = get_topic(name)
    body = {k: v for k, v in public(result).items() if k not in ("takeaway", "files", "seconds")}
    lines = [f"== {topic.name}: {topic.title} / {topic.title_zh}", f"Q ({topic.source}): {topic.question}", ""]
    lines += _lines(body, "  ")
    if result.get("takeaway"):
        lines += ["", "=> " + result["takeaway"]]
    if result.get("files"):
        lines.append("pictures: " + ", ".join(result["files"]))
    return "\n".join(lines) + "\n"


def run_all(out: str | Path, model: str | Path | None = None, log=None) -> list[dict[str, Any]]:
    """Run every topic into ``out`` and write ``out/index.html``; a topic whose weights, data or
    package is missing is listed with the message instead of stopping the others."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in TOPICS:
        try:
            result = run_topic(name, out, model)
            rows.append({"name": name, "ok": True, "result": result})
            if log:
                log(format_result(name, result))
        except MissingResource as err:
            rows.append({"name": name, "ok": False, "error": str(err)})
            if log:
                log(f"== {name}: skipped: {err}\n")
    (out / "index.html").write_text(_index_html(rows), encoding="utf-8")
    return rows


def _index_html(rows: list[dict]) -> str:
    parts = []
    for row in rows:
        topic = TOPICS[row["name"]]
        head = (
            f'<section id="{topic.name}"><h2>{html.escape(topic.name)}: {html.escape(topic.title)}'
            f" / {html.escape(topic.title_zh)}</h2><p class=q>{html.escape(topic.question)} "
            f"<small>({html.escape(topic.source)})</small></p>"
        )
        if not row["ok"]:
            parts.append(head + f"<p class=skip>skipped: {html.escape(row['error'])}</p></section>")
            continue
        result = row["result"]
        text = html.escape(format_result(topic.name, result))
        media = []
        for f in result.get("files", []):
            if f.endswith(".png"):
                media.append(f'<a href="{f}"><img src="{f}" alt="{html.escape(f)}"></a>')
            else:
                media.append(f'<p><a href="{f}">{html.escape(f)}</a></p>')
        parts.append(
            head + f"<pre>{text}</pre>{''.join(media)}"
            f'<p><a href="{topic.name}.json">{topic.name}.json</a> · {result["seconds"]} s</p></section>'
        )
    toc = "".join(f'<li><a href="#{n}">{n}</a> — {html.escape(TOPICS[n].title_zh)}</li>' for n in TOPICS)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>clearformer explain</title><style>"
        "body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}pre{background:#f4f4f4;white-space:pre-wrap;"
        "padding:.6em;overflow:auto;font-size:12px}img{max-width:100%;border:1px solid #ddd;margin:.3em 0}"
        ".skip{color:#a00}.q{font-style:italic}</style></head><body><h1>clearformer explain — "
        "the handbook made executable / 答疑手册可运行版</h1><ol>" + toc + "</ol>" + "".join(parts) + "</body></html>\n"
    )
