"""Chinese text classification (ChnSentiCorp, THUCNews) with a small BERT (4 layers, 256 wide) trained
from scratch, and a WordPiece vocabulary trained on the task's train split with clearformer's
WordPieceTrainer; optionally a short masked-LM pre-training on the same train texts first.

python recipes/tasks/chnsenticorp_small_bert.py --epochs 1 --batch-size 32 --max-length 128
python recipes/tasks/chnsenticorp_small_bert.py ... --mlm-steps 200     # MLM pre-training first
python recipes/tasks/chnsenticorp_small_bert.py --task thucnews ...     # THUCNews titles

With --mlm-steps N: a BertForMaskedLM (the same 4 x 256 body) is trained for N steps on the train
split's texts in ``group_texts`` blocks (15 % masked, 80/10/10), with its own oracle comparison; its
body then starts the classifier (the pooler and the classifier head are new), and the fine-tuning
runs with exactly the settings of the run without pre-training.
"""

import argparse
import json
import time
from pathlib import Path

import torch
from _common import DATA, NO_DROPOUT, parser, run_pair

from clearformer import BertConfig, BertForMaskedLM, BertForSequenceClassification
from clearformer.tasks import get_task
from clearformer.tasks.language_modeling import masked_lm_task
from clearformer.tasks.spec import register_task
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
TEXT_COLUMN = {"chnsenticorp": "text_a", "thucnews": "text"}


def train_texts(task: str) -> list[str]:
    return get_task(task).load(DATA / task)["train"][TEXT_COLUMN[task]]


def build(task: str, folder: Path, vocab_size: int) -> float:
    """Train the WordPiece vocabulary on all of the task's train texts; save it and a random classifier."""
    start = time.perf_counter()
    WordPieceTrainer(vocab_size=vocab_size).train(train_texts(task)).save(folder)
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
    labels = {k: v for k, v in get_task(task).model_kwargs().items() if k != "num_labels"}
    torch.manual_seed(0)
    BertForSequenceClassification(BertConfig(vocab_size=vocab, **SMALL, **labels)).save_pretrained(folder)
    return time.perf_counter() - start


def register_mlm_task(task: str) -> str:
    """A masked-LM task over the classification task's texts: train split -> train, dev split -> validation."""
    import datasets

    def load(folder):
        data = get_task(task).load(folder)
        column = TEXT_COLUMN[task]
        return datasets.DatasetDict(
            {
                split: data[split].select_columns([column]).rename_columns({column: "text"} if column != "text" else {})
                for split in ("train", "validation")
            }
        )

    name = f"{task}-mlm"
    register_task(masked_lm_task(name, load, f"masked LM on the {task} texts"))
    return name


def pretrain(args, folder: Path, tokenizer) -> BertForMaskedLM:
    """MLM pre-training (clearformer, plus the oracle over --mlm-oracle-steps); returns the trained model."""
    pre = folder / "mlm"
    pre.mkdir(exist_ok=True)
    for name in ("vocab.txt", "tokenizer_config.json"):
        (pre / name).write_bytes((folder / name).read_bytes())
    config = BertConfig.from_pretrained(folder)
    torch.manual_seed(0)
    model = BertForMaskedLM(config)
    model.save_pretrained(pre)
    pre_args = argparse.Namespace(
        **vars(args)
        | {
            "train_samples": None,
            "eval_samples": args.mlm_eval_samples,
            "epochs": 1.0,
            "max_steps": args.mlm_steps,
            "batch_size": args.batch_size,
            "learning_rate": args.mlm_learning_rate,
            "oracle_steps": args.mlm_oracle_steps,
            "oracle_only": None,
        }
    )
    run_pair(
        pre_args,
        register_mlm_task(args.task),
        DATA / args.task,
        str(pre),
        {"block_size": 128},
        model=model,
        tokenizer=tokenizer,
        oracle_class="BertForMaskedLM",
        note=f"MLM pre-training of the {args.task} small BERT on all train texts, {args.mlm_steps} steps",
        training_options={"warmup_steps": args.mlm_warmup_steps},
    )
    model.save_pretrained(pre)  # the pre-trained weights (the Trainer trained this object in place)
    return model


def classifier_from(mlm: BertForMaskedLM, folder: Path) -> BertForSequenceClassification:
    """The classifier of the run without pre-training (same config, same seed, so the same new pooler and
    head) with the pre-trained body in place of the random one."""
    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig.from_pretrained(folder))
    body = {k: v for k, v in mlm.state_dict().items() if k.startswith("bert.")}
    missing, unexpected = model.load_state_dict(body, strict=False)
    new = [k for k in missing if not k.startswith(("bert.pooler.", "classifier.")) and not k.endswith("position_ids")]
    if new or unexpected:
        raise RuntimeError(f"the MLM body does not fit the classifier: missing {new}, unexpected {unexpected}")
    return model


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--task", choices=sorted(TEXT_COLUMN), default="chnsenticorp")
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--folder", default=None)
    p.add_argument("--mlm-steps", type=int, default=0, help="MLM pre-training steps first (0: none)")
    p.add_argument("--mlm-learning-rate", type=float, default=5e-4)
    p.add_argument("--mlm-warmup-steps", type=int, default=0)
    p.add_argument("--mlm-eval-samples", type=int, default=300, help="dev texts for the MLM perplexity")
    p.add_argument("--mlm-oracle-steps", type=int, default=10)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    folder = Path(args.folder or f"/tmp/{args.task}_small_bert{'_mlm' if args.mlm_steps else ''}")
    folder.mkdir(parents=True, exist_ok=True)
    seconds = build(args.task, folder, args.vocab_size)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    note = f"vocab {len(tokenizer)} WordPiece tokens trained in {seconds:.0f}s; model from scratch"
    if args.mlm_steps:
        model = classifier_from(pretrain(args, folder, tokenizer), folder)
        note += f"; body from {args.mlm_steps} MLM pre-training steps"
    else:
        model = BertForSequenceClassification.from_pretrained(folder)
    options = {"max_length": args.max_length} if args.max_length else {}
    run_pair(
        args,
        args.task,
        DATA / args.task,
        str(folder),
        options,
        model=model,
        tokenizer=tokenizer,
        oracle_class="BertForSequenceClassification",
        note=note,
    )
