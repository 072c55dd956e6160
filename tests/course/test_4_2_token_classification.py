"""Course notebook 4.2 (token classification, CoNLL-2003 NER), walked cell by cell on clearformer.

Changes from the notebook: the import line, local paths (CoNLL-2003 from ../shared/data, a tiny
random DistilBERT with the real uncased vocabulary for ``distilbert-base-uncased``) and shorter
training (16 rows). Token ids, word_ids and aligned labels asserted below are the ones the
notebook printed; seqeval numbers are checked against the ``seqeval`` package itself.
"""

from __future__ import annotations

import numpy as np
import pytest

TASK = "ner"
LABEL_LIST = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]

# --- what the notebook printed -----------------------------------------------------------------
FIRST_ROW = {
    "chunk_tags": [11, 21, 11, 12, 21, 22, 11, 12, 0],
    "id": "0",
    "ner_tags": [3, 0, 7, 0, 0, 0, 7, 0, 0],
    "pos_tags": [22, 42, 16, 21, 35, 37, 16, 21, 7],
    "tokens": ["EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "."],
}
ONE_SENTENCE_IDS = [101, 7592, 1010, 2023, 2003, 2028, 6251, 999, 102]
SPLIT_WORDS_IDS = [101, 7592, 1010, 2023, 2003, 2028, 6251, 3975, 2046, 2616, 1012, 102]
EXAMPLE_4_TOKENS = [
    "Germany",
    "'s",
    "representative",
    "to",
    "the",
    "European",
    "Union",
    "'s",
    "veterinary",
    "committee",
    "Werner",
    "Zwingmann",
    "said",
    "on",
    "Wednesday",
    "consumers",
    "should",
    "buy",
    "sheepmeat",
    "from",
    "countries",
    "other",
    "than",
    "Britain",
    "until",
    "the",
    "scientific",
    "advice",
    "was",
    "clearer",
    ".",
]
EXAMPLE_4_SUBWORDS = [
    "[CLS]",
    "germany",
    "'",
    "s",
    "representative",
    "to",
    "the",
    "european",
    "union",
    "'",
    "s",
    "veterinary",
    "committee",
    "werner",
    "z",
    "##wing",
    "##mann",
    "said",
    "on",
    "wednesday",
    "consumers",
    "should",
    "buy",
    "sheep",
    "##me",
    "##at",
    "from",
    "countries",
    "other",
    "than",
    "britain",
    "until",
    "the",
    "scientific",
    "advice",
    "was",
    "clearer",
    ".",
    "[SEP]",
]
EXAMPLE_4_WORD_IDS = [None, 0, 1, 1, 2, 3, 4, 5, 6, 7, 7, 8, 9, 10, 11, 11, 11, 12, 13, 14, 15, 16, 17, 18, 18, 18]
EXAMPLE_4_WORD_IDS += [19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, None]
FIRST_FIVE_INPUT_IDS = [
    [101, 7327, 19164, 2446, 2655, 2000, 17757, 2329, 12559, 1012, 102],
    [101, 2848, 13934, 102],
    [101, 9371, 2727, 1011, 5511, 1011, 2570, 102],
    [101, 1996, 2647, 3222, 2056, 2006, 9432, 2009, 18335, 2007, 2446, 6040, 2000, 10390, 2000, 18454, 2078, 2329]
    + [12559, 2127, 6529, 5646, 3251, 5506, 11190, 4295, 2064, 2022, 11860, 2000, 8351, 1012, 102],
    [101, 2762, 1005, 1055, 4387, 2000, 1996, 2647, 2586, 1005, 1055, 15651, 2837, 14121, 1062, 9328, 5804, 2056]
    + [2006, 9317, 10390, 2323, 4965, 8351, 4168, 4017, 2013, 3032, 2060, 2084, 3725, 2127, 1996, 4045, 6040, 2001]
    + [24509, 1012, 102],
]
FIRST_FIVE_LABELS = [
    [-100, 3, 0, 7, 0, 0, 0, 7, 0, 0, -100],
    [-100, 1, 2, -100],
    [-100, 5, 0, 0, 0, 0, 0, -100],
    [-100, 0, 3, 4, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -100],
    [-100, 5, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0, 1, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0]
    + [0, 0, 0, -100],
]


@pytest.fixture(scope="module")
def datasets(shared_data):
    from clearformer import load_dataset

    return load_dataset(str(shared_data / "conll2003"))  # was load_dataset("conll2003")


@pytest.fixture()
def tokenizer(distilbert_checkpoint):
    from clearformer import AutoTokenizer

    return AutoTokenizer.from_pretrained(distilbert_checkpoint)


def make_tokenize_and_align_labels(tokenizer, label_all_tokens: bool = True):
    def tokenize_and_align_labels(examples):
        tokenized_inputs = tokenizer(examples["tokens"], truncation=True, is_split_into_words=True)
        labels = []
        for i, label in enumerate(examples[f"{TASK}_tags"]):
            previous_word_idx = None
            label_ids = []
            for word_idx in tokenized_inputs.word_ids(batch_index=i):
                if word_idx is None:  # special tokens: ignored by the loss
                    label_ids.append(-100)
                elif word_idx != previous_word_idx:
                    label_ids.append(label[word_idx])
                else:
                    label_ids.append(label[word_idx] if label_all_tokens else -100)
                previous_word_idx = word_idx
            labels.append(label_ids)
        tokenized_inputs["labels"] = labels
        return tokenized_inputs

    return tokenize_and_align_labels


def test_conll2003_splits_columns_and_ner_label_names_match_the_notebook(datasets):
    from datasets import ClassLabel, Sequence

    assert {s: datasets[s].num_rows for s in datasets} == {"train": 14041, "validation": 3250, "test": 3453}
    assert datasets["train"].column_names == ["id", "tokens", "pos_tags", "chunk_tags", "ner_tags"]
    feature = datasets["train"].features[f"{TASK}_tags"]
    assert isinstance(feature, Sequence) and isinstance(feature.feature, ClassLabel)
    assert feature.feature.names == LABEL_LIST
    first = datasets["train"][0]
    assert (first["id"], first["tokens"], first["ner_tags"]) == ("0", FIRST_ROW["tokens"], FIRST_ROW["ner_tags"])

    # The notebook's show_random_elements: Sequence(ClassLabel) columns shown as tag names.
    import pandas as pd

    df = pd.DataFrame(datasets["train"][[0, 4]])
    names = feature.feature.names
    df["ner_tags"] = df["ner_tags"].transform(lambda x: [names[i] for i in x])
    assert df["ner_tags"][0] == ["B-ORG", "O", "B-MISC", "O", "O", "O", "B-MISC", "O", "O"]


def test_conll2003_pos_and_chunk_ids_match_the_hub_dataset(datasets):
    """The notebook's task may be "pos" or "chunk": their ids are the hub's tables, which it printed."""
    first = datasets["train"][0]
    assert (first["pos_tags"], first["chunk_tags"]) == (FIRST_ROW["pos_tags"], FIRST_ROW["chunk_tags"])


def test_tokenizer_is_fast_as_the_notebook_asserts(tokenizer):
    import clearformer as transformers  # the notebook's `import transformers`, import line changed

    assert isinstance(tokenizer, transformers.PreTrainedTokenizerFast)


def test_word_level_tokenization_matches_the_notebook(datasets, tokenizer):
    assert tokenizer("Hello, this is one sentence!")["input_ids"] == ONE_SENTENCE_IDS
    words = ["Hello", ",", "this", "is", "one", "sentence", "split", "into", "words", "."]
    assert tokenizer(words, is_split_into_words=True)["input_ids"] == SPLIT_WORDS_IDS

    example = datasets["train"][4]
    assert example["tokens"] == EXAMPLE_4_TOKENS
    tokenized_input = tokenizer(example["tokens"], is_split_into_words=True)
    assert tokenizer.convert_ids_to_tokens(tokenized_input["input_ids"]) == EXAMPLE_4_SUBWORDS
    assert (len(example[f"{TASK}_tags"]), len(tokenized_input["input_ids"])) == (31, 39)
    word_ids = tokenized_input.word_ids()
    assert word_ids == EXAMPLE_4_WORD_IDS
    aligned_labels = [-100 if i is None else example[f"{TASK}_tags"][i] for i in word_ids]
    assert len(aligned_labels) == len(tokenized_input["input_ids"]) == 39


def test_tokenize_and_align_labels_on_five_rows_matches_the_notebook(datasets, tokenizer):
    out = make_tokenize_and_align_labels(tokenizer)(datasets["train"][:5])
    assert out["input_ids"] == FIRST_FIVE_INPUT_IDS
    assert out["labels"] == FIRST_FIVE_LABELS
    assert out["attention_mask"] == [[1] * len(ids) for ids in FIRST_FIVE_INPUT_IDS]


def test_seqeval_metric_on_the_notebook_example_matches_seqeval(datasets):
    from clearformer import load_metric

    metric = load_metric("seqeval")
    example = datasets["train"][4]
    labels = [LABEL_LIST[i] for i in example[f"{TASK}_tags"]]
    result = metric.compute(predictions=[labels], references=[labels])
    # As the notebook printed: two locations, one organisation, one person, all right.
    assert {k: result[k]["number"] for k in ("LOC", "ORG", "PER")} == {"LOC": 2, "ORG": 1, "PER": 1}
    for key in ("overall_precision", "overall_recall", "overall_f1", "overall_accuracy"):
        assert result[key] == 1.0
    assert result["LOC"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "number": 2}


def test_trainer_trains_evaluates_and_predicts_with_the_course_arguments(
    datasets, tokenizer, distilbert_checkpoint, in_tmp
):
    from datasets import DatasetDict
    from seqeval.metrics import f1_score

    from clearformer import (
        AutoModelForTokenClassification,
        DataCollatorForTokenClassification,
        Trainer,
        TrainingArguments,
        load_metric,
    )

    small = DatasetDict(
        {"train": datasets["train"].select(range(16)), "validation": datasets["validation"].select(range(16))}
    )
    tokenized_datasets = small.map(make_tokenize_and_align_labels(tokenizer), batched=True)
    label_list = datasets["train"].features[f"{TASK}_tags"].feature.names
    model = AutoModelForTokenClassification.from_pretrained(distilbert_checkpoint, num_labels=len(label_list))
    batch_size = 16
    args = TrainingArguments(
        f"test-{TASK}",
        evaluation_strategy="epoch",
        learning_rate=2e-5,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        num_train_epochs=3,
        weight_decay=0.01,
    )
    data_collator = DataCollatorForTokenClassification(tokenizer)
    metric = load_metric("seqeval")

    def strip_ignored(predictions, labels):
        true_predictions = [
            [label_list[p] for (p, l) in zip(prediction, label) if l != -100]
            for prediction, label in zip(predictions, labels)
        ]
        true_labels = [
            [label_list[l] for (p, l) in zip(prediction, label) if l != -100]
            for prediction, label in zip(predictions, labels)
        ]
        return true_predictions, true_labels

    def compute_metrics(p):
        predictions, labels = p
        true_predictions, true_labels = strip_ignored(np.argmax(predictions, axis=2), labels)
        results = metric.compute(predictions=true_predictions, references=true_labels)
        return {
            "precision": results["overall_precision"],
            "recall": results["overall_recall"],
            "f1": results["overall_f1"],
            "accuracy": results["overall_accuracy"],
        }

    trainer = Trainer(
        model,
        args,
        train_dataset=tokenized_datasets["train"],
        eval_dataset=tokenized_datasets["validation"],
        data_collator=data_collator,
        tokenizer=tokenizer,
        compute_metrics=compute_metrics,
    )
    assert trainer.train().global_step == 3  # one batch of 16 rows x 3 epochs
    metrics = trainer.evaluate()
    assert {"eval_loss", "eval_precision", "eval_recall", "eval_f1", "eval_accuracy", "epoch"} <= set(metrics)

    predictions, labels, _ = trainer.predict(tokenized_datasets["validation"])
    longest = max(len(ids) for ids in tokenized_datasets["validation"]["input_ids"])
    assert predictions.shape == (16, longest, len(label_list))
    true_predictions, true_labels = strip_ignored(np.argmax(predictions, axis=2), labels)
    # Every word-piece label survives the padding and the -100 filter.
    assert [len(t) for t in true_labels] == [
        sum(x != -100 for x in row) for row in tokenized_datasets["validation"]["labels"]
    ]
    results = metric.compute(predictions=true_predictions, references=true_labels)
    assert results["overall_f1"] == pytest.approx(f1_score(true_labels, true_predictions))
    assert results["overall_f1"] == pytest.approx(metrics["eval_f1"])
