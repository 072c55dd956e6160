"""Bad input gets an error that names the problem and the fix."""

from __future__ import annotations

import pytest
import torch

import clearformer
from clearformer import BertConfig, BertModel, DistilBertConfig, DistilBertModel


def tiny(**kw) -> BertConfig:
    return BertConfig(
        **{
            **dict(
                hidden_size=32,
                num_hidden_layers=1,
                num_attention_heads=4,
                intermediate_size=37,
                vocab_size=50,
                max_position_embeddings=16,
            ),
            **kw,
        }
    )


def test_heads_must_divide_width_and_the_error_names_both_numbers():
    with pytest.raises(ValueError, match=r"hidden_size \(30\).*num_attention_heads \(4\)"):
        BertModel(tiny(hidden_size=30))
    with pytest.raises(ValueError, match=r"dim \(30\).*n_heads \(4\)"):
        DistilBertModel(DistilBertConfig(dim=30, n_heads=4, n_layers=1, hidden_dim=8))


def test_id_beyond_vocab_names_id_size_and_resize():
    model = BertModel(tiny()).eval()
    with pytest.raises(IndexError, match=r"contains 50 but the embedding has 50 rows.*resize_token_embeddings"):
        model(torch.tensor([[1, 2, 50]]))


def test_resize_token_embeddings_then_new_ids_work():
    model = clearformer.BertForMaskedLM(tiny()).eval()
    old = model.get_input_embeddings().weight.detach().clone()
    model.resize_token_embeddings(53)
    assert model.get_input_embeddings().weight.shape == (53, 32)
    assert torch.equal(model.get_input_embeddings().weight[:50], old)
    assert model.cls.predictions.decoder.weight is model.get_input_embeddings().weight  # still tied
    assert model(torch.tensor([[1, 52]])).logits.shape == (1, 2, 53)
    assert model.config.vocab_size == 53


def test_sequence_longer_than_positions():
    model = BertModel(tiny()).eval()
    with pytest.raises(ValueError, match=r"sequence length 17 exceeds.*max_position_embeddings=16.*truncation"):
        model(torch.ones(1, 17, dtype=torch.long))


def test_mismatched_attention_mask_shape():
    model = BertModel(tiny()).eval()
    with pytest.raises(ValueError, match=r"attention_mask has shape \(1, 5\) but input_ids is \(1, 6\)"):
        model(torch.ones(1, 6, dtype=torch.long), attention_mask=torch.ones(1, 5, dtype=torch.long))


def test_both_or_neither_inputs():
    model = BertModel(tiny()).eval()
    with pytest.raises(ValueError, match="exactly one of input_ids or inputs_embeds"):
        model()
    with pytest.raises(ValueError, match="exactly one"):
        model(torch.ones(1, 2, dtype=torch.long), inputs_embeds=torch.zeros(1, 2, 32))


def test_label_outside_num_labels():
    model = clearformer.BertForSequenceClassification(tiny()).eval()
    with pytest.raises(ValueError, match="label 7 is outside num_labels=2"):
        model(torch.ones(2, 3, dtype=torch.long), labels=torch.tensor([0, 7]))


def test_multiple_choice_needs_three_dims():
    model = clearformer.BertForMultipleChoice(tiny()).eval()
    with pytest.raises(ValueError, match=r"\(batch, num_choices, seq_len\)"):
        model(torch.ones(2, 3, dtype=torch.long))


def test_unknown_activation_and_position_type():
    with pytest.raises(ValueError, match="unknown activation 'gelu2'.*gelu_new"):
        BertModel(tiny(hidden_act="gelu2"))
    with pytest.raises(ValueError, match="position_embedding_type"):
        BertModel(tiny(position_embedding_type="rotary"))


@pytest.mark.parametrize("cls", ["BertForSequenceClassification", "DistilBertForSequenceClassification"])
def test_gradient_checkpointing_gives_the_same_gradients(cls):
    torch.manual_seed(0)
    if cls.startswith("Distil"):
        config = DistilBertConfig(
            dim=32,
            n_layers=2,
            n_heads=4,
            hidden_dim=37,
            vocab_size=50,
            dropout=0.0,
            attention_dropout=0.0,
            seq_classif_dropout=0.0,
        )
    else:
        config = tiny(num_hidden_layers=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = getattr(clearformer, cls)(config).train()
    ids, labels = torch.randint(1, 50, (2, 6)), torch.tensor([0, 1])
    model(ids, labels=labels).loss.backward()
    plain = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model.gradient_checkpointing_enable()
    assert model.is_gradient_checkpointing
    model(ids, labels=labels).loss.backward()
    assert max((a - p.grad).abs().max().item() for a, p in zip(plain, model.parameters())) < 1e-6
