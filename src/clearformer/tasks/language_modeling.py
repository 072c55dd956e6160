"""Language modelling (course chapter 4.5) on WikiText-2: causal LM blocks and masked LM (80/10/10).

``group_texts`` concatenates the tokenized lines and cuts them into ``block_size`` blocks (labels =
inputs; the model shifts them for causal LM). The course drops the last partial block; here it is
counted and, with ``drop_last=False``, kept as a shorter block. Perplexity = exp(eval loss).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from ..data.collators import DataCollatorForLanguageModeling, default_data_collator
from .spec import TaskSpec, check_columns, register_task


def tokenize_lines(tokenizer, text_column: str = "text") -> Callable[[dict], dict]:
    """Batched map function: tokenize each line without truncation (blocks come later)."""

    def preprocess(examples: dict) -> dict:
        check_columns(examples, (text_column,), "language modelling")
        return tokenizer(examples[text_column])

    return preprocess


def group_texts(block_size: int = 128, drop_last: bool = True, with_labels: bool = True) -> Callable[[dict], dict]:
    """Batched map function: concatenate every column, cut into ``block_size`` pieces; ``labels`` copy
    ``input_ids`` when ``with_labels`` (causal LM; the masked-LM collator makes its own)."""
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")

    def group(examples: dict) -> dict:
        joined = {k: [t for row in v for t in row] for k, v in examples.items() if isinstance(v[0], list)}
        total = len(next(iter(joined.values()))) if joined else 0
        end = total - total % block_size if drop_last else total
        blocks = {k: [v[i : i + block_size] for i in range(0, end, block_size)] for k, v in joined.items()}
        if with_labels:
            blocks["labels"] = [list(b) for b in blocks["input_ids"]]
        return blocks

    return group


def lm_preprocess(
    tokenizer, block_size: int = 128, drop_last: bool = True, mlm: bool = False
) -> Callable[[dict], dict]:
    """Tokenize then group in one batched map (the batch is the grouping unit, as with ``map(batched=True)``)."""
    tokenize, group = tokenize_lines(tokenizer), group_texts(block_size, drop_last, with_labels=not mlm)

    def preprocess(examples: dict) -> dict:
        encoded = dict(tokenize(examples))
        if mlm:
            # the collator must not mask [CLS]/[SEP] that sit inside a block
            encoded["special_tokens_mask"] = [
                tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True) for ids in encoded["input_ids"]
            ]
        return group(encoded)

    return preprocess


def masked_lm_collator(tokenizer, mlm_probability: float = 0.15, seed: int | None = None):
    """The course's ``DataCollatorForLanguageModeling(mlm_probability=0.15)``: 80% [MASK], 10% random, 10% kept."""
    return DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=mlm_probability, seed=seed)


def perplexity(eval_loss: float) -> float:
    return math.exp(eval_loss)


def predicted_tokens(labels, causal: bool) -> int:
    """How many tokens a batch's loss averages over: labels != -100, after the one-token shift for causal LM."""
    labels = labels[:, 1:] if causal else labels
    return int((labels != -100).sum())


def evaluate_lm(model, loader, causal: bool, seed: int | None = 0) -> dict[str, float]:
    """``eval_loss`` = mean loss per predicted token over ``loader`` (each batch's mean loss weighted by
    its predicted tokens) and ``eval_perplexity`` = exp of it, keeping no logits (a WikiText-2 test
    pass with GPT-2's 50,257-token vocabulary would hold ~57 GB of them). ``seed`` fixes the masks
    that a masked-LM collator draws from torch's global generator, so every model sees the same ones."""
    import torch

    if seed is not None:
        torch.manual_seed(seed)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    total, tokens = 0.0, 0
    with torch.no_grad():
        for batch in loader:
            batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
            n = predicted_tokens(batch["labels"], causal)
            if n:
                total += model(**batch)["loss"].item() * n
                tokens += n
    model.train(was_training)
    loss = total / max(1, tokens)
    return {"eval_loss": loss, "eval_perplexity": perplexity(loss), "eval_tokens": tokens}


def load_wikitext(folder: str | Path):
    """WikiText-2 raw has no train split here: train on wiki.valid.raw, evaluate on wiki.test.raw."""
    from ..data.loaders import load_text

    folder = Path(folder)
    data = load_text({"train": folder / "wiki.valid.raw", "validation": folder / "wiki.test.raw"})
    return data.filter(lambda row: bool(row["text"].strip()))


LM_TRAINING = {
    "learning_rate": 2e-5,
    "per_device_train_batch_size": 8,
    "per_device_eval_batch_size": 8,
    "num_train_epochs": 3,
    "weight_decay": 0.01,
}

register_task(
    TaskSpec(
        name="wikitext-clm",
        family="language_modeling",
        auto_model="AutoModelForCausalLM",
        load=load_wikitext,
        preprocess=lm_preprocess,
        collator=lambda tokenizer: default_data_collator,
        compute_metrics=None,
        metric="perplexity",
        preprocess_defaults={"block_size": 128},
        training_defaults=dict(LM_TRAINING),
        description="WikiText-2 causal LM in 128-token blocks; perplexity = exp(eval_loss)",
    )
)


def masked_lm_task(name: str, load: Callable, description: str) -> TaskSpec:
    """A masked-LM task over any text loader (``load(folder)`` -> splits with a "text" column)."""
    return TaskSpec(
        name=name,
        family="language_modeling",
        auto_model="AutoModelForMaskedLM",
        load=load,
        preprocess=lambda tokenizer, **kw: lm_preprocess(tokenizer, mlm=True, **kw),
        collator=masked_lm_collator,
        compute_metrics=None,
        metric="perplexity",
        preprocess_defaults={"block_size": 128},
        training_defaults=dict(LM_TRAINING),
        description=description,
    )


register_task(
    masked_lm_task("wikitext-mlm", load_wikitext, "WikiText-2 masked LM (15%, 80/10/10); perplexity = exp(eval_loss)")
)
