"""ChnSentiCorp with a small BERT (4 layers, 256 wide) trained from scratch, and a WordPiece vocabulary
trained on the ChnSentiCorp train split with clearformer's WordPieceTrainer.

python recipes/tasks/chnsenticorp_small_bert.py --epochs 1 --batch-size 32 --max-length 128
"""

import json
import time
from pathlib import Path

import torch
from _common import DATA, NO_DROPOUT, parser, run_pair

from clearformer import BertConfig, BertForSequenceClassification
from clearformer.tasks import get_task, load_chnsenticorp
from clearformer.tokenization import AutoTokenizer
from clearformer.tokenization.trainers import WordPieceTrainer

SMALL = {
    "hidden_size": 256,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "intermediate_size": 1024,
    "max_position_embeddings": 512,
    **NO_DROPOUT,
}


def build(folder: Path, vocab_size: int) -> float:
    start = time.perf_counter()
    texts = load_chnsenticorp(DATA / "chnsenticorp")["train"]["text_a"]
    WordPieceTrainer(vocab_size=vocab_size).train(texts).save(folder)
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "BertTokenizer",
                "do_lower_case": True,
                "tokenize_chinese_chars": True,
                "model_max_length": 512,
            }
        )
    )
    vocab = len((folder / "vocab.txt").read_text(encoding="utf-8").splitlines())
    labels = {k: v for k, v in get_task("chnsenticorp").model_kwargs().items() if k != "num_labels"}
    torch.manual_seed(0)
    BertForSequenceClassification(BertConfig(vocab_size=vocab, **SMALL, **labels)).save_pretrained(folder)
    return time.perf_counter() - start


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--folder", default="/tmp/chnsenticorp_small_bert")
    args = p.parse_args()
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    seconds = build(folder, args.vocab_size)
    model = BertForSequenceClassification.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    initial = {k: v.clone() for k, v in model.state_dict().items()}

    def oracle():
        import transformers

        config = transformers.BertConfig.from_pretrained(folder)
        oracle_model = transformers.BertForSequenceClassification(config)
        oracle_model.load_state_dict(initial)
        return oracle_model

    options = {"max_length": args.max_length} if args.max_length else {}
    note = f"vocab {len(tokenizer)} WordPiece tokens trained in {seconds:.0f}s; model from scratch"
    run_pair(
        args,
        "chnsenticorp",
        DATA / "chnsenticorp",
        str(folder),
        options,
        model=model,
        tokenizer=tokenizer,
        oracle_builder=oracle,
        note=note,
    )
