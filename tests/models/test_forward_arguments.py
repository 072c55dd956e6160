"""A misspelt keyword argument is an error in every model class, never silently dropped."""

from __future__ import annotations

import pytest
import torch
from _every_model import build, inputs, model_classes

from clearformer import BertConfig, BertForSequenceClassification
from clearformer.models.transformer.modeling_transformer import make_model

CLASSES = model_classes()


def test_the_walk_covers_every_family_and_head():
    names = {cls.__name__ for _, cls in CLASSES}
    assert len(CLASSES) >= 35
    assert {"BertForSequenceClassification", "GPT2DoubleHeadsModel", "MarianMTModel", "T5EncoderModel"} <= names


@pytest.mark.parametrize(("family", "cls"), CLASSES, ids=[c.__name__ for _, c in CLASSES])
def test_misspelt_argument_raises_type_error_naming_it_and_the_close_name(family, cls):
    model = build(family, cls)
    given = inputs(cls)
    mask = given.pop("attention_mask")
    with torch.no_grad():
        model(**given, attention_mask=mask)  # the right spelling runs
        with pytest.raises(TypeError, match=r"'attn_mask' \(did you mean attention_mask\?\)"):
            model(**given, attn_mask=mask)


def test_sequence_classifier_no_longer_runs_unmasked_when_the_mask_is_misspelt():
    model = BertForSequenceClassification(
        BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=37, vocab_size=50)
    ).eval()
    ids = torch.tensor([[5, 6, 7, 0]])
    with pytest.raises(TypeError, match="attn_mask"):
        model(input_ids=ids, attn_mask=torch.tensor([[1, 1, 1, 0]]))
    with pytest.raises(TypeError, match="attn_mask"):
        model.forward(input_ids=ids, attn_mask=torch.tensor([[1, 1, 1, 0]]))  # not only through __call__


def test_the_arguments_trainer_and_generate_pass_are_still_accepted():
    by_name = {cls.__name__: cls for _, cls in CLASSES}
    model = build("gpt2", by_name["GPT2Model"])
    ids = torch.tensor([[5, 6, 7]])
    with torch.no_grad():
        model(ids, token_type_ids=torch.zeros_like(ids), use_cache=True, return_dict=True, past_key_values=None)
    lm_model = build("gpt2", by_name["GPT2LMHeadModel"])
    with torch.no_grad():
        lm_model(ids, labels=ids, logits_to_keep=0, use_cache=False, position_ids=torch.arange(3)[None])


def test_paper_transformer_suggests_the_close_name():
    model = make_model(11, 11, N=1, d_model=16, d_ff=32, h=2).eval()
    src = torch.tensor([[1, 2, 3]])
    mask = torch.ones(1, 1, 3, dtype=torch.bool)
    with pytest.raises(TypeError, match=r"'tgt_msk' \(did you mean tgt_mask\?\)"):
        model(src, src, src_mask=mask, tgt_msk=mask)


def test_a_forward_replaced_on_the_instance_is_not_second_guessed():
    model = BertForSequenceClassification(
        BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=37, vocab_size=50)
    ).eval()
    original = model.forward

    def wrapped(*args, **kwargs):
        return original(*args, **kwargs)

    model.forward = wrapped
    with torch.no_grad():
        model(input_ids=torch.tensor([[5, 6, 7]]), attention_mask=torch.ones(1, 3, dtype=torch.long))
