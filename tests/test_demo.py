"""The README's main job: ``python -m clearformer demo`` runs offline and ranks paraphrases first."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch


def test_demo_command_runs_and_ranks_paraphrases(minilm_dir):
    proc = subprocess.run([sys.executable, "-m", "clearformer", "demo"], capture_output=True, text=True,
                          timeout=300, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert "10/10 sentences rank their paraphrase above every unrelated sentence." in proc.stdout
    assert "pooling=mean_tokens, normalized=True" in proc.stdout


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
