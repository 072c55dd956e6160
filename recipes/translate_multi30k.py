"""Train the paper's Transformer and a Marian-architecture model from scratch on Multi30k en->de.

Both models get the same data (one joint SentencePiece vocabulary, trained here with the
``sentencepiece`` package and applied with clearformer's Unigram model), the same parameters
(post-norm, tied embeddings x sqrt(d), a trained output bias; Xavier-uniform matrices and
nn.Linear's default biases), the same dropout (0.1 on embeddings, residual branches, attention
probabilities and inside the FFN), the same loss (label smoothing 0.1), the same Adam + Noam
schedule and number of optimiser steps, and the same decoding (greedy and/or beam search: clearformer's
``generate`` for both, the paper model through ``PaperTransformerForGeneration``;
tests/models/test_transformer_decoding.py pins the two models' decodings to each other). The
paper model's training pieces (Batch, LabelSmoothing, the Noam ``rate``) come from
paper_transformer_training.py next to this file. Test BLEU is
sacrebleu on test_2016_flickr. The current result (docs/results-seq2seq.md: greedy BLEU 32.64 vs
32.21, beam 4 34.75 vs 33.99 after 2,140 steps; two concurrent processes, one thread each,
stopping at the same step once the first is over 60 wall minutes):

    python recipes/translate_multi30k.py --only paper  --minutes 60 --sync runs/mt3x256_v3/sync --layers 3 \
        --width 256 --heads 4 --vocab 8000 --max-tokens 2048 --factor 0.5 --warmup 1000 --threads 1 \
        --valid-every 200 --beams 1 4 --out runs/mt3x256_v3
    (the same with --only marian, started at the same time)

The learning rate matters: with the Noam schedule at factor 1 / warm-up 400 (peak 3.1e-3 for
d_model 256) both post-norm models stayed for 1,161 steps on a plateau where they ignore the
source; factor 0.5 / warm-up 1000 (peak 9.9e-4 at step 1000) translates after ~1,000 steps.

``--decode-only`` reloads ``<out>/<model>.pt`` and decodes again (e.g. other ``--beams``).
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
from paper_transformer_training import Batch, LabelSmoothing, rate  # recipes/, next to this file

from clearformer.models.marian.configuration_marian import MarianConfig
from clearformer.models.marian.modeling_marian import MarianMTModel
from clearformer.models.transformer.decoding_transformer import PaperTransformerForGeneration
from clearformer.models.transformer.modeling_transformer import make_model
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


def cached_split(tok: UnigramModel, args, split: str) -> list[tuple[list[int], list[int]]]:
    """encode_split, saved next to the SentencePiece model so that later runs skip the encoding."""
    path = args.out / f"spm{args.vocab}_{split}.json"
    if path.exists():
        return [tuple(pair) for pair in json.loads(path.read_text())]
    pairs = encode_split(tok, args.data, split, 64)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(pairs))
    tmp.replace(path)
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
    """Adapter: the annotated model's (src, tgt, masks) interface as log-probs and translations."""

    def __init__(self, vocab: int, args) -> None:
        self.net = make_model(vocab, vocab, args.layers, args.width, 4 * args.width, args.heads, 0.1,
                              share_embeddings=True)  # fmt: skip

    def log_probs(self, src, tgt_in):
        src_mask, tgt_mask = (src != PAD).unsqueeze(-2), Batch.make_std_mask(tgt_in, PAD)
        return self.net.generator(self.net(src, tgt_in, src_mask, tgt_mask))

    def translate(self, src, max_len: int, beams: int):
        self.net.eval()
        model = PaperTransformerForGeneration(self.net, decoder_start_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD)
        out = model.generate(src, attention_mask=(src != PAD).long(), max_new_tokens=max_len - 1, num_beams=beams)
        return [row[1:].tolist() for row in out]


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
        # The paper model's initialisation, so only the architecture differs: Xavier-uniform
        # matrices, and nn.Linear's default U(+-1/sqrt(fan_in)) biases (MarianPreTrainedModel zeroes them).
        for module in self.net.modules():
            if isinstance(module, torch.nn.Linear) and module.bias is not None:
                bound = 1 / math.sqrt(module.in_features)
                torch.nn.init.uniform_(module.bias, -bound, bound)
        for p in self.net.parameters():
            if p.dim() > 1:
                torch.nn.init.xavier_uniform_(p)
        # Marian-NMT trains its output bias (decoder_ff_logit_out_b, converted to final_logits_bias);
        # the checkpoint format keeps it as a buffer. Train it here, initialised like the paper's
        # generator bias, so both models have the same parameters.
        bias = self.net.final_logits_bias
        del self.net.final_logits_bias
        bound = 1 / math.sqrt(args.width)
        self.net.final_logits_bias = torch.nn.Parameter(torch.empty_like(bias).uniform_(-bound, bound))

    def log_probs(self, src, tgt_in):
        out = self.net(input_ids=src, attention_mask=(src != PAD).long(), decoder_input_ids=tgt_in, use_cache=False)
        return F.log_softmax(out.logits, dim=-1)

    def translate(self, src, max_len: int, beams: int):
        self.net.eval()
        out = self.net.generate(src, attention_mask=(src != PAD).long(), max_new_tokens=max_len - 1, num_beams=beams)
        return [row[1:].tolist() for row in out]


def strip(ids: list[int]) -> list[int]:
    return ids[: ids.index(EOS)] if EOS in ids else ids


def evaluate_bleu(model, tok, pairs, refs, args, beams: int) -> tuple[float, list[str]]:
    import sacrebleu

    hyps = []
    with torch.no_grad():
        for i in range(0, len(pairs), args.eval_batch):
            src = pad([s for s, _ in pairs[i : i + args.eval_batch]])
            hyps += [tok.decode([t for t in strip(ids) if t != PAD]) for ids in model.translate(src, 64, beams)]
    return sacrebleu.corpus_bleu(hyps, [refs]).score, hyps


def evaluate_loss(model, pairs, args) -> float:
    """Label-smoothed loss per target token on held-out pairs (dropout off)."""
    crit = LabelSmoothing(args.vocab, PAD, 0.1)
    model.net.eval()
    total, tokens = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(pairs), args.eval_batch):
            src = pad([s for s, _ in pairs[i : i + args.eval_batch]])
            tgt = pad([t for _, t in pairs[i : i + args.eval_batch]])
            logp = model.log_probs(src, tgt[:, :-1])
            y = tgt[:, 1:]
            total += float(crit(logp.reshape(-1, logp.size(-1)), y.reshape(-1)))
            tokens += int((y != PAD).sum())
    model.net.train()
    return total / tokens


def agreed_stop(sync: Path, name: str, step: int, over_budget: bool) -> int | None:
    """Two concurrent runs sharing ``sync`` stop at the same step: each records its progress; the first
    one over its time budget fixes the stop step (the furthest progress so far + 20) for both."""
    stop_file = sync / "stop_at"
    if step % 10 == 0:
        (sync / f"{name}.step").write_text(str(step))
    if not stop_file.exists() and over_budget:
        furthest = max([step] + [int(f.read_text() or 0) for f in sync.glob("*.step")])
        tmp = sync / f"stop_at.{name}.tmp"
        tmp.write_text(str(furthest + 20))
        if not stop_file.exists():
            tmp.replace(stop_file)
    return int(stop_file.read_text()) if stop_file.exists() else None


def train(model, name, train_pairs, args, steps=None, minutes=None, cpu_minutes=None, valid_pairs=None):
    """Adam + Noam schedule + label smoothing 0.1 until a step, wall-clock or CPU-time budget is spent.

    The CPU-time budget (this process's own CPU seconds) gives both models the same compute even
    when the machine is shared and its load changes during the run.
    """
    params = list({id(p): p for p in model.net.parameters()}.values())
    opt = torch.optim.Adam(params, lr=0, betas=(0.9, 0.98), eps=1e-9)
    first = 0
    if args.resume:  # continue from <out>/<name>.pt (+ its Adam state when saved) at step args.resume
        model.net.load_state_dict(torch.load(args.out / f"{name}.pt"))
        if (args.out / f"{name}.opt.pt").exists():
            opt.load_state_dict(torch.load(args.out / f"{name}.opt.pt"))
        first = args.resume
    model.optimizer = opt
    crit = LabelSmoothing(args.vocab, PAD, 0.1)
    rng = random.Random(args.seed + first)
    torch.manual_seed(args.seed)
    curve, step, start, cpu_start = [], first, time.time(), time.process_time()
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
                point = {"step": step, "seconds": round(elapsed, 1), "cpu_seconds": cpu, "train_loss": loss_now}
                if valid_pairs and args.valid_every and step % args.valid_every == 0:
                    point["valid_loss"] = round(evaluate_loss(model, valid_pairs, args), 4)
                curve.append(point)
                print(f"[{name}] {json.dumps(point)}", flush=True)
                running, running_tokens = 0.0, 0
            done_time = minutes is not None and time.time() - start > minutes * 60
            done_cpu = cpu_minutes is not None and time.process_time() - cpu_start > cpu_minutes * 60
            if args.sync:
                stop_at = agreed_stop(args.sync, name, step, done_time or done_cpu)
                done_time = done_cpu = stop_at is not None and step >= stop_at
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
    parser.add_argument("--factor", type=float, default=0.5, help="Noam schedule scale (peak lr: see the doc)")
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--beams", type=int, nargs="+", default=[1], help="decode with each, e.g. --beams 1 4")
    parser.add_argument("--valid-every", type=int, default=0, help="valid loss every N steps (multiple of 100)")
    parser.add_argument("--sync", type=Path, default=None,
                        help="folder shared by two concurrent runs (--only paper / --only marian): both stop at "
                        "the same step once the first is over its --minutes / --cpu-minutes budget")  # fmt: skip
    parser.add_argument("--resume", type=int, default=0,
                        help="continue training <out>/<name>.pt, which stopped after this many steps")  # fmt: skip
    parser.add_argument("--decode-only", action="store_true", help="load <out>/<name>.pt instead of training")
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
    train_pairs = cached_split(tok, args, "train")
    test_pairs = cached_split(tok, args, "test_2016_flickr")
    refs = (args.data / "test_2016_flickr.de").read_text(encoding="utf-8").splitlines()
    test_pairs, refs = test_pairs[: args.test_limit], refs[: args.test_limit]
    valid_pairs = cached_split(tok, args, "val")
    results = {}
    steps = args.steps
    for name, cls in (("paper", PaperModel), ("marian", MarianArchModel)):
        if args.only and name != args.only:
            continue
        torch.manual_seed(args.seed)
        model = cls(args.vocab, args)
        checkpoint = args.out / f"{name}.pt"
        result_file = args.out / f"{name}_results.json"
        if args.decode_only:
            model.net.load_state_dict(torch.load(checkpoint))
            result = json.loads(result_file.read_text()) if result_file.exists() else {"steps": None}
        else:
            if steps:
                budget = {"steps": steps}
            elif args.cpu_minutes:
                budget = {"cpu_minutes": args.cpu_minutes}
            else:
                budget = {"minutes": args.minutes}
            n, seconds, cpu_seconds, curve = train(model, name, train_pairs, args, valid_pairs=valid_pairs, **budget)
            steps = n  # the second model runs exactly as many steps
            torch.save(model.net.state_dict(), checkpoint)
            torch.save(model.optimizer.state_dict(), args.out / f"{name}.opt.pt")
            result = {"steps": n, "train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu_seconds, 1),
                      "load_average_after_training": [round(x, 2) for x in os.getloadavg()],
                      "valid_loss": round(evaluate_loss(model, valid_pairs, args), 4), "curve": curve,
                      "params": sum(p.numel() for p in set(model.net.parameters())),
                      "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}  # fmt: skip
        for beams in args.beams:
            t, cpu = time.time(), time.process_time()
            bleu, hyps = evaluate_bleu(model, tok, test_pairs, refs, args, beams)
            result[f"test_bleu_beam{beams}"] = round(bleu, 2)
            result[f"decode_seconds_beam{beams}"] = round(time.time() - t, 1)
            result[f"decode_cpu_seconds_beam{beams}"] = round(time.process_time() - cpu, 1)
            (args.out / f"{name}_test_hyps_beam{beams}.txt").write_text("\n".join(hyps) + "\n", encoding="utf-8")
            print(f"[{name}] {result['steps']} steps, beam {beams}: test BLEU {bleu:.2f}", flush=True)
            result_file.write_text(json.dumps(result, indent=2) + "\n")
        result_file.write_text(json.dumps(result, indent=2) + "\n")
        results[name] = result
    print(json.dumps({k: {kk: v for kk, v in r.items() if kk not in ("curve", "args")} for k, r in results.items()},
                     indent=2))  # fmt: skip
    bleus = [v for r in results.values() for k, v in r.items() if k.startswith("test_bleu")]
    if not math.isfinite(sum(bleus)):
        raise SystemExit("BLEU is not finite")


if __name__ == "__main__":
    main()
