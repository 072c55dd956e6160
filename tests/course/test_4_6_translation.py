"""Notebook 4.6 (生成任务-机器翻译) walked on clearformer: an opus-mt-like Marian model fine-tuned
with Seq2SeqTrainer, evaluated by generation with sacreBLEU.

Changed from the notebook: the import line; WMT16 en-ro becomes Multi30k en-de written as local
JSON lines with WMT's ``{"translation": {...}}`` rows (read by ``load_dataset("json", ...)``); the
checkpoint is a tiny random Marian with SentencePiece vocabularies trained here; training is one
epoch over 32 pairs. ``as_target_tokenizer`` (removed in transformers 5) is checked against 4.57.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from clearformer import (
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    DataCollatorForSeq2Seq,
    Seq2SeqTrainer,
    Seq2SeqTrainingArguments,
    load_dataset,
    load_metric,
)
from tests.conftest import run_legacy
from tests.course._fixtures_generation import marian_checkpoint

source_lang = "en"
target_lang = "de"
max_input_length = 128
max_target_length = 128
prefix = ""  # the notebook's prefix is "" for every checkpoint but T5's


@pytest.fixture(scope="module")
def model_checkpoint(shared_data, tmp_path_factory):
    return marian_checkpoint(tmp_path_factory.mktemp("opus-mt-en-de"), shared_data)


@pytest.fixture(scope="module")
def raw_datasets(shared_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("wmt-like")
    files = {}
    for split, name, n in (("train", "train", 32), ("validation", "val", 16), ("test", "test_2016_flickr", 16)):
        pairs = []
        for lang in ("en", "de"):
            with open(shared_data / "multi30k" / f"{name}.{lang}", encoding="utf-8") as f:
                pairs.append([next(f).rstrip("\n") for _ in range(n)])
        rows = [{"translation": {"en": en, "de": de}} for en, de in zip(*pairs)]
        files[split] = str(folder / f"{split}.jsonl")
        with open(files[split], "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return load_dataset("json", data_files=files)


def test_dataset_has_wmt_layout(raw_datasets):
    assert set(raw_datasets) == {"train", "validation", "test"}
    assert raw_datasets["train"].column_names == ["translation"]
    assert raw_datasets["train"][0] == {
        "translation": {
            "en": "Two young, White males are outside near many bushes.",
            "de": "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.",
        }
    }


def test_sacrebleu_metric_gives_the_notebooks_numbers():
    metric = load_metric("sacrebleu")
    fake_preds = ["hello there", "general kenobi"]
    fake_labels = [["hello there"], ["general kenobi"]]
    result = metric.compute(predictions=fake_preds, references=fake_labels)
    # The notebook's printed output (deterministic: two 2-word sentences have no 3- or 4-grams).
    assert result == {
        "bp": 1.0,
        "counts": [4, 2, 0, 0],
        "precisions": [100.0, 100.0, 0.0, 0.0],
        "ref_len": 4,
        "score": 0.0,
        "sys_len": 4,
        "totals": [4, 2, 0, 0],
    }


@pytest.fixture(scope="module")
def tokenizer(model_checkpoint):
    return AutoTokenizer.from_pretrained(model_checkpoint)


def test_tokenizer_calls_match_reference(tokenizer, model_checkpoint):
    transformers = pytest.importorskip("transformers")
    oracle = transformers.AutoTokenizer.from_pretrained(model_checkpoint)
    assert dict(tokenizer("Hello, this one sentence!")) == dict(oracle("Hello, this one sentence!"))
    pair = ["Hello, this one sentence!", "This is another sentence."]
    assert dict(tokenizer(pair)) == dict(oracle(pair))
    with tokenizer.as_target_tokenizer():
        model_input = tokenizer("Hello, this one sentence!")
        tokens = tokenizer.convert_ids_to_tokens(model_input["input_ids"])
    want = oracle(text_target="Hello, this one sentence!")["input_ids"]  # 5.x's spelling of the same thing
    assert model_input["input_ids"] == want
    assert tokens == oracle.convert_ids_to_tokens(want) and tokens[-1] == "</s>"
    # Outside the block the source vocabulary is back.
    assert tokenizer("Hallo")["input_ids"] == oracle("Hallo")["input_ids"]


def preprocess_function_for(tokenizer):
    def preprocess_function(examples):
        inputs = [prefix + ex[source_lang] for ex in examples["translation"]]
        targets = [ex[target_lang] for ex in examples["translation"]]
        model_inputs = tokenizer(inputs, max_length=max_input_length, truncation=True)
        with tokenizer.as_target_tokenizer():
            labels = tokenizer(targets, max_length=max_target_length, truncation=True)
        model_inputs["labels"] = labels["input_ids"]
        return model_inputs

    return preprocess_function


def test_preprocess_function_matches_legacy_as_target_tokenizer(
    tokenizer, raw_datasets, model_checkpoint, legacy_python
):
    script = (
        "import json, sys, transformers\n"
        "tok = transformers.AutoTokenizer.from_pretrained(sys.argv[1])\n"
        "rows = json.loads(sys.argv[2])\n"
        "enc = tok([r['en'] for r in rows], max_length=128, truncation=True)\n"
        "with tok.as_target_tokenizer():\n"
        "    labels = tok([r['de'] for r in rows], max_length=128, truncation=True)\n"
        "print(json.dumps({**enc, 'labels': labels['input_ids']}))\n"
    )
    rows = raw_datasets["train"][:2]["translation"]
    want = json.loads(run_legacy(legacy_python, script, str(model_checkpoint), json.dumps(rows)))
    got = preprocess_function_for(tokenizer)(raw_datasets["train"][:2])
    assert dict(got) == want


def test_seq2seq_collator_pads_labels_with_minus_100_and_shifts_decoder_inputs(
    tokenizer, raw_datasets, model_checkpoint
):
    transformers = pytest.importorskip("transformers")
    tokenized = raw_datasets["train"].map(preprocess_function_for(tokenizer), batched=True)
    features = [{k: tokenized[i][k] for k in ("input_ids", "attention_mask", "labels")} for i in range(4)]
    model = AutoModelForSeq2SeqLM.from_pretrained(model_checkpoint)
    batch = DataCollatorForSeq2Seq(tokenizer, model=model)(features)
    ref_model = transformers.AutoModelForSeq2SeqLM.from_pretrained(model_checkpoint)
    ref_tok = transformers.AutoTokenizer.from_pretrained(model_checkpoint)
    want = transformers.DataCollatorForSeq2Seq(ref_tok, model=ref_model)(features)
    assert set(batch) == set(want) == {"input_ids", "attention_mask", "labels", "decoder_input_ids"}
    for key in want:
        assert torch.equal(batch[key], want[key]), key


def test_seq2seq_trainer_trains_and_evaluates_with_bleu(tokenizer, raw_datasets, model_checkpoint, tmp_path):
    metric = load_metric("sacrebleu")
    tokenized_datasets = raw_datasets.map(preprocess_function_for(tokenizer), batched=True)
    model = AutoModelForSeq2SeqLM.from_pretrained(model_checkpoint)
    batch_size = 16
    args = Seq2SeqTrainingArguments(
        str(tmp_path / "test-translation"),
        evaluation_strategy="epoch",
        learning_rate=2e-5,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        weight_decay=0.01,
        save_total_limit=3,
        num_train_epochs=1,
        predict_with_generate=True,
        fp16=False,
        report_to="none",
    )
    data_collator = DataCollatorForSeq2Seq(tokenizer, model=model)

    def postprocess_text(preds, labels):
        return [p.strip() for p in preds], [[label.strip()] for label in labels]

    def compute_metrics(eval_preds):
        preds, labels = eval_preds
        if isinstance(preds, tuple):
            preds = preds[0]
        decoded_preds = tokenizer.batch_decode(preds, skip_special_tokens=True)
        labels = np.where(labels != -100, labels, tokenizer.pad_token_id)  # -100 cannot be decoded
        decoded_labels = tokenizer.batch_decode(labels, skip_special_tokens=True)
        decoded_preds, decoded_labels = postprocess_text(decoded_preds, decoded_labels)
        result = metric.compute(predictions=decoded_preds, references=decoded_labels)
        result = {"bleu": result["score"]}
        result["gen_len"] = np.mean([np.count_nonzero(pred != tokenizer.pad_token_id) for pred in preds])
        return {k: round(v, 4) for k, v in result.items()}

    trainer = Seq2SeqTrainer(
        model,
        args,
        train_dataset=tokenized_datasets["train"],
        eval_dataset=tokenized_datasets["validation"],
        data_collator=data_collator,
        tokenizer=tokenizer,
        compute_metrics=compute_metrics,
    )
    out = trainer.train()
    assert out.global_step == 2
    evals = [log for log in trainer.state.log_history if "eval_bleu" in log]
    assert len(evals) == 1 and evals[0]["epoch"] == pytest.approx(1.0)
    assert 0.0 <= evals[0]["eval_bleu"] <= 100.0
    # gen_len counts non-pad ids of sequences generated up to the model's max_length of 24.
    assert 1.0 <= evals[0]["eval_gen_len"] <= 24.0


def test_predict_with_generate_matches_reference_generate_before_training(
    tokenizer, raw_datasets, model_checkpoint, tmp_path
):
    transformers = pytest.importorskip("transformers")
    tokenized_datasets = raw_datasets.map(preprocess_function_for(tokenizer), batched=True)
    model = AutoModelForSeq2SeqLM.from_pretrained(model_checkpoint)
    args = Seq2SeqTrainingArguments(
        str(tmp_path / "test-translation"),
        per_device_eval_batch_size=16,
        predict_with_generate=True,
        report_to="none",
    )
    trainer = Seq2SeqTrainer(
        model, args, data_collator=DataCollatorForSeq2Seq(tokenizer, model=model), tokenizer=tokenizer
    )
    out = trainer.predict(tokenized_datasets["validation"])
    # The reference generates with the checkpoint's own settings (num_beams=2, max_length=24); the
    # trainer pads every row with the pad id to that max_length.
    ref = transformers.AutoModelForSeq2SeqLM.from_pretrained(model_checkpoint).eval()
    batch = transformers.DataCollatorForSeq2Seq(transformers.AutoTokenizer.from_pretrained(model_checkpoint))(
        [{k: r[k] for k in ("input_ids", "attention_mask")} for r in tokenized_datasets["validation"]]
    )
    with torch.no_grad():
        want = ref.generate(batch["input_ids"], attention_mask=batch["attention_mask"])
    assert out.predictions.shape == (16, 24)
    assert out.predictions[:, : want.shape[1]].tolist() == want.tolist()
    assert (out.predictions[:, want.shape[1] :] == tokenizer.pad_token_id).all()
