"""Notebook 4.4 (问答任务-多选问答) walked on clearformer: BERT fine-tuned for multiple choice on
SWAG with the notebook's own DataCollatorForMultipleChoice and Trainer.

Changed from the notebook: the import line (``transformers`` -> ``clearformer``, including
``clearformer.tokenization_utils_base``); SWAG becomes SWAG-shaped CSV files made from DREAM
(sent1 = last dialogue turn, sent2 = question, four endings); bert-base-uncased becomes the real
all-MiniLM-L6-v2 (same uncased WordPiece vocabulary, so the notebook's printed ids hold); training
is three epochs over 8 rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from clearformer import AutoModelForMultipleChoice, AutoTokenizer, Trainer, TrainingArguments, load_dataset
from tests.course._fixtures_generation import minilm_checkpoint, swag_rows_from_dream, write_swag_csv

batch_size = 16
ending_names = ["ending0", "ending1", "ending2", "ending3"]
SPLITS = {"train": ("train.json", 16), "val": ("dev.json", 8), "test": ("test.json", 8)}


@pytest.fixture(scope="module")
def model_checkpoint(tmp_path_factory):
    return minilm_checkpoint(tmp_path_factory.mktemp("bert-base-uncased-like"))


@pytest.fixture(scope="module")
def data_path(shared_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("swag")
    for split, (dream_file, n) in SPLITS.items():
        write_swag_csv(folder / f"{split}.csv", swag_rows_from_dream(shared_data / "dream" / dream_file, n))
    return folder


@pytest.fixture(scope="module")
def datasets(data_path):
    # The notebook names the validation file's split 'val' but later reads encoded_datasets["validation"];
    # the split is named "validation" here so that the later cells run.
    files = {"train": data_path / "train.csv", "validation": data_path / "val.csv", "test": data_path / "test.csv"}
    return load_dataset("csv", data_files={k: str(v) for k, v in files.items()})


def test_local_swag_folder_loads_like_the_notebook(data_path, tmp_path):
    # The notebook's offline cell: a folder path, a config name, csv data_files and a cache_dir.
    cache_dir = str(tmp_path / "cache")
    data_files = {"train": str(data_path / "train.csv"), "val": str(data_path / "val.csv")}
    datasets = load_dataset(str(data_path), "regular", data_files=data_files, cache_dir=cache_dir)
    assert set(datasets) == {"train", "val"}
    assert datasets["train"].num_rows == 16


def test_swag_rows_have_the_notebooks_fields(datasets):
    row = datasets["train"][0]
    assert list(row) == ["video-id", "fold-ind", "startphrase", "sent1", "sent2", "gold-source", *ending_names, "label"]
    assert row["startphrase"] == f"{row['sent1']} {row['sent2']}" and row["label"] in range(3)


@pytest.fixture(scope="module")
def tokenizer(model_checkpoint):
    return AutoTokenizer.from_pretrained(model_checkpoint, use_fast=True)


def test_sentence_pair_gives_the_notebooks_printed_ids(tokenizer):
    enc = tokenizer("Hello, this one sentence!", "And this sentence goes with it.")
    # Printed in the notebook for bert-base-uncased, whose vocabulary MiniLM shares.
    assert enc["input_ids"] == [
        101,
        7592,
        1010,
        2023,
        2028,
        6251,
        999,
        102,
        1998,
        2023,
        6251,
        3632,
        2007,
        2009,
        1012,
        102,
    ]
    assert enc["token_type_ids"] == [0] * 8 + [1] * 8
    assert enc["attention_mask"] == [1] * 16


def preprocess_function_for(tokenizer):
    def preprocess_function(examples):
        # Each context four times, one per ending; flatten, tokenize as pairs, then regroup by four.
        first_sentences = [[context] * 4 for context in examples["sent1"]]
        question_headers = examples["sent2"]
        second_sentences = [
            [f"{header} {examples[end][i]}" for end in ending_names] for i, header in enumerate(question_headers)
        ]
        first_sentences = sum(first_sentences, [])
        second_sentences = sum(second_sentences, [])
        tokenized_examples = tokenizer(first_sentences, second_sentences, truncation=True)
        return {k: [v[i : i + 4] for i in range(0, len(v), 4)] for k, v in tokenized_examples.items()}

    return preprocess_function


def test_preprocess_groups_four_choices_per_example_like_reference(tokenizer, datasets, model_checkpoint):
    transformers = pytest.importorskip("transformers")
    oracle = transformers.AutoTokenizer.from_pretrained(model_checkpoint)
    examples = datasets["train"][:5]
    features = preprocess_function_for(tokenizer)(examples)
    want = preprocess_function_for(oracle)(examples)
    assert len(features["input_ids"]) == 5 and len(features["input_ids"][0]) == 4
    assert [len(x) for x in features["input_ids"][0]] == [len(x) for x in want["input_ids"][0]]
    assert features == want
    idx = 3
    decoded = [tokenizer.decode(features["input_ids"][idx][i]) for i in range(4)]
    assert decoded == [oracle.decode(want["input_ids"][idx][i]) for i in range(4)]
    assert decoded[0].startswith("[CLS] ") and decoded[0].endswith(" [SEP]")


def make_collator_class():
    """The notebook's own collator, written against clearformer's tokenization_utils_base."""
    from clearformer.tokenization_utils_base import PaddingStrategy, PreTrainedTokenizerBase

    @dataclass
    class DataCollatorForMultipleChoice:
        tokenizer: PreTrainedTokenizerBase
        padding: bool | str | PaddingStrategy = True
        max_length: int | None = None
        pad_to_multiple_of: int | None = None

        def __call__(self, features):
            label_name = "label" if "label" in features[0] else "labels"
            labels = [feature.pop(label_name) for feature in features]
            batch_size = len(features)
            num_choices = len(features[0]["input_ids"])
            flattened = [[{k: v[i] for k, v in f.items()} for i in range(num_choices)] for f in features]
            flattened = sum(flattened, [])
            batch = self.tokenizer.pad(
                flattened,
                padding=self.padding,
                max_length=self.max_length,
                pad_to_multiple_of=self.pad_to_multiple_of,
                return_tensors="pt",
            )
            batch = {k: v.view(batch_size, num_choices, -1) for k, v in batch.items()}
            batch["labels"] = torch.tensor(labels, dtype=torch.int64)
            return batch

    return DataCollatorForMultipleChoice


@pytest.fixture(scope="module")
def encoded_datasets(datasets, tokenizer):
    return datasets.map(preprocess_function_for(tokenizer), batched=True)


def test_notebook_collator_pads_every_choice_to_the_batch_maximum(tokenizer, encoded_datasets, model_checkpoint):
    transformers = pytest.importorskip("transformers")
    DataCollatorForMultipleChoice = make_collator_class()
    accepted_keys = ["input_ids", "attention_mask", "label"]
    features = [{k: v for k, v in encoded_datasets["train"][i].items() if k in accepted_keys} for i in range(10)]
    labels = [f["label"] for f in features]
    flat = [{k: f[k][i] for k in ("input_ids", "attention_mask")} for f in features for i in range(4)]
    want = transformers.AutoTokenizer.from_pretrained(model_checkpoint).pad(flat, padding=True, return_tensors="pt")
    batch = DataCollatorForMultipleChoice(tokenizer)(features)
    width = want["input_ids"].shape[-1]
    assert batch["input_ids"].shape == (10, 4, width)
    assert torch.equal(batch["input_ids"], want["input_ids"].view(10, 4, width))
    assert torch.equal(batch["attention_mask"], want["attention_mask"].view(10, 4, width))
    assert batch["labels"].tolist() == labels
    decoded = [tokenizer.decode(batch["input_ids"][8][i].tolist()) for i in range(4)]
    assert all(d.startswith("[CLS] ") for d in decoded) and any(d.endswith("[PAD]") for d in decoded)


def compute_metrics(eval_predictions):
    predictions, label_ids = eval_predictions
    preds = np.argmax(predictions, axis=1)
    return {"accuracy": (preds == label_ids).astype(np.float32).mean().item()}


def test_trainer_fine_tunes_with_the_notebooks_arguments(tokenizer, encoded_datasets, model_checkpoint, tmp_path):
    DataCollatorForMultipleChoice = make_collator_class()
    model = AutoModelForMultipleChoice.from_pretrained(model_checkpoint)
    args = TrainingArguments(
        str(tmp_path / "test-glue"),
        evaluation_strategy="epoch",
        learning_rate=5e-5,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        num_train_epochs=3,
        weight_decay=0.01,
        report_to="none",
    )
    trainer = Trainer(
        model,
        args,
        train_dataset=encoded_datasets["train"].select(range(8)),  # shortened: 8 rows, 4 to evaluate
        eval_dataset=encoded_datasets["validation"].select(range(4)),
        tokenizer=tokenizer,
        data_collator=DataCollatorForMultipleChoice(tokenizer),
        compute_metrics=compute_metrics,
    )
    out = trainer.train()
    assert out.global_step == 3  # 8 rows, batch 16, three epochs
    evals = [log for log in trainer.state.log_history if "eval_accuracy" in log]
    assert [round(e["epoch"]) for e in evals] == [1, 2, 3]
    # Four validation rows: accuracy is a multiple of 1/4.
    assert all(0.0 <= e["eval_accuracy"] <= 1.0 and (e["eval_accuracy"] * 4) % 1 == 0 for e in evals)
