"""The README's main job: ``python -m clearformer demo`` runs offline and ranks paraphrases first."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch


def test_demo_command_runs_ranks_paraphrases_and_fine_tunes(minilm_dir, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "clearformer", "demo", "--out", str(tmp_path / "report")],
        capture_output=True,
        text=True,
        timeout=900,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "10/10 sentences rank their paraphrase above every unrelated sentence." in proc.stdout
    assert "pooling=mean_tokens, normalized=True" in proc.stdout
    # The fine-tuning half: the shipped set is learned and the report folder is complete.
    report = tmp_path / "report"
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["dev_accuracy_after"] >= 0.8 > metrics["dev_accuracy_before"]
    assert [p["label"] for p in metrics["predictions"]] == ["positive", "negative", "positive", "negative"]
    assert (report / "training_curve.png").stat().st_size > 10_000
    import clearformer

    reloaded = clearformer.AutoModelForSequenceClassification.from_pretrained(report / "model")
    assert reloaded.config.id2label == {0: "negative", 1: "positive"}


def test_demo_embeddings_equal_oracle_mean_pooling(minilm_dir):
    transformers = pytest.importorskip("transformers", reason="transformers is the test oracle")
    from clearformer.demo import DEMO_PAIRS
    from clearformer.sentence_embedding import SentenceEmbedder

    sentences = [s for pair in DEMO_PAIRS for s in pair]
    ours = SentenceEmbedder(minilm_dir).encode(sentences)
    tok = transformers.AutoTokenizer.from_pretrained(minilm_dir)
    model = transformers.AutoModel.from_pretrained(minilm_dir).eval()
    batch = tok(sentences, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"][..., None].float()
    want = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    assert (ours - want).abs().max() < 1e-5
