"""Summarization PROXY: a small T5-architecture model trained from scratch to write a WikiText
paragraph's first sentence ("lead" summary). Not XSum and not comparable to the course's t5-small
numbers; it checks that the T5 code, tokenizer, loss, generate and ROUGE work end to end.

Train on wiki.valid.raw paragraphs, evaluate on wiki.test.raw paragraphs (WikiText-2 raw; this
copy has no train split). Tokenizer: SentencePiece trained here, applied by clearformer's
T5Tokenizer. ROUGE: rouge-score with stemming, F-measure x 100, as the course reports it.

    python recipes/summarize_proxy.py --cpu-minutes 5 --out runs/summarize
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from pathlib import Path

import torch

from clearformer.models.t5.configuration_t5 import T5Config
from clearformer.models.t5.modeling_t5 import T5ForConditionalGeneration
from clearformer.models.t5.tokenization_t5 import T5Tokenizer

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "wikitext-2-raw"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def paragraphs(path: Path, min_words: int = 40) -> list[tuple[str, str]]:
    """(paragraph, first sentence) for body paragraphs (no headings) of at least ``min_words`` words."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("=") or len(line.split()) < min_words:
            continue
        first = SENTENCE_END.split(line, maxsplit=1)[0]
        if 5 <= len(first.split()) <= 40 and first != line:
            out.append((line, first))
    return out


def train_tokenizer(texts: list[str], out: Path, vocab: int) -> T5Tokenizer:
    import sentencepiece as spm  # reference trainer; clearformer's T5Tokenizer applies the model

    corpus = out / "corpus.txt"
    corpus.write_text("\n".join(texts) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(out / "spiece"), vocab_size=vocab,
                                   model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
                                   minloglevel=2)  # fmt: skip
    return T5Tokenizer(vocab_file=str(out / "spiece.model"), extra_ids=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=Path("runs/summarize"))
    parser.add_argument("--cpu-minutes", type=float, default=5.0)
    parser.add_argument("--vocab", type=int, default=4000)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--eval-size", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not (args.data / "wiki.valid.raw").is_file():
        raise SystemExit(f"WikiText-2 raw not found at {args.data}: expected wiki.valid.raw and wiki.test.raw")
    from rouge_score import rouge_scorer

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    train = paragraphs(args.data / "wiki.valid.raw")
    test = paragraphs(args.data / "wiki.test.raw")[: args.eval_size]
    tok = train_tokenizer([p for p, _ in train], args.out, args.vocab)
    config = T5Config(vocab_size=len(tok), d_model=args.width, d_kv=args.width // 4, d_ff=4 * args.width,
                      num_layers=args.layers, num_heads=4, dropout_rate=0.1, decoder_start_token_id=0)  # fmt: skip
    model = T5ForConditionalGeneration(config)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    curve, step, start, cpu0 = [], 0, time.time(), time.process_time()
    while time.process_time() - cpu0 < args.cpu_minutes * 60:
        rng.shuffle(train)
        for i in range(0, len(train) - args.batch_size + 1, args.batch_size):
            chunk = train[i : i + args.batch_size]
            batch = tok(["summarize: " + p for p, _ in chunk], text_target=[f for _, f in chunk], max_length=128,
                        truncation=True, padding=True, return_tensors="pt")  # fmt: skip
            labels = batch["labels"].masked_fill(batch["labels"] == tok.pad_token_id, -100)
            model.train()
            loss = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 20 == 0:
                curve.append({"step": step, "cpu_seconds": round(time.process_time() - cpu0, 1),
                              "train_loss": round(loss.item(), 4)})  # fmt: skip
                print(f"step {step} loss {loss.item():.3f} ({time.time() - start:.0f}s wall)", flush=True)
            if time.process_time() - cpu0 >= args.cpu_minutes * 60:
                break
    train_wall, train_cpu = time.time() - start, time.process_time() - cpu0
    model.eval()
    preds = []
    for i in range(0, len(test), 25):
        enc = tok(["summarize: " + p for p, _ in test[i : i + 25]], max_length=128, truncation=True, padding=True,
                  return_tensors="pt")  # fmt: skip
        out = model.generate(enc["input_ids"], attention_mask=enc["attention_mask"], max_new_tokens=48)
        preds += tok.batch_decode(out, skip_special_tokens=True)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    scores = [scorer.score(ref, pred) for (_, ref), pred in zip(test, preds)]
    rouge = {k: round(100 * sum(s[k].fmeasure for s in scores) / len(scores), 2) for k in scores[0]}
    results = {"task": "WikiText-2 paragraph -> first sentence (proxy, not XSum)", "train_examples": len(train),
               "test_examples": len(test), "steps": step, "train_wall_seconds": round(train_wall, 1),
               "train_cpu_seconds": round(train_cpu, 1), "load_average": [round(x, 2) for x in os.getloadavg()],
               "rouge": rouge, "curve": curve,
               "examples": [{"reference": r, "prediction": p} for (_, r), p in list(zip(test, preds))[:5]]}  # fmt: skip
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k != "curve"}, indent=2))


if __name__ == "__main__":
    main()
