"""token-classification / ner equals transformers 5.24 for every aggregation strategy."""

from __future__ import annotations

import warnings

import pytest

from clearformer.pipelines import pipeline

from .conftest import CONLL, assert_close, transformers

TEXTS = [
    "Hugging Face Inc. is a company based in New York City.",
    "Its headquarters are in DUMBO, therefore very close to the Manhattan Bridge.",
    "Angela Merkel met Emmanuel Macron in Paris, a très belle city.",
]


@pytest.fixture(scope="module")
def folder(tiny):
    return tiny("ner")


@pytest.mark.parametrize("strategy", ["none", "simple", "first", "average", "max"])
def test_every_aggregation_strategy_matches_oracle(folder, strategy):
    ours = pipeline("ner", model=folder, aggregation_strategy=strategy)(TEXTS)
    ref = transformers.pipeline("ner", model=str(folder), aggregation_strategy=strategy)(TEXTS)
    assert_close(ours, ref)
    assert any(ours), "the tiny model should predict some entities"


@pytest.mark.parametrize("strategy", ["none", "simple", "first", "average", "max"])
def test_byte_level_bpe_model_matches_oracle(tiny_roberta_ner, strategy):
    # no "##" prefix here: word starts are guessed from the spaces before tokens, as transformers does
    ours = pipeline("ner", model=tiny_roberta_ner, aggregation_strategy=strategy)
    ref = transformers.pipeline("ner", model=str(tiny_roberta_ner), aggregation_strategy=strategy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_close(ours(TEXTS, batch_size=2), ref(TEXTS))


def test_entities_carry_labels_words_and_offsets_into_the_text(folder):
    for entity in pipeline("ner", model=folder)(TEXTS[0]):
        assert entity["entity"] in CONLL
        assert TEXTS[0][entity["start"] : entity["end"]].lower() == entity["word"].removeprefix("##")


def test_grouped_entities_is_the_course_alias_of_simple(folder):
    simple = pipeline("ner", model=folder, aggregation_strategy="simple")(TEXTS)
    assert pipeline("ner", model=folder, grouped_entities=True)(TEXTS) == simple
    assert pipeline("ner", model=folder)(TEXTS, grouped_entities=True) == simple


def test_stride_windows_match_oracle(folder):
    text = " ".join(TEXTS * 3)
    ours = pipeline("ner", model=folder, aggregation_strategy="first")
    ours.tokenizer.model_max_length = 24
    ref = transformers.pipeline("ner", model=str(folder), aggregation_strategy="first")
    ref.tokenizer.model_max_length = 24
    a, b = ours(text, stride=8), ref(text, stride=8)
    assert_close(a, b)
    assert max(e["end"] for e in a) > 100, "later windows must contribute entities"


def test_ignore_labels_and_pre_split_words_match_oracle(folder):
    words = ["Angela", "Merkel", "visited", "Paris"]
    options = {"is_split_into_words": True, "aggregation_strategy": "simple", "ignore_labels": []}
    ref = transformers.pipeline("ner", model=str(folder))(words, **options)
    assert_close(pipeline("ner", model=folder)(words, **options), ref)


def test_stride_with_no_aggregation_is_refused(folder):
    with pytest.raises(ValueError, match="aggregation_strategy"):
        pipeline("ner", model=folder)(TEXTS[0], stride=4)


def test_unknown_strategy_names_the_choices(folder):
    with pytest.raises(ValueError, match="simple"):
        pipeline("ner", model=folder, aggregation_strategy="mean")


def test_rust_backed_tokenizer_gives_the_same_entities(folder):
    slow = pipeline("ner", model=folder, aggregation_strategy="first")(TEXTS)
    assert pipeline("ner", model=folder, aggregation_strategy="first", use_fast=True)(TEXTS) == slow
