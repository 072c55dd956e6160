"""fill-mask and feature-extraction equal transformers 5.24; features of the real MiniLM equal its hidden states."""

from __future__ import annotations

import pytest
import torch

from clearformer.pipelines import pipeline
from clearformer.sentence_embedding import SentenceEmbedder, pool

from .conftest import assert_close, transformers

MASKED = ["Paris is the [MASK] of France.", "The [MASK] sat on the [MASK]."]


@pytest.fixture(scope="module")
def fill(tiny):
    folder = tiny("mlm")
    return pipeline("fill-mask", model=folder), transformers.pipeline("fill-mask", model=str(folder))


@pytest.mark.parametrize(
    "inputs, options",
    [
        (MASKED[0], {}),
        (MASKED, {"top_k": 3}),
        ([MASKED[0]], {"targets": ["capital", "city", "zzzqqq"]}),
        (MASKED[1], {"targets": "dog", "top_k": 4}),
    ],
)
def test_fill_mask_matches_oracle(fill, inputs, options):
    ours, ref = fill
    assert_close(ours(inputs, **options), ref(inputs, **options))


def test_fill_mask_without_a_mask_token_says_so(fill):
    with pytest.raises(ValueError, match=r"no mask token \(\[MASK\]\)"):
        fill[0]("There is nothing to fill here.")


@pytest.fixture(scope="module")
def features(tiny):
    folder = tiny("base")
    return pipeline("feature-extraction", model=folder), transformers.pipeline("feature-extraction", model=str(folder))


def test_feature_extraction_matches_oracle(features):
    ours, ref = features
    text = "Hello world, this is clearformer."
    assert_close(ours(text), ref(text))
    assert torch.allclose(ours(text, return_tensors=True), ref(text, return_tensors=True), atol=1e-5)


def test_feature_extraction_of_a_batch_keeps_each_text_its_own_length(features):
    ours, ref = features
    texts = ["short", "a much longer sentence with many more tokens in it"]
    assert_close(ours(texts, batch_size=2), ref(texts))


def test_real_minilm_features_equal_sentence_embedder_and_oracle(minilm_dir):
    texts = ["The quick brown fox jumps over the lazy dog.", "clearformer reads real checkpoints."]
    vectors = pipeline("feature-extraction", model=minilm_dir, batch_size=2)(texts, return_tensors=True)
    oracle = transformers.AutoModel.from_pretrained(minilm_dir).eval()
    tok = transformers.AutoTokenizer.from_pretrained(minilm_dir)
    embedder = SentenceEmbedder(minilm_dir)
    expected = embedder.encode(texts)
    for text, hidden, sentence in zip(texts, vectors, expected):
        with torch.no_grad():
            ref = oracle(**tok(text, return_tensors="pt")).last_hidden_state
        assert hidden.shape == ref.shape and (hidden - ref).abs().max() < 1e-5
        mine = pool(hidden, torch.ones(hidden.shape[:2], dtype=torch.long), embedder.modes)[0]
        if embedder.normalize:
            mine = torch.nn.functional.normalize(mine, dim=-1)
        assert (mine - sentence).abs().max() < 1e-5


def test_feature_extraction_from_a_head_checkpoint_without_pooler_matches_oracle(tiny):
    folder = tiny("mlm")  # BertForMaskedLM weights: no pooler, which feature-extraction does not use
    text = "Features from a masked-LM checkpoint."
    ours = pipeline("feature-extraction", model=folder)
    assert ours.model.pooler is not None  # initialised fresh, as transformers does; not used here
    assert_close(ours(text), transformers.pipeline("feature-extraction", model=str(folder))(text))
