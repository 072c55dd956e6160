"""Course notebook 4.1 (text classification on GLUE CoLA), walked cell by cell on clearformer.

Changes from the notebook: the import line (``clearformer`` for ``transformers``/``datasets``), local
paths (CoLA from ../shared/data, a tiny random DistilBERT with the real uncased vocabulary for
``distilbert-base-uncased``) and shorter training (a few dozen rows, a couple of epochs, 2 trials).
Every token id asserted below is the one the notebook printed (same vocabulary, same sentences).
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import matthews_corrcoef

GLUE_TASKS = ["cola", "mnli", "mnli-mm", "mrpc", "qnli", "qqp", "rte", "sst2", "stsb", "wnli"]
TASK_TO_KEYS = {
    "cola": ("sentence", None),
    "mnli": ("premise", "hypothesis"),
    "mnli-mm": ("premise", "hypothesis"),
    "mrpc": ("sentence1", "sentence2"),
    "qnli": ("question", "sentence"),
    "qqp": ("question1", "question2"),
    "rte": ("sentence1", "sentence2"),
    "sst2": ("sentence", None),
    "stsb": ("sentence1", "sentence2"),
    "wnli": ("sentence1", "sentence2"),
}

# Printed by the notebook for tokenizer("Hello, this one sentence!", "And this sentence goes with it.").
PAIR_IDS = [101, 7592, 1010, 2023, 2028, 6251, 999, 102, 1998, 2023, 6251, 3632, 2007, 2009, 1012, 102]
# Printed by the notebook for preprocess_function(dataset["train"][:5]) (the first five CoLA rows).
FIRST_FIVE_IDS = [
    [101, 2256, 2814, 2180, 1005, 1056, 4965, 2023, 4106, 1010, 2292, 2894, 1996, 2279, 2028, 2057, 16599, 1012, 102],
    [101, 2028, 2062, 18404, 2236, 3989, 1998, 1045, 1005, 1049, 3228, 2039, 1012, 102],
    [101, 2028, 2062, 18404, 2236, 3989, 2030, 1045, 1005, 1049, 3228, 2039, 1012, 102],
    [101, 1996, 2062, 2057, 2817, 16025, 1010, 1996, 13675, 16103, 2121, 2027, 2131, 1012, 102],
    [101, 2154, 2011, 2154, 1996, 8866, 2024, 2893, 14163, 8024, 3771, 1012, 102],
]


@pytest.fixture()
def notebook(shared_data, distilbert_checkpoint, in_tmp):
    """The notebook's first cells: task, checkpoint, batch size, data and metric."""
    from clearformer import load_dataset, load_metric

    task = "cola"
    model_checkpoint = distilbert_checkpoint  # was "distilbert-base-uncased"
    batch_size = 16
    actual_task = "mnli" if task == "mnli-mm" else task
    dataset = load_dataset(str(shared_data / actual_task))  # was load_dataset("glue", actual_task)
    metric = load_metric("glue", actual_task)
    return {
        "task": task,
        "model_checkpoint": model_checkpoint,
        "batch_size": batch_size,
        "dataset": dataset,
        "metric": metric,
    }


def _shrink(dataset, n_train: int = 32, n_eval: int = 16):
    """Shortened training: the same DatasetDict with the first rows of each split."""
    from datasets import DatasetDict

    return DatasetDict(
        {"train": dataset["train"].select(range(n_train)), "validation": dataset["validation"].select(range(n_eval))}
    )


def test_cola_loads_with_the_notebook_columns_and_first_row(notebook):
    dataset = notebook["dataset"]
    assert set(dataset) >= {"train", "validation"}
    assert dataset["train"].num_rows == 8551  # as the notebook printed
    assert dataset["train"].column_names == ["sentence", "label", "idx"]
    assert dataset["train"][0] == {
        "sentence": "Our friends won't buy this analysis, let alone the next one we propose.",
        "label": 1,
        "idx": 0,
    }
    assert show_random_elements(dataset["train"], num_examples=10)["label"].isin(["unacceptable", "acceptable"]).all()


def show_random_elements(dataset, num_examples=10):
    """The notebook's table of random rows, ClassLabel ids shown as names (returned, not displayed)."""
    import datasets
    import pandas as pd

    picks = random.Random(0).sample(range(len(dataset)), num_examples)
    df = pd.DataFrame(dataset[picks])
    for column, typ in dataset.features.items():
        if isinstance(typ, datasets.ClassLabel):
            df[column] = df[column].transform(lambda i, typ=typ: typ.names[i])
    return df


def test_glue_cola_metric_is_matthews_correlation_on_random_predictions(notebook):
    rng = np.random.default_rng(0)
    fake_preds = rng.integers(0, 2, size=(64,))
    fake_labels = rng.integers(0, 2, size=(64,))
    result = notebook["metric"].compute(predictions=fake_preds, references=fake_labels)
    assert list(result) == ["matthews_correlation"]
    assert result["matthews_correlation"] == pytest.approx(matthews_corrcoef(fake_labels, fake_preds))


def test_tokenizer_and_preprocess_function_give_the_notebook_ids(notebook):
    from clearformer import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(notebook["model_checkpoint"], use_fast=True)
    encoded = tokenizer("Hello, this one sentence!", "And this sentence goes with it.")
    assert encoded["input_ids"] == PAIR_IDS
    assert encoded["attention_mask"] == [1] * len(PAIR_IDS)

    sentence1_key, sentence2_key = TASK_TO_KEYS[notebook["task"]]
    assert (sentence1_key, sentence2_key) == ("sentence", None)

    def preprocess_function(examples):
        if sentence2_key is None:
            return tokenizer(examples[sentence1_key], truncation=True)
        return tokenizer(examples[sentence1_key], examples[sentence2_key], truncation=True)

    batch = preprocess_function(notebook["dataset"]["train"][:5])
    assert batch["input_ids"] == FIRST_FIVE_IDS
    assert batch["attention_mask"] == [[1] * len(ids) for ids in FIRST_FIVE_IDS]


def _prepare(notebook, n_train: int = 32):
    from clearformer import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(notebook["model_checkpoint"], use_fast=True)
    sentence1_key, sentence2_key = TASK_TO_KEYS[notebook["task"]]

    def preprocess_function(examples):
        if sentence2_key is None:
            return tokenizer(examples[sentence1_key], truncation=True)
        return tokenizer(examples[sentence1_key], examples[sentence2_key], truncation=True)

    encoded_dataset = _shrink(notebook["dataset"], n_train).map(preprocess_function, batched=True)
    task = notebook["task"]
    num_labels = 3 if task.startswith("mnli") else 1 if task == "stsb" else 2
    metric_name = "pearson" if task == "stsb" else "matthews_correlation" if task == "cola" else "accuracy"
    metric = notebook["metric"]

    def compute_metrics(eval_pred):
        predictions, labels = eval_pred
        predictions = np.argmax(predictions, axis=1) if task != "stsb" else predictions[:, 0]
        return metric.compute(predictions=predictions, references=labels)

    return tokenizer, encoded_dataset, num_labels, metric_name, compute_metrics


def _args(notebook, metric_name):
    from clearformer import TrainingArguments

    batch_size = notebook["batch_size"]
    return TrainingArguments(
        "test-glue",
        evaluation_strategy="epoch",  # the course's spelling (eval_strategy upstream since 4.46)
        save_strategy="epoch",
        learning_rate=2e-5,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        num_train_epochs=2,  # the notebook trains 5 epochs on 8,551 rows
        weight_decay=0.01,
        load_best_model_at_end=True,
        metric_for_best_model=metric_name,
    )


def test_trainer_trains_and_evaluates_with_the_course_arguments(notebook):
    from clearformer import AutoModelForSequenceClassification, Trainer

    tokenizer, encoded_dataset, num_labels, metric_name, compute_metrics = _prepare(notebook)
    model = AutoModelForSequenceClassification.from_pretrained(notebook["model_checkpoint"], num_labels=num_labels)
    assert model.config.num_labels == 2
    args = _args(notebook, metric_name)
    validation_key = "validation"
    trainer = Trainer(
        model,
        args,
        train_dataset=encoded_dataset["train"],
        eval_dataset=encoded_dataset[validation_key],
        tokenizer=tokenizer,
        compute_metrics=compute_metrics,
    )
    output = trainer.train()
    assert output.global_step == 4  # 32 rows / 16 per batch x 2 epochs
    assert np.isfinite(output.training_loss)
    metrics = trainer.evaluate()
    assert {"eval_loss", "eval_matthews_correlation", "epoch"} <= set(metrics)
    assert metrics["epoch"] == pytest.approx(2.0)
    assert -1.0 <= metrics["eval_matthews_correlation"] <= 1.0
    # load_best_model_at_end with metric_for_best_model: the best epoch's checkpoint was reloaded.
    assert trainer.state.best_model_checkpoint in ("test-glue/checkpoint-2", "test-glue/checkpoint-4")
    assert metrics["eval_matthews_correlation"] == pytest.approx(trainer.state.best_metric)
    # save_strategy="epoch" wrote one checkpoint per epoch, with the tokenizer beside the weights.
    assert Path("test-glue/checkpoint-2/config.json").is_file()
    assert Path("test-glue/checkpoint-4/tokenizer_config.json").is_file()


def test_hyperparameter_search_then_retrain_with_the_best_run(notebook):
    pytest.importorskip("optuna", reason="hyperparameter_search needs optuna (pip install 'clearformer[search]')")
    from clearformer import AutoModelForSequenceClassification, Trainer

    # The notebook suggests searching on a fraction of the data; here 8 rows keep each trial short.
    tokenizer, encoded_dataset, num_labels, metric_name, compute_metrics = _prepare(notebook, n_train=8)

    def model_init():
        return AutoModelForSequenceClassification.from_pretrained(notebook["model_checkpoint"], num_labels=num_labels)

    trainer = Trainer(
        model_init=model_init,
        args=_args(notebook, metric_name),
        train_dataset=encoded_dataset["train"],
        eval_dataset=encoded_dataset["validation"],
        tokenizer=tokenizer,
        compute_metrics=compute_metrics,
    )
    best_run = trainer.hyperparameter_search(n_trials=2, direction="maximize")  # the notebook runs 10
    assert set(best_run.hyperparameters) == {"learning_rate", "num_train_epochs", "seed", "per_device_train_batch_size"}
    for n, v in best_run.hyperparameters.items():
        setattr(trainer.args, n, v)
    output = trainer.train()
    steps_per_epoch = -(-8 // best_run.hyperparameters["per_device_train_batch_size"])
    assert output.global_step == best_run.hyperparameters["num_train_epochs"] * steps_per_epoch
