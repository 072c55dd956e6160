"""Notebook 4.5 (生成任务-语言模型) walked on clearformer: causal LM with a distilgpt2-like model,
then masked LM with a distilroberta-like one, on WikiText-2 raw.

Changed from the notebook: the import line, local paths (the notebook's own
``load_dataset("text", data_files=...)`` cell on the first lines of wiki.valid.raw / wiki.test.raw,
as ../shared/data has no train split), ``num_proc=2`` instead of 4, and training cut to a handful
of blocks for one epoch. Expected numbers come from transformers 5.24 on the same folders.
"""

from __future__ import annotations

import math

import pytest
import torch

from clearformer import (
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoTokenizer,
    DataCollatorForLanguageModeling,
    Trainer,
    TrainingArguments,
    load_dataset,
)
from tests.course._fixtures_generation import distilgpt2_checkpoint, distilroberta_checkpoint

N_LINES = 100
block_size = 128  # the notebook's value ("# block_size = tokenizer.model_max_length" is commented out)


@pytest.fixture(scope="module")
def raw_files(shared_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("wikitext")
    files = {}
    for split, name in (("train", "wiki.valid.raw"), ("validation", "wiki.test.raw")):
        with open(shared_data / "wikitext-2-raw" / name, encoding="utf-8") as f:
            lines = [next(f) for _ in range(N_LINES)]
        (folder / name).write_text("".join(lines), encoding="utf-8")
        files[split] = str(folder / name)
    return files


@pytest.fixture(scope="module")
def datasets(raw_files):
    return load_dataset("text", data_files={"train": raw_files["train"], "validation": raw_files["validation"]})


@pytest.fixture(scope="module")
def clm_checkpoint(tmp_path_factory):
    return distilgpt2_checkpoint(tmp_path_factory.mktemp("distilgpt2"))


@pytest.fixture(scope="module")
def mlm_checkpoint(tmp_path_factory):
    return distilroberta_checkpoint(tmp_path_factory.mktemp("distilroberta"))


def group_texts(examples):
    # The notebook's grouping: concatenate the batch, drop the remainder, cut into block_size pieces.
    concatenated = {k: sum(examples[k], []) for k in examples}
    total_length = len(concatenated[list(examples.keys())[0]])
    total_length = (total_length // block_size) * block_size
    result = {k: [t[i : i + block_size] for i in range(0, total_length, block_size)] for k, t in concatenated.items()}
    result["labels"] = result["input_ids"].copy()
    return result


def _tokenize_and_group(datasets, tokenizer):
    def tokenize_function(examples):
        return tokenizer(examples["text"])

    tokenized_datasets = datasets.map(tokenize_function, batched=True, num_proc=2, remove_columns=["text"])
    lm_datasets = tokenized_datasets.map(group_texts, batched=True, batch_size=1000, num_proc=2)
    return tokenized_datasets, lm_datasets


def _expected_blocks(oracle, texts: list[str]) -> list[list[int]]:
    """datasets' num_proc=2 splits the rows into two contiguous halves; each half is grouped alone."""
    half = (len(texts) + 1) // 2
    blocks = []
    for shard in (texts[:half], texts[half:]):
        ids = sum(oracle(shard)["input_ids"], [])
        blocks += [ids[i : i + block_size] for i in range(0, len(ids) // block_size * block_size, block_size)]
    return blocks


def test_text_files_load_one_row_per_line(datasets, raw_files):
    with open(raw_files["train"], encoding="utf-8") as f:
        lines = f.read().split("\n")
    assert datasets["train"].column_names == ["text"]
    assert datasets["train"][10] == {"text": lines[10]}
    assert datasets["train"][1]["text"] == " = Homarus gammarus = "


@pytest.fixture(scope="module")
def clm(datasets, clm_checkpoint):
    tokenizer = AutoTokenizer.from_pretrained(clm_checkpoint, use_fast=True)
    tokenized_datasets, lm_datasets = _tokenize_and_group(datasets, tokenizer)
    return tokenizer, tokenized_datasets, lm_datasets


def test_clm_tokenize_map_and_group_texts_match_reference(clm, datasets, clm_checkpoint):
    transformers = pytest.importorskip("transformers")
    oracle = transformers.AutoTokenizer.from_pretrained(clm_checkpoint)
    tokenizer, tokenized_datasets, lm_datasets = clm
    texts = datasets["train"]["text"]
    assert tokenized_datasets["train"][1] == dict(oracle(texts[1]))
    want = _expected_blocks(oracle, texts)
    got = lm_datasets["train"]["input_ids"]
    assert len(got) == len(want) and got == want
    assert all(len(b) == block_size for b in got)
    assert lm_datasets["train"]["labels"] == got
    assert tokenizer.decode(lm_datasets["train"][1]["input_ids"]) == oracle.decode(want[1])


def test_clm_trains_and_reports_perplexity_with_the_notebooks_arguments(clm, clm_checkpoint, tmp_path):
    transformers = pytest.importorskip("transformers")
    _, _, lm_datasets = clm
    model = AutoModelForCausalLM.from_pretrained(clm_checkpoint)
    training_args = TrainingArguments(
        str(tmp_path / "test-clm"),
        evaluation_strategy="epoch",
        learning_rate=2e-5,
        weight_decay=0.01,
        num_train_epochs=1,  # shortened: one epoch over 16 blocks
        report_to="none",
    )
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=lm_datasets["train"][:16],
        eval_dataset=lm_datasets["validation"][:8],
    )
    before = trainer.evaluate()
    # Untrained, the eval loss is the reference model's loss on the same 8 blocks (one batch of 8).
    ref = transformers.AutoModelForCausalLM.from_pretrained(clm_checkpoint).eval()
    ids = torch.tensor(lm_datasets["validation"]["input_ids"][:8])
    with torch.no_grad():
        ref_loss = ref(input_ids=ids, labels=ids).loss.item()
    assert before["eval_loss"] == pytest.approx(ref_loss, rel=1e-4)
    trainer.train()
    eval_results = trainer.evaluate()
    perplexity = math.exp(eval_results["eval_loss"])
    assert math.isfinite(perplexity) and perplexity < math.exp(before["eval_loss"])
    assert eval_results["epoch"] == pytest.approx(1.0)


@pytest.fixture(scope="module")
def mlm(datasets, mlm_checkpoint):
    tokenizer = AutoTokenizer.from_pretrained(mlm_checkpoint, use_fast=True)
    _, lm_datasets = _tokenize_and_group(datasets, tokenizer)
    return tokenizer, lm_datasets


def test_mlm_collator_masks_about_fifteen_percent_and_labels_only_masked_positions(mlm):
    tokenizer, lm_datasets = mlm
    data_collator = DataCollatorForLanguageModeling(tokenizer=tokenizer, mlm_probability=0.15)
    features = [{k: v for k, v in lm_datasets["train"][i].items()} for i in range(8)]
    torch.manual_seed(0)
    batch = data_collator(features)
    original = torch.tensor([f["input_ids"] for f in features])
    assert batch["input_ids"].shape == original.shape == (8, block_size)
    chosen = batch["labels"] != -100
    assert 0.10 < chosen.float().mean().item() < 0.20
    assert torch.equal(batch["labels"][chosen], original[chosen])
    assert torch.equal(batch["input_ids"][~chosen], original[~chosen])
    masked = batch["input_ids"] == tokenizer.mask_token_id
    assert bool((masked <= chosen).all()) and 0.6 < masked.sum().item() / chosen.sum().item() < 0.95


def test_mlm_trains_and_reports_perplexity(mlm, mlm_checkpoint, tmp_path):
    tokenizer, lm_datasets = mlm
    model = AutoModelForMaskedLM.from_pretrained(mlm_checkpoint)
    training_args = TrainingArguments(
        str(tmp_path / "test-clm"),
        evaluation_strategy="epoch",
        learning_rate=2e-5,
        weight_decay=0.01,
        num_train_epochs=1,
        report_to="none",
    )
    data_collator = DataCollatorForLanguageModeling(tokenizer=tokenizer, mlm_probability=0.15)
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=lm_datasets["train"][:16],
        eval_dataset=lm_datasets["validation"][:8],
        data_collator=data_collator,
    )
    out = trainer.train()
    assert out.global_step == 2
    eval_results = trainer.evaluate()
    perplexity = math.exp(eval_results["eval_loss"])
    # Random weights over a 50,265-token vocabulary: the loss sits near log(vocab size).
    assert math.isfinite(perplexity) and 0.5 * math.log(len(tokenizer)) < eval_results["eval_loss"] < 1.5 * math.log(
        len(tokenizer)
    )
