"""``pipeline(task, model=folder)``: tokenizer -> model -> readable answers, offline.

``SUPPORTED_TASKS`` is the table behind the factory: per task the pipeline class, the Auto table
that builds its model, and the checkpoint transformers would download by default (here only looked
up in a local Hugging Face cache; nothing is downloaded). Call shapes and outputs follow
transformers 5.24, and 4.57 for the tasks 5.x dropped (question answering, text2text).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Any

from .base import Pipeline, resolve_device


@dataclass(frozen=True)
class Task:
    pipeline: str  # "module:Class" under clearformer.pipelines, imported on use
    auto: str  # the MODEL_MAPPINGS table (models/auto.py) whose classes serve this task
    default_model: tuple[str, ...]  # transformers' default checkpoint ids (5.x, then 4.x name), local cache only
    needs: str  # what kind of model, in words, for error messages


_SEQ2SEQ = "an encoder-decoder model (Marian, T5)"
SUPPORTED_TASKS: dict[str, Task] = {
    "text-classification": Task(
        "text_classification:TextClassificationPipeline",
        "sequence_classification",
        (
            "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
            "distilbert-base-uncased-finetuned-sst-2-english",
        ),
        "a sequence-classification model",
    ),
    "token-classification": Task(
        "token_classification:TokenClassificationPipeline",
        "token_classification",
        ("dbmdz/bert-large-cased-finetuned-conll03-english",),
        "a token-classification model",
    ),
    "question-answering": Task(
        "question_answering:QuestionAnsweringPipeline",
        "question_answering",
        ("distilbert/distilbert-base-cased-distilled-squad", "distilbert-base-cased-distilled-squad"),
        "a question-answering model",
    ),
    "fill-mask": Task(
        "fill_mask:FillMaskPipeline",
        "masked_lm",
        ("distilbert/distilroberta-base", "distilroberta-base"),
        "a masked-LM model",
    ),
    "feature-extraction": Task(
        "feature_extraction:FeatureExtractionPipeline",
        "base",
        ("distilbert/distilbert-base-cased", "distilbert-base-cased"),
        "a base encoder model",
    ),
    "zero-shot-classification": Task(
        "zero_shot_classification:ZeroShotClassificationPipeline",
        "sequence_classification",
        ("facebook/bart-large-mnli",),
        "a sequence-classification model trained on NLI (with an 'entailment' label)",
    ),
    "text-generation": Task(
        "text_generation:TextGenerationPipeline", "causal_lm", ("openai-community/gpt2", "gpt2"), "a causal-LM model"
    ),
    "text2text-generation": Task(
        "text2text_generation:Text2TextGenerationPipeline", "seq2seq_lm", ("google-t5/t5-base", "t5-base"), _SEQ2SEQ
    ),
    "summarization": Task(
        "text2text_generation:SummarizationPipeline", "seq2seq_lm", ("sshleifer/distilbart-cnn-12-6",), _SEQ2SEQ
    ),
    "translation": Task(
        "text2text_generation:TranslationPipeline", "seq2seq_lm", ("google-t5/t5-base", "t5-base"), _SEQ2SEQ
    ),
}
TASK_ALIASES = {"sentiment-analysis": "text-classification", "ner": "token-classification"}

# a config.json architecture suffix -> the task, for pipeline(model=folder) without a task
_ARCHITECTURE_TASKS = {
    "ForSequenceClassification": "text-classification",
    "ForTokenClassification": "token-classification",
    "ForQuestionAnswering": "question-answering",
    "ForMaskedLM": "fill-mask",
    "LMHeadModel": "text-generation",
    "ForCausalLM": "text-generation",
    "ForConditionalGeneration": "text2text-generation",
    "Model": "feature-extraction",
}


def check_task(task: str) -> tuple[str, Task]:
    """Canonical task name (aliases resolved, ``translation_xx_to_yy`` kept) and its table row."""
    if not isinstance(task, str):
        raise TypeError(f"task must be a string such as 'ner', got {task!r}")
    name = TASK_ALIASES.get(task, task)
    if name in SUPPORTED_TASKS:
        return name, SUPPORTED_TASKS[name]
    parts = name.split("_")
    if len(parts) == 4 and parts[0] == "translation" and parts[2] == "to":
        return name, SUPPORTED_TASKS["translation"]
    known = sorted([*SUPPORTED_TASKS, *TASK_ALIASES, "translation_XX_to_YY"])
    raise ValueError(f"unknown task {task!r}; clearformer's pipelines are: {', '.join(known)}")


def pipeline(
    task: str | None = None,
    model: Any = None,
    tokenizer: Any = None,
    device: int | str | Any = None,
    batch_size: int | None = None,
    use_fast: bool | None = None,
    model_kwargs: dict | None = None,
    dtype: Any = None,
    backend: str | None = None,
    **kwargs: Any,
) -> Pipeline:
    """Build the pipeline for ``task`` from a local model folder (or a loaded model object).

    ``tokenizer`` defaults to the model's folder; ``device`` is -1/"cpu", a CUDA index, a string
    or a torch.device; ``batch_size`` batches inputs (results do not depend on it); other keyword
    arguments are the task's options (``aggregation_strategy="simple"``, ``top_k=3``...).
    ``backend="tokenizers"`` loads the tokenizer on the `tokenizers` package (same results);
    ``use_fast`` is accepted and ignored, as in transformers 5.24.
    """
    kwargs.pop("framework", None)  # transformers' old "pt"/"tf" switch; torch is the only one here
    dtype = kwargs.pop("torch_dtype", dtype)  # the course's 4.x name
    if task is None:
        if model is None:
            raise ValueError("pipeline() needs a task (e.g. 'sentiment-analysis') or a model folder to infer it from")
        task = _infer_task(model)
    name, spec = check_task(task)
    folder = None
    if model is None:
        folder = _default_folder(name, spec)
    elif isinstance(model, (str, os.PathLike)):
        from ..hub import resolve_pretrained_dir

        folder = resolve_pretrained_dir(model)
    if folder is not None:
        load = {**(model_kwargs or {}), **({"dtype": dtype} if dtype is not None else {})}
        model = _load_model(spec, folder, name, load)
    elif model_kwargs or dtype is not None:
        raise ValueError("model_kwargs/dtype only apply when the model is loaded from a folder; it is already built")
    _check_model(model, spec, name)
    tokenizer = _load_tokenizer(tokenizer, model, folder, backend)
    module, cls = spec.pipeline.split(":")
    pipeline_class = getattr(importlib.import_module(f"{__name__}.{module}"), cls)
    return pipeline_class(model=model, tokenizer=tokenizer, device=device, batch_size=batch_size, task=name, **kwargs)


def _default_folder(task: str, spec: Task):
    from ..hub import resolve_pretrained_dir

    misses = []
    for name in spec.default_model:
        try:
            return resolve_pretrained_dir(name)
        except OSError as err:
            misses.append(str(err))
    raise OSError(
        f"pipeline({task!r}) was given no model, and clearformer never downloads one. Pass "
        f"model='path/to/folder' (a folder with config.json, the weights and the tokenizer files of "
        f"{spec.needs}). transformers' default for this task, {spec.default_model[0]!r}, is not in a local "
        f"Hugging Face cache either. {' '.join(misses)}"
    )


def _load_model(spec: Task, folder, task: str, model_kwargs: dict):
    from ..models.auto import MODEL_MAPPINGS, _AutoModel

    if not MODEL_MAPPINGS.get(spec.auto):
        raise ValueError(
            f"the {task} pipeline needs {spec.needs}, and no such model family is in clearformer yet "
            f"(AutoModel table {spec.auto!r} is empty); pass a loaded model object if you have one"
        )
    auto = type("_PipelineAuto", (_AutoModel,), {"task": spec.auto})
    # A head checkpoint (masked LM) without a pooler loads with a freshly initialised one, reported
    # as transformers does; feature-extraction returns hidden states and never uses it.
    model = auto.from_pretrained(folder, **model_kwargs)
    return model[0] if isinstance(model, tuple) else model


def _check_model(model: Any, spec: Task, task: str) -> None:
    import torch

    from ..models.auto import MODEL_MAPPINGS

    if not isinstance(model, torch.nn.Module) or not hasattr(model, "config"):
        raise TypeError(f"model must be a folder path or a loaded clearformer model, got {type(model).__name__}")
    table = MODEL_MAPPINGS.get(spec.auto, {})
    names = {p.__name__ if isinstance(p, type) else p.split(":")[1] for p in table.values()}
    if names and type(model).__name__ not in names:
        raise TypeError(
            f"the {task} pipeline needs {spec.needs}; {type(model).__name__} is not one "
            f"(supported: {', '.join(sorted(names))})"
        )


def _load_tokenizer(tokenizer: Any, model: Any, folder, backend: str | None) -> Any:
    from ..tokenization import AutoTokenizer

    if tokenizer is None:
        source = folder if folder is not None else getattr(model.config, "name_or_path", "") or None
        if source is None or not os.path.isdir(source):
            raise ValueError(
                "no tokenizer given and the model was not loaded from a folder; pass tokenizer=folder or a "
                "tokenizer object"
            )
        tokenizer = source
    if isinstance(tokenizer, (str, os.PathLike)):
        return AutoTokenizer.from_pretrained(tokenizer, backend=backend)
    if isinstance(tokenizer, tuple):  # transformers' (name, {kwargs}) form
        path, options = tokenizer
        return AutoTokenizer.from_pretrained(path, **{"backend": backend, **options})
    if backend is not None:
        raise ValueError(
            f"backend={backend!r} chooses how a tokenizer is loaded, but tokenizer= is an already built "
            f"{type(tokenizer).__name__}; pass the tokenizer's folder instead, or load it with "
            f"from_pretrained(folder, backend={backend!r})"
        )
    return tokenizer


def _infer_task(model: Any) -> str:
    if isinstance(model, (str, os.PathLike)):
        from ..models.auto import AutoConfig

        architectures = AutoConfig.from_pretrained(model).architectures or []
    else:
        architectures = [type(model).__name__]
    for arch in architectures:
        for suffix, task in _ARCHITECTURE_TASKS.items():
            if arch.endswith(suffix):
                return task
    raise ValueError(
        f"cannot tell the task from the model's architectures {architectures}; pass it: pipeline('ner', model=...)"
    )


def __getattr__(name: str) -> Any:
    # the task classes, importable as clearformer.pipelines.TokenClassificationPipeline
    if name == "NerPipeline":  # transformers' other name for it
        name = "TokenClassificationPipeline"
    for spec in SUPPORTED_TASKS.values():
        module, cls = spec.pipeline.split(":")
        if cls == name:
            return getattr(importlib.import_module(f"{__name__}.{module}"), cls)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SUPPORTED_TASKS", "TASK_ALIASES", "Pipeline", "Task", "check_task", "pipeline", "resolve_device"]
