"""Train the paper's Transformer and a Marian-architecture model from scratch on Multi30k en->de.

Both models get the same data (one joint SentencePiece vocabulary, trained here with the
``sentencepiece`` package and applied with clearformer's Unigram model), the same loss (label
smoothing 0.1), the same Noam schedule and number of optimiser steps, and the same decoding
(greedy, or beam with --beams). The paper model trains for --minutes of wall time; the Marian model
then runs the same number of steps. Test BLEU is sacrebleu on test_2016_flickr.

    python recipes/translate_multi30k.py --minutes 10 --out runs/multi30k
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from clearformer.models.marian.configuration_marian import MarianConfig
from clearformer.models.marian.modeling_marian import MarianMTModel
from clearformer.models.transformer.modeling_transformer import make_model
from clearformer.models.transformer.training_transformer import (
    Batch,
    LabelSmoothing,
    beam_search,
    greedy_decode,
    rate,
)
from clearformer.tokenization.unigram import UnigramModel

PAD, UNK, BOS, EOS = 0, 1, 2, 3
DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "multi30k"


def train_sentencepiece(data: Path, out: Path, vocab: int) -> Path:
    import sentencepiece as spm  # the reference trainer; encoding below is clearformer's own

    prefix = out / f"spm{vocab}"
    if not prefix.with_suffix(".model").exists():
        spm.SentencePieceTrainer.train(
            input=f"{data / 'train.en'},{data / 'train.de'}",
            model_prefix=str(prefix),
            vocab_size=vocab,
            model_type="unigram",
            pad_id=PAD,
            unk_id=UNK,
            bos_id=BOS,
            eos_id=EOS,
            character_coverage=1.0,
            minloglevel=2,
        )
    return prefix.with_suffix(".model")


def encode_split(tok: UnigramModel, data: Path, split: str, max_len: int) -> list[tuple[list[int], list[int]]]:
    en = (data / f"{split}.en").read_text(encoding="utf-8").splitlines()
    de = (data / f"{split}.de").read_text(encoding="utf-8").splitlines()
    pairs = [
        (tok.encode(s)[: max_len - 1] + [EOS], [BOS] + tok.encode(t)[: max_len - 2] + [EOS]) for s, t in zip(en, de)
    ]
    return pairs


def batches(pairs, max_tokens: int, rng: random.Random):
    """Length-sorted buckets of about ``max_tokens`` target tokens (less padding), in random order."""
    order = sorted(range(len(pairs)), key=lambda i: (len(pairs[i][1]), rng.random()))
    out, cur, longest = [], [], 0
    for i in order:
        longest = max(longest, len(pairs[i][1]), len(pairs[i][0]))
        if cur and longest * (len(cur) + 1) > max_tokens:
            out.append(cur)
            cur, longest = [], max(len(pairs[i][1]), len(pairs[i][0]))
        cur.append(i)
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def pad(seqs: list[list[int]]) -> torch.Tensor:
    width = max(map(len, seqs))
    return torch.tensor([s + [PAD] * (width - len(s)) for s in seqs])


class PaperModel:
    """Adapter: the annotated model's (src, tgt, masks) interface as log-probs / greedy / beam."""

    def __init__(self, vocab: int, args) -> None:
        self.net = make_model(vocab, vocab, args.layers, args.width, 4 * args.width, args.heads, 0.1,
                              share_embeddings=True)  # fmt: skip

    def log_probs(self, src, tgt_in):
        src_mask, tgt_mask = (src != PAD).unsqueeze(-2), Batch.make_std_mask(tgt_in, PAD)
        return self.net.generator(self.net(src, tgt_in, src_mask, tgt_mask))

    def translate(self, src, max_len: int, beams: int):
        src_mask = (src != PAD).unsqueeze(-2)
        self.net.eval()
        if beams > 1:
            return beam_search(self.net, src, src_mask, max_len, BOS, EOS, beams)
        return [row[1:].tolist() for row in greedy_decode(self.net, src, src_mask, max_len, BOS, EOS)]


class MarianArchModel:
    """The same sizes as a MarianMTModel (post-norm, half-layout sinusoid, scaled embeddings)."""

    def __init__(self, vocab: int, args) -> None:
        config = MarianConfig(vocab_size=vocab, d_model=args.width, encoder_layers=args.layers,
                              decoder_layers=args.layers, encoder_attention_heads=args.heads,
                              decoder_attention_heads=args.heads, encoder_ffn_dim=4 * args.width,
                              decoder_ffn_dim=4 * args.width, max_position_embeddings=256, dropout=0.1,
                              attention_dropout=0.1, activation_dropout=0.1,
                              activation_function="relu", scale_embedding=True, pad_token_id=PAD,
                              eos_token_id=EOS, decoder_start_token_id=BOS, forced_eos_token_id=None)  # fmt: skip
        self.net = MarianMTModel(config)
        for p in self.net.parameters():  # the paper model's init, so only the architecture differs
            if p.dim() > 1:
                torch.nn.init.xavier_uniform_(p)

    def log_probs(self, src, tgt_in):
        out = self.net(input_ids=src, attention_mask=(src != PAD).long(), decoder_input_ids=tgt_in, use_cache=False)
        return F.log_softmax(out.logits, dim=-1)

    def translate(self, src, max_len: int, beams: int):
        self.net.eval()
        out = self.net.generate(src, attention_mask=(src != PAD).long(), max_new_tokens=max_len - 1, num_beams=beams)
        return [row[1:].tolist() for row in out]


def strip(ids: list[int]) -> list[int]:
    return ids[: ids.index(EOS)] if EOS in ids else ids


def evaluate_bleu(model, tok, pairs, refs, args) -> tuple[float, list[str]]:
    import sacrebleu

    hyps = []
    with torch.no_grad():
        for i in range(0, len(pairs), args.eval_batch):
            src = pad([s for s, _ in pairs[i : i + args.eval_batch]])
            hyps += [tok.decode([t for t in strip(ids) if t != PAD]) for ids in model.translate(src, 64, args.beams)]
    return sacrebleu.corpus_bleu(hyps, [refs]).score, hyps


def train(model, name, train_pairs, args, steps=None, minutes=None, cpu_minutes=None):
    """Adam + Noam schedule + label smoothing 0.1 until a step, wall-clock or CPU-time budget is spent.

    The CPU-time budget (this process's own CPU seconds) gives both models the same compute even
    when the machine is shared and its load changes during the run.
    """
    params = list({id(p): p for p in model.net.parameters()}.values())
    opt = torch.optim.Adam(params, lr=0, betas=(0.9, 0.98), eps=1e-9)
    crit = LabelSmoothing(args.vocab, PAD, 0.1)
    rng = random.Random(args.seed)
    torch.manual_seed(args.seed)
    curve, step, start, cpu_start = [], 0, time.time(), time.process_time()
    running, running_tokens = 0.0, 0
    while True:
        for idx in batches(train_pairs, args.max_tokens, rng):
            model.net.train()
            src = pad([train_pairs[i][0] for i in idx])
            tgt = pad([train_pairs[i][1] for i in idx])
            logp = model.log_probs(src, tgt[:, :-1])
            y = tgt[:, 1:]
            ntok = int((y != PAD).sum())
            loss = crit(logp.reshape(-1, logp.size(-1)), y.reshape(-1)) / ntok
            for g in opt.param_groups:
                g["lr"] = rate(step + 1, args.width, args.factor, args.warmup)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            running += loss.item() * ntok
            running_tokens += ntok
            if step % 100 == 0:
                elapsed = time.time() - start
                cpu = round(time.process_time() - cpu_start, 1)
                loss_now = round(running / running_tokens, 4)
                curve.append({"step": step, "seconds": round(elapsed, 1), "cpu_seconds": cpu, "train_loss": loss_now})
                print(f"[{name}] step {step} {elapsed:.0f}s loss/token {running / running_tokens:.3f}", flush=True)
                running, running_tokens = 0.0, 0
            done_time = minutes is not None and time.time() - start > minutes * 60
            done_cpu = cpu_minutes is not None and time.process_time() - cpu_start > cpu_minutes * 60
            if done_time or done_cpu or (steps is not None and step >= steps):
                return step, time.time() - start, time.process_time() - cpu_start, curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=Path("runs/multi30k"))
    parser.add_argument("--minutes", type=float, default=10.0, help="wall-clock training budget")
    parser.add_argument("--cpu-minutes", type=float, default=None, help="CPU-time budget instead (shared machines)")
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=2048)
    parser.add_argument("--factor", type=float, default=1.0)
    parser.add_argument("--warmup", type=int, default=800)
    parser.add_argument("--beams", type=int, default=1)
    parser.add_argument("--eval-batch", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=["paper", "marian"], default=None)
    parser.add_argument("--test-limit", type=int, default=None, help="first N test sentences (smoke runs)")
    parser.add_argument("--steps", type=int, default=None, help="fixed step budget instead of --minutes")
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"Multi30k not found at {args.data}: expected train.en/train.de/test_2016_flickr.*")
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    tok = UnigramModel.from_sentencepiece(train_sentencepiece(args.data, args.out, args.vocab))
    train_pairs = encode_split(tok, args.data, "train", 64)
    test_pairs = encode_split(tok, args.data, "test_2016_flickr", 64)
    refs = (args.data / "test_2016_flickr.de").read_text(encoding="utf-8").splitlines()
    test_pairs, refs = test_pairs[: args.test_limit], refs[: args.test_limit]
    results = {}
    steps = args.steps
    for name, cls in (("paper", PaperModel), ("marian", MarianArchModel)):
        if args.only and name != args.only:
            continue
        torch.manual_seed(args.seed)
        model = cls(args.vocab, args)
        if steps:
            budget = {"steps": steps}
        elif args.cpu_minutes:
            budget = {"cpu_minutes": args.cpu_minutes}
        else:
            budget = {"minutes": args.minutes}
        n, seconds, cpu_seconds, curve = train(model, name, train_pairs, args, **budget)
        steps = n  # the second model runs exactly as many steps
        t = time.time()
        bleu, hyps = evaluate_bleu(model, tok, test_pairs, refs, args)
        results[name] = {"steps": n, "train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu_seconds, 1),
                         "load_average": [round(x, 2) for x in os.getloadavg()], "test_bleu": round(bleu, 2),
                         "decode_seconds": round(time.time() - t, 1), "beams": args.beams, "curve": curve,
                         "params": sum(p.numel() for p in set(model.net.parameters()))}  # fmt: skip
        (args.out / f"{name}_test_hyps.txt").write_text("\n".join(hyps) + "\n", encoding="utf-8")
        print(f"[{name}] {n} steps in {seconds:.0f}s, test BLEU {bleu:.2f}", flush=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: {kk: v for kk, v in r.items() if kk != "curve"} for k, r in results.items()}, indent=2))
    if not math.isfinite(sum(r["test_bleu"] for r in results.values())):
        raise SystemExit("BLEU is not finite")


if __name__ == "__main__":
    main()
