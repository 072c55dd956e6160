"""Course notebook 4.3 (extractive QA on SQuAD), walked cell by cell on clearformer.

Changes from the notebook: the import line, local paths (SQuAD v1.1 dev from ../shared/data, a tiny
random DistilBERT with the real uncased vocabulary for ``distilbert-base-uncased``), shorter
training (32 examples) and one more: only SQuAD's dev split ships offline, so the cells the notebook
runs on ``datasets["train"]`` run on the dev split here. The windows, offsets, sequence ids and
start/end positions are therefore checked against the reference tokenizer (``transformers``'
AutoTokenizer on the same checkpoint folder) on the same rows, not against the notebook's printout.
"""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch

squad_v2 = False
max_length = 384  # a feature's length: question + context window
doc_stride = 128  # overlap between two windows of one context
n_best_size = 20
max_answer_length = 30
N_TRAIN, N_EVAL = 32, 20


@pytest.fixture(scope="module")
def datasets(shared_data):
    from clearformer import load_dataset

    loaded = load_dataset(str(shared_data / "squad"))  # was load_dataset("squad")
    # SQuAD's train split is not shipped offline: the notebook's train cells run on the dev split.
    loaded["train"] = loaded["validation"]
    return loaded


@pytest.fixture(scope="module")
def tokenizer(distilbert_checkpoint):
    from clearformer import AutoTokenizer

    return AutoTokenizer.from_pretrained(distilbert_checkpoint)


@pytest.fixture(scope="module")
def reference_tokenizer(distilbert_checkpoint):
    transformers = pytest.importorskip("transformers", reason="transformers 5.24 is the oracle for these windows")
    return transformers.AutoTokenizer.from_pretrained(distilbert_checkpoint)


def make_prepare_train_features(tokenizer):
    pad_on_right = tokenizer.padding_side == "right"  # the context comes second

    def prepare_train_features(examples):
        tokenized_examples = tokenizer(
            examples["question" if pad_on_right else "context"],
            examples["context" if pad_on_right else "question"],
            truncation="only_second" if pad_on_right else "only_first",
            max_length=max_length,
            stride=doc_stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding="max_length",
        )
        sample_mapping = tokenized_examples.pop("overflow_to_sample_mapping")
        offset_mapping = tokenized_examples.pop("offset_mapping")
        tokenized_examples["start_positions"] = []
        tokenized_examples["end_positions"] = []
        for i, offsets in enumerate(offset_mapping):
            input_ids = tokenized_examples["input_ids"][i]
            cls_index = input_ids.index(tokenizer.cls_token_id)
            sequence_ids = tokenized_examples.sequence_ids(i)
            answers = examples["answers"][sample_mapping[i]]
            start, end = _answer_tokens(answers, offsets, sequence_ids, 1 if pad_on_right else 0, cls_index)
            tokenized_examples["start_positions"].append(start)
            tokenized_examples["end_positions"].append(end)
        return tokenized_examples

    return prepare_train_features


def _answer_tokens(answers, offsets, sequence_ids, context_id, cls_index):
    """The notebook's labelling: the answer's first and last token, or [CLS] when not in this window."""
    if len(answers["answer_start"]) == 0:
        return cls_index, cls_index
    start_char = answers["answer_start"][0]
    end_char = start_char + len(answers["text"][0])
    token_start_index = 0
    while sequence_ids[token_start_index] != context_id:
        token_start_index += 1
    token_end_index = len(sequence_ids) - 1
    while sequence_ids[token_end_index] != context_id:
        token_end_index -= 1
    if not (offsets[token_start_index][0] <= start_char and offsets[token_end_index][1] >= end_char):
        return cls_index, cls_index
    while token_start_index < len(offsets) and offsets[token_start_index][0] <= start_char:
        token_start_index += 1
    while offsets[token_end_index][1] >= end_char:
        token_end_index -= 1
    return token_start_index - 1, token_end_index + 1


def make_prepare_validation_features(tokenizer):
    pad_on_right = tokenizer.padding_side == "right"

    def prepare_validation_features(examples):
        tokenized_examples = tokenizer(
            examples["question" if pad_on_right else "context"],
            examples["context" if pad_on_right else "question"],
            truncation="only_second" if pad_on_right else "only_first",
            max_length=max_length,
            stride=doc_stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding="max_length",
        )
        sample_mapping = tokenized_examples.pop("overflow_to_sample_mapping")
        tokenized_examples["example_id"] = []
        for i in range(len(tokenized_examples["input_ids"])):
            sequence_ids = tokenized_examples.sequence_ids(i)
            context_index = 1 if pad_on_right else 0
            tokenized_examples["example_id"].append(examples["id"][sample_mapping[i]])
            tokenized_examples["offset_mapping"][i] = [
                (o if sequence_ids[k] == context_index else None)
                for k, o in enumerate(tokenized_examples["offset_mapping"][i])
            ]
        return tokenized_examples

    return prepare_validation_features


def test_squad_loads_with_the_notebook_columns_and_first_dev_answers(datasets):
    assert datasets["validation"].num_rows == 10570  # as the notebook printed
    assert datasets["validation"].column_names == ["id", "title", "context", "question", "answers"]
    # Printed by the notebook for datasets["validation"][0]["answers"].
    assert datasets["validation"][0]["answers"] == {"answer_start": [177, 177, 177], "text": ["Denver Broncos"] * 3}


def test_tokenize_and_pair_ids_match_the_notebook(tokenizer):
    assert tokenizer.tokenize("What is your name?") == ["what", "is", "your", "name", "?"]
    assert tokenizer.tokenize("My name is Sylvain.", add_special_tokens=True) == (
        ["[CLS]", "my", "name", "is", "sy", "##lva", "##in", ".", "[SEP]"]
    )
    assert tokenizer("What is your name?")["input_ids"] == [101, 2054, 2003, 2115, 2171, 1029, 102]
    pair = tokenizer("What is your name?", "My name is Sylvain.")
    assert pair["input_ids"] == [
        101,
        2054,
        2003,
        2115,
        2171,
        1029,
        102,
        2026,
        2171,
        2003,
        25353,
        22144,
        2378,
        1012,
        102,
    ]
    assert pair["attention_mask"] == [1] * 15
    assert tokenizer.padding_side == "right"


def test_tokenizer_is_fast_as_the_notebook_asserts(tokenizer):
    import clearformer as transformers  # the notebook's `import transformers`, import line changed

    assert isinstance(tokenizer, transformers.PreTrainedTokenizerFast)


def test_long_example_windows_offsets_and_answer_positions_match_the_reference(
    datasets, tokenizer, reference_tokenizer
):
    for i, example in enumerate(datasets["train"]):  # noqa: B007 - the notebook keeps i after the loop
        if len(tokenizer(example["question"], example["context"])["input_ids"]) > 384:
            break
    example = datasets["train"][i]
    reference_full = reference_tokenizer(example["question"], example["context"])["input_ids"]
    assert len(tokenizer(example["question"], example["context"])["input_ids"]) == len(reference_full) > 384
    cut = tokenizer(example["question"], example["context"], max_length=max_length, truncation="only_second")
    assert len(cut["input_ids"]) == 384

    kwargs = dict(max_length=max_length, truncation="only_second", return_overflowing_tokens=True, stride=doc_stride)
    tokenized_example = tokenizer(example["question"], example["context"], return_offsets_mapping=True, **kwargs)
    reference = reference_tokenizer(example["question"], example["context"], return_offsets_mapping=True, **kwargs)
    assert [len(x) for x in tokenized_example["input_ids"]] == [len(x) for x in reference["input_ids"]]
    assert tokenized_example["input_ids"] == reference["input_ids"]
    assert [tokenizer.decode(x) for x in tokenized_example["input_ids"][:2]] == [
        reference_tokenizer.decode(x) for x in reference["input_ids"][:2]
    ]
    assert [list(map(tuple, o)) for o in tokenized_example["offset_mapping"]] == [
        list(map(tuple, o)) for o in reference["offset_mapping"]
    ]
    first_token_id = tokenized_example["input_ids"][0][1]
    offsets = tokenized_example["offset_mapping"][0][1]
    first_word = example["question"][offsets[0] : offsets[1]]
    assert tokenizer.convert_ids_to_tokens([first_token_id])[0] == first_word.lower()

    sequence_ids = tokenized_example.sequence_ids()
    assert sequence_ids == reference.sequence_ids()
    start_position, end_position = _answer_tokens(
        example["answers"], tokenized_example["offset_mapping"][0], sequence_ids, 1, 0
    )
    assert start_position > 0  # the answer lies in the first window
    decoded = tokenizer.decode(tokenized_example["input_ids"][0][start_position : end_position + 1])
    assert decoded == reference_tokenizer.decode(reference["input_ids"][0][start_position : end_position + 1])
    assert decoded.replace(" ", "") == example["answers"]["text"][0].lower().replace(" ", "")


def test_prepare_train_features_matches_the_reference_on_five_examples(datasets, tokenizer, reference_tokenizer):
    features = make_prepare_train_features(tokenizer)(datasets["train"][:5])
    expected = make_prepare_train_features(reference_tokenizer)(datasets["train"][:5])
    assert len(features["input_ids"]) == len(expected["input_ids"])
    assert features["input_ids"] == expected["input_ids"]
    assert features["start_positions"] == expected["start_positions"]
    assert features["end_positions"] == expected["end_positions"]
    assert all(len(ids) == max_length for ids in features["input_ids"])


def test_validation_features_split_like_the_reference(datasets, tokenizer, reference_tokenizer):
    """The notebook's 10,570 dev questions gave 10,784 windows; the first 300 (one long context
    among them) must split into the same windows, mapped to the same example ids."""
    rows = datasets["validation"][:300]
    features = make_prepare_validation_features(tokenizer)(rows)
    expected = make_prepare_validation_features(reference_tokenizer)(rows)
    assert len(features["input_ids"]) == len(expected["input_ids"]) > 300
    assert features["example_id"] == expected["example_id"]
    assert features["offset_mapping"] == [[o if o is None else tuple(o) for o in m] for m in expected["offset_mapping"]]


@pytest.mark.slow
def test_whole_dev_set_splits_into_the_notebooks_10784_features(datasets, tokenizer):
    """The notebook printed "Post-processing 10570 example predictions split into 10784 features."
    (about 8 s of one core: every dev question tokenized with clearformer's Python tokenizer)."""
    validation_features = datasets["validation"].map(
        make_prepare_validation_features(tokenizer), batched=True, remove_columns=datasets["validation"].column_names
    )
    assert (datasets["validation"].num_rows, validation_features.num_rows) == (10570, 10784)


def test_train_predict_postprocess_and_squad_metric_end_to_end(datasets, tokenizer, distilbert_checkpoint, in_tmp):
    from datasets import DatasetDict

    from clearformer import (
        AutoModelForQuestionAnswering,
        Trainer,
        TrainingArguments,
        default_data_collator,
        load_metric,
    )
    from clearformer.postprocessing.qa import postprocess_qa_predictions as library_postprocess

    small = DatasetDict(
        {"train": datasets["train"].select(range(N_TRAIN)), "validation": datasets["validation"].select(range(N_EVAL))}
    )
    tokenized_datasets = small.map(
        make_prepare_train_features(tokenizer), batched=True, remove_columns=small["train"].column_names
    )
    model = AutoModelForQuestionAnswering.from_pretrained(distilbert_checkpoint)
    batch_size = 16
    args = TrainingArguments(
        "test-squad",
        evaluation_strategy="epoch",
        learning_rate=2e-5,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        num_train_epochs=1,  # the notebook trains 3 epochs on 87,599 questions
        weight_decay=0.01,
    )
    data_collator = default_data_collator
    trainer = Trainer(
        model,
        args,
        train_dataset=tokenized_datasets["train"],
        eval_dataset=tokenized_datasets["validation"],
        data_collator=data_collator,
        tokenizer=tokenizer,
    )
    assert trainer.train().global_step == -(-tokenized_datasets["train"].num_rows // batch_size)
    trainer.save_model("test-squad-trained")
    assert AutoModelForQuestionAnswering.from_pretrained("test-squad-trained").config.model_type == "distilbert"

    for batch in trainer.get_eval_dataloader():  # noqa: B007 - the notebook takes the first batch this way
        break
    batch = {k: v.to(trainer.args.device) for k, v in batch.items()}
    with torch.no_grad():
        output = trainer.model(**batch)
    assert set(output.keys()) == {"loss", "start_logits", "end_logits"}
    assert output.start_logits.shape == output.end_logits.shape == torch.Size([16, 384])

    validation_features = small["validation"].map(
        make_prepare_validation_features(tokenizer), batched=True, remove_columns=small["validation"].column_names
    )
    raw_predictions = trainer.predict(validation_features)
    validation_features.set_format(
        type=validation_features.format["type"], columns=list(validation_features.features.keys())
    )
    assert raw_predictions.predictions[0].shape == (validation_features.num_rows, 384)

    final_predictions = notebook_postprocess_qa_predictions(
        tokenizer, small["validation"], validation_features, raw_predictions.predictions
    )
    assert len(final_predictions) == N_EVAL
    library = library_postprocess(
        small["validation"], validation_features, raw_predictions.predictions, tokenizer=tokenizer
    )
    assert dict(final_predictions) == dict(library)

    metric = load_metric("squad_v2" if squad_v2 else "squad")
    formatted_predictions = [{"id": k, "prediction_text": v} for k, v in final_predictions.items()]
    references = [{"id": ex["id"], "answers": ex["answers"]} for ex in small["validation"]]
    scores = metric.compute(predictions=formatted_predictions, references=references)
    assert set(scores) == {"exact_match", "f1"}
    assert 0.0 <= scores["exact_match"] <= scores["f1"] <= 100.0
    gold = [{"id": ex["id"], "prediction_text": ex["answers"]["text"][0]} for ex in small["validation"]]
    assert metric.compute(predictions=gold, references=references) == {"exact_match": 100.0, "f1": 100.0}


def notebook_postprocess_qa_predictions(tokenizer, examples, features, raw_predictions):
    """The notebook's own post-processing: best start+end span inside the context, per example."""
    all_start_logits, all_end_logits = raw_predictions
    example_id_to_index = {k: i for i, k in enumerate(examples["id"])}
    features_per_example = collections.defaultdict(list)
    for i, feature in enumerate(features):
        features_per_example[example_id_to_index[feature["example_id"]]].append(i)
    predictions = collections.OrderedDict()
    for example_index, example in enumerate(examples):
        valid_answers = []
        for feature_index in features_per_example[example_index]:
            start_logits, end_logits = all_start_logits[feature_index], all_end_logits[feature_index]
            offset_mapping = features[feature_index]["offset_mapping"]
            start_indexes = np.argsort(start_logits)[-1 : -n_best_size - 1 : -1].tolist()
            end_indexes = np.argsort(end_logits)[-1 : -n_best_size - 1 : -1].tolist()
            for start_index in start_indexes:
                for end_index in end_indexes:
                    if offset_mapping[start_index] is None or offset_mapping[end_index] is None:
                        continue
                    if end_index < start_index or end_index - start_index + 1 > max_answer_length:
                        continue
                    start_char, end_char = offset_mapping[start_index][0], offset_mapping[end_index][1]
                    valid_answers.append(
                        {
                            "score": start_logits[start_index] + end_logits[end_index],
                            "text": example["context"][start_char:end_char],
                        }
                    )
        best = sorted(valid_answers, key=lambda x: x["score"], reverse=True)[0] if valid_answers else {"text": ""}
        predictions[example["id"]] = best["text"]
    return predictions
