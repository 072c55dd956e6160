"""Seq2SeqTrainer: evaluation by generation (predict_with_generate) with the course's BLEU metric."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from clearformer.data.collators import DataCollatorForSeq2Seq
from clearformer.models.marian.configuration_marian import MarianConfig
from clearformer.models.marian.modeling_marian import MarianMTModel
from clearformer.models.marian.tokenization_marian import MarianTokenizer
from clearformer.training.seq2seq import Seq2SeqTrainer, Seq2SeqTrainingArguments

spm = pytest.importorskip("sentencepiece", reason="the sentencepiece package trains the test vocabulary")

WORDS = [
    "a",
    "big",
    "small",
    "red",
    "blue",
    "dog",
    "cat",
    "house",
    "tree",
    "runs",
    "sits",
    "sees",
    "the",
    "one",
    "two",
    "three",
]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory) -> MarianTokenizer:
    folder = tmp_path_factory.mktemp("tok")
    rng = np.random.default_rng(0)
    corpus = "\n".join(" ".join(rng.choice(WORDS, size=6)) for _ in range(300))
    (folder / "corpus.txt").write_text(corpus)
    ids = {"unk_id": 0, "bos_id": -1, "eos_id": -1, "pad_id": -1}
    spm.SentencePieceTrainer.train(input=str(folder / "corpus.txt"), model_prefix=str(folder / "sp"), vocab_size=30,
                                   model_type="unigram", minloglevel=2, **ids)  # fmt: skip
    vocab = {"</s>": 0, "<unk>": 1}
    for line in (folder / "sp.vocab").read_text().splitlines():
        vocab.setdefault(line.split("\t")[0], len(vocab))
    vocab["<pad>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    return MarianTokenizer(str(folder / "sp.model"), str(folder / "sp.model"), str(folder / "vocab.json"))


def _features(tokenizer, n=24):
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(WORDS, size=4)) for _ in range(n)]
    enc = tokenizer(texts, text_target=texts, max_length=16, truncation=True)
    return [{"input_ids": i, "attention_mask": m, "labels": y} for i, m, y in zip(enc["input_ids"],
            enc["attention_mask"], enc["labels"])]  # fmt: skip


def test_predict_with_generate_gives_bleu_and_generated_ids(tokenizer, tmp_path):
    import sacrebleu

    pad = tokenizer.pad_token_id
    config = MarianConfig(vocab_size=len(tokenizer), d_model=32, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                          max_position_embeddings=64, pad_token_id=pad, decoder_start_token_id=pad, eos_token_id=0,
                          forced_eos_token_id=None, dropout=0.0)  # fmt: skip
    torch.manual_seed(0)
    model = MarianMTModel(config)
    data = _features(tokenizer)

    def compute_metrics(eval_preds):
        preds, labels = eval_preds
        labels = np.where(labels != -100, labels, pad)  # -100 cannot be decoded: put pad back first
        decoded_preds = [p.strip() for p in tokenizer.batch_decode(preds, skip_special_tokens=True)]
        decoded_labels = [[t.strip()] for t in tokenizer.batch_decode(labels, skip_special_tokens=True)]
        bleu = sacrebleu.corpus_bleu(decoded_preds, list(zip(*decoded_labels)))
        gen_len = np.mean([np.count_nonzero(p != pad) for p in preds])
        return {"bleu": round(bleu.score, 4), "gen_len": round(float(gen_len), 4)}

    args = Seq2SeqTrainingArguments(output_dir=str(tmp_path), evaluation_strategy="no", learning_rate=3e-3,
                                    per_device_train_batch_size=8, per_device_eval_batch_size=8, max_steps=60,
                                    predict_with_generate=True, generation_max_length=12, generation_num_beams=2,
                                    report_to="none", save_strategy="no")  # fmt: skip
    trainer = Seq2SeqTrainer(model=model, args=args, train_dataset=data, eval_dataset=data, tokenizer=tokenizer,
                             data_collator=DataCollatorForSeq2Seq(tokenizer, model=model),
                             compute_metrics=compute_metrics)  # fmt: skip
    before = trainer.evaluate()
    trainer.train()
    after = trainer.evaluate()
    assert {"eval_bleu", "eval_gen_len", "eval_loss"} <= set(after)
    assert after["eval_loss"] < before["eval_loss"]
    out = trainer.predict(data[:8])
    assert out.predictions.shape == (8, 12)  # padded to generation_max_length
    batch = DataCollatorForSeq2Seq(tokenizer, model=model)(data[:8])
    want = model.generate(batch["input_ids"], attention_mask=batch["attention_mask"], max_new_tokens=11, num_beams=2)
    assert out.predictions[0, : want.shape[1]].tolist() == want[0].tolist()


def test_arguments_default_to_plain_evaluation(tmp_path):
    args = Seq2SeqTrainingArguments(output_dir=str(tmp_path))
    assert args.predict_with_generate is False
    assert args.generation_max_length is None and args.generation_num_beams is None
