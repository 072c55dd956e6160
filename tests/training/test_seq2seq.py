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


def _tiny_marian(tokenizer, **overrides) -> MarianMTModel:
    pad = tokenizer.pad_token_id
    config = MarianConfig(vocab_size=len(tokenizer), d_model=16, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                          max_position_embeddings=64, pad_token_id=pad, decoder_start_token_id=pad, eos_token_id=0,
                          forced_eos_token_id=None, **overrides)  # fmt: skip
    torch.manual_seed(0)
    model = MarianMTModel(config).eval()
    # A model that never ends early: every row runs to the length limit, so the limit is what is seen.
    model.generation_config.eos_token_id = None
    return model


@pytest.mark.parametrize("max_length, want_width", [(None, 21), (12, 12)])
def test_predict_without_a_length_generates_twenty_new_tokens_like_reference(
    tokenizer, tmp_path, max_length, want_width
):
    # transformers (4.57 and 5.24): when neither the call nor the arguments set a length and the
    # generation config holds the default max_length of 20, generate() makes 20 *new* tokens
    # (t5-small's generation_config.json sets none, so notebook 4.7's predictions are 21 wide).
    model = _tiny_marian(tokenizer)
    args = Seq2SeqTrainingArguments(output_dir=str(tmp_path), per_device_eval_batch_size=4, predict_with_generate=True,
                                    generation_max_length=max_length, report_to="none")  # fmt: skip
    collator = DataCollatorForSeq2Seq(tokenizer, model=model)
    trainer = Seq2SeqTrainer(model=model, args=args, data_collator=collator)
    data = _features(tokenizer, n=4)
    out = trainer.predict(data)
    assert out.predictions.shape == (4, want_width)
    batch = collator(data)
    want = model.generate(batch["input_ids"], attention_mask=batch["attention_mask"], max_new_tokens=want_width - 1)
    assert out.predictions.tolist() == want.tolist()


def test_predict_keeps_a_max_length_the_checkpoint_sets(tokenizer, tmp_path):
    model = _tiny_marian(tokenizer)
    model.generation_config.max_length = 9  # e.g. opus-mt's generation_config.json sets 512
    args = Seq2SeqTrainingArguments(output_dir=str(tmp_path), predict_with_generate=True, report_to="none")
    trainer = Seq2SeqTrainer(model=model, args=args, data_collator=DataCollatorForSeq2Seq(tokenizer, model=model))
    assert trainer.predict(_features(tokenizer, n=4)).predictions.shape == (4, 9)
