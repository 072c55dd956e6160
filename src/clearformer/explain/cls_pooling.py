"""HB-29 Q2 / HB-28 Q16: pooled [CLS] output vs sequence output, and [CLS] vs mean pooling as
features for a logistic regression on real SST-2 sentences, with the real MiniLM as the encoder.

``pooler_output`` is [batch, hidden] (tanh(dense(h_[CLS]))), ``last_hidden_state`` [batch, seq,
hidden]. The encoder is frozen; a small logistic regression (written here in torch, full-batch
L-BFGS) is trained on a fixed random subsample of SST-2 train and scored on a fixed dev subsample
(sizes stated in the output; small enough to run in seconds on 2 CPU cores).
"""

from __future__ import annotations

import random

import torch

from .resources import data_dir, load_model, read_tsv


@torch.no_grad()
def encode(model, tokenizer, sentences: list[str], batch_size: int = 64) -> dict[str, torch.Tensor]:
    """[CLS] hidden state, masked mean of the token states, and pooler_output for each sentence."""
    # Batches of similar length waste little compute on padding; the order is restored at the end.
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    feats = {"cls": [], "mean": [], "pooler": []}
    for start in range(0, len(order), batch_size):
        chunk = [sentences[i] for i in order[start : start + batch_size]]
        batch = tokenizer(chunk, padding=True, truncation=True, max_length=48, return_tensors="pt")
        out = model(**batch)
        mask = batch["attention_mask"][..., None].float()
        feats["cls"].append(out.last_hidden_state[:, 0])
        feats["mean"].append((out.last_hidden_state * mask).sum(1) / mask.sum(1))
        feats["pooler"].append(out.pooler_output)
    restore = torch.argsort(torch.tensor(order))
    return {k: torch.cat(v)[restore] for k, v in feats.items()}


def logistic_regression(x: torch.Tensor, y: torch.Tensor, l2: float = 1e-2, steps: int = 50):
    """Fit w, b minimising mean cross-entropy + l2 |w|^2 on standardised features; returns a predictor."""
    mean, std = x.mean(0), x.std(0).clamp(min=1e-6)
    xs = (x - mean) / std
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(xs @ w + b, y.float()) + l2 * (w**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return lambda z: (((z - mean) / std) @ w.detach() + b.detach() > 0).long()


def run(model=None, n_train: int = 400, n_dev: int = 300, seed: int = 0) -> dict:
    folder = data_dir("sst2")
    all_train, all_dev = read_tsv(folder / "train.tsv"), read_tsv(folder / "dev.tsv")
    train = random.Random(seed).sample(all_train, n_train)
    dev = random.Random(seed + 1).sample(all_dev, min(n_dev, len(all_dev)))
    bert, tokenizer = load_model(model)
    shapes = bert(**tokenizer(["a short example", "and a slightly longer example"], padding=True, return_tensors="pt"))
    torch.manual_seed(seed)
    f_train = encode(bert, tokenizer, [s for s, _ in train])
    f_dev = encode(bert, tokenizer, [s for s, _ in dev])
    y_train, y_dev = torch.tensor([y for _, y in train]), torch.tensor([y for _, y in dev])
    accuracy = {}
    for name in ("cls", "mean", "pooler"):
        predict = logistic_regression(f_train[name], y_train)
        accuracy[name] = float((predict(f_dev[name]) == y_dev).float().mean())
    majority = float(max(y_dev.float().mean(), 1 - y_dev.float().mean()))
    return {
        "encoder": f"{type(bert).__name__} from {bert.config.name_or_path} (frozen)",
        "output_shapes_for_2_sentences": {
            "pooler_output": list(shapes.pooler_output.shape),
            "last_hidden_state": list(shapes.last_hidden_state.shape),
        },
        "data": f"SST-2 {folder}: {n_train} of {len(all_train)} train sentences (seed {seed}) to fit, "
        f"{len(dev)} of {len(all_dev)} dev sentences (seed {seed + 1}) to score; at most 48 tokens each",
        "dev_accuracy": {
            "[CLS] hidden state": accuracy["cls"],
            "mean pooling": accuracy["mean"],
            "pooler_output": accuracy["pooler"],
        },
        "majority_class_baseline": majority,
        "takeaway": (
            "both sentence vectors carry the sentiment well above the majority baseline; this checkpoint was "
            "trained with mean pooling (sentence-transformers), which is why the mean does at least as well "
            "as [CLS] here. BERT's [CLS] is a good sentence vector when fine-tuning trains it for the task"
        ),
    }


def plot(result: dict, out) -> list:
    from .plotting import pyplot, save

    plt = pyplot()
    acc = result["dev_accuracy"]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    bars = ax.bar(list(acc), list(acc.values()), color=["#4c72b0", "#55a868", "#c44e52"])
    ax.axhline(result["majority_class_baseline"], color="grey", ls="--", label="majority class")
    for bar, value in zip(bars, acc.values()):
        ax.text(bar.get_x() + bar.get_width() / 2, value + 0.01, f"{value:.3f}", ha="center")
    ax.set(ylim=(0, 1), ylabel="SST-2 dev accuracy", title="Frozen MiniLM features + logistic regression")
    ax.legend(loc="lower right")
    return [save(fig, out, "cls-pooling.png")]
