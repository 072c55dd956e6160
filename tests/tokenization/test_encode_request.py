"""One call's options travel as one resolved, frozen ``EncodeRequest`` (issue 17): ``__call__``
turns ``padding=True`` / ``truncation=True`` / a missing ``max_length`` into what the later steps
use, and both backends read that one object."""

from __future__ import annotations

import dataclasses

import pytest

from clearformer.tokenization.request import EncodeRequest


def test_call_resolves_its_options_into_one_frozen_request(ours, monkeypatch):
    tok = ours("bert")
    seen = []
    original = type(tok)._encode_examples

    def spy(self, examples, batched, request):
        seen.append(request)
        return original(self, examples, batched, request)

    # monkeypatch gives the session-wide fixture its method and limit back afterwards
    monkeypatch.setattr(type(tok), "_encode_examples", spy)
    monkeypatch.setattr(tok, "model_max_length", 16)
    out = tok(["a b", "c"], padding=True, truncation=True, return_length=True)
    (request,) = seen
    assert request == EncodeRequest(
        truncation="longest_first", max_length=16, padding="longest", pad_length=16, return_length=True
    )
    assert out["length"] == [4, 4]
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.padding = "max_length"


@pytest.mark.parametrize("rust", [False, True])
def test_prepare_for_model_takes_the_same_options(ours, rust):
    tok = ours("bert", rust=rust)
    ids = tok("hello world", add_special_tokens=False)["input_ids"]
    out = tok.prepare_for_model(ids, padding="max_length", max_length=8, return_special_tokens_mask=True)
    assert out["input_ids"] == tok("hello world", padding="max_length", max_length=8)["input_ids"]
    assert out["special_tokens_mask"] == [1, 0, 0, 1, 1, 1, 1, 1]
    with pytest.raises(TypeError, match="bogus"):
        tok.prepare_for_model(ids, bogus=True)
