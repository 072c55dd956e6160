"""``clearformer generate``: continue a prompt with a local causal LM, streaming tokens as they come.

    clearformer generate --model DIR --prompt "The meaning of life is" --max-new-tokens 40
    clearformer generate --model DIR --prompt "..." --do-sample --top-p 0.9 --seed 0

The model folder needs config.json, the weights and the tokenizer files (vocab.json + merges.txt
for GPT-2). Beam search cannot stream (the best hypothesis is known only at the end), so its
result is printed when done.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("generate", help="continue a prompt with a causal LM (streams tokens)")
    p.add_argument("--model", required=True, help="model folder (config.json, weights, tokenizer files)")
    p.add_argument("--prompt", required=True, help="text to continue")
    p.add_argument("--max-new-tokens", type=int, default=50)
    p.add_argument("--min-new-tokens", type=int, default=None)
    p.add_argument("--do-sample", action="store_true", help="sample instead of greedy decoding")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=50)
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--min-p", type=float, default=None)
    p.add_argument("--num-beams", type=int, default=1)
    p.add_argument("--repetition-penalty", type=float, default=1.0)
    p.add_argument("--no-repeat-ngram-size", type=int, default=0)
    p.add_argument("--seed", type=int, default=None, help="makes sampling reproducible")
    p.add_argument("--dtype", default=None, help="float32 (default), bfloat16, ...")
    p.add_argument("--quantize", choices=["int8"], default=None, help="int8 weight-only (CPU, bf16 activations)")
    p.add_argument("--no-stream", action="store_true", help="print the text once at the end")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    import torch

    from ..generation import TextStreamer
    from ..models.auto import AutoModelForCausalLM
    from ..tokenization import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    load = {"dtype": args.dtype} if args.dtype else {}
    if args.quantize:
        load["quantize"] = args.quantize
    model = AutoModelForCausalLM.from_pretrained(args.model, **load)
    input_ids = torch.tensor([tokenizer(args.prompt)["input_ids"]], dtype=torch.long)
    settings = dict(
        max_new_tokens=args.max_new_tokens,
        min_new_tokens=args.min_new_tokens,
        do_sample=args.do_sample,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        min_p=args.min_p,
        num_beams=args.num_beams,
        repetition_penalty=args.repetition_penalty,
        no_repeat_ngram_size=args.no_repeat_ngram_size,
    )
    generator = torch.Generator().manual_seed(args.seed) if args.seed is not None else None
    stream = not args.no_stream and args.num_beams == 1
    streamer = TextStreamer(tokenizer) if stream else None
    output = model.generate(input_ids, streamer=streamer, generator=generator, **settings)
    if not stream:
        sys.stdout.write(tokenizer.decode(output[0].tolist()) + "\n")
    return 0
