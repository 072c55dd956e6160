"""clearformer's opt-in FastDropout (nn/dropout.py): nn.Dropout's function with a cheaper CPU mask."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from clearformer.nn.attention import attention, eager_attention
from clearformer.nn.dropout import FastDropout, dropout, keep_mask, use_fast_dropout


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9, 1e-4])
def test_the_mask_drops_a_fraction_p(p):
    torch.manual_seed(0)
    n = 1_000_003  # not a multiple of 3: the last int64 is used in part
    mask, keep = keep_mask(torch.Size([n]), p)
    assert mask.dtype == torch.bool and mask.shape == (n,)
    assert abs(keep - (1 - p)) <= 2**-16 / 2
    dropped = 1 - mask.float().mean().item()
    assert abs(dropped - (1 - keep)) < 6 * math.sqrt(p * (1 - p) / n) + 1e-6  # six standard deviations


def test_each_of_the_three_words_is_uniform():
    """Words 0-2 of every int64 are used; a biased word would show as a skewed drop rate in its column."""
    torch.manual_seed(1)
    mask, _ = keep_mask(torch.Size([3 * 200_000]), 0.5)
    per_word = 1 - mask.view(-1, 3).float().mean(0)
    assert torch.all((per_word - 0.5).abs() < 6 * math.sqrt(0.25 / 200_000))


def test_dropout_scales_the_kept_values_and_keeps_the_mean():
    torch.manual_seed(2)
    x = torch.randn(64, 1000)
    y = dropout(x, 0.25)
    kept = y != 0
    _, keep = keep_mask(torch.Size([1]), 0.25)
    assert torch.allclose(y[kept], x[kept] / keep)
    assert abs(dropout(torch.ones(1_000_000), 0.25).mean().item() - 1) < 0.005


def test_dropout_is_reproducible_from_the_seed_and_differs_between_calls():
    torch.manual_seed(3)
    a, b = dropout(torch.ones(5000), 0.5), dropout(torch.ones(5000), 0.5)
    torch.manual_seed(3)
    assert torch.equal(dropout(torch.ones(5000), 0.5), a)
    assert not torch.equal(a, b)


def test_gradient_is_the_mask_times_the_scale():
    torch.manual_seed(4)
    x = torch.randn(300, 7, requires_grad=True)
    y = dropout(x, 0.3)
    y.sum().backward()
    expected = (y != 0).float() / keep_mask(torch.Size([1]), 0.3)[1]
    assert torch.allclose(x.grad, expected)


def test_identity_when_off_and_torchs_errors_for_bad_p():
    x = torch.randn(4, 4)
    assert dropout(x, 0.0) is x and dropout(x, 0.5, training=False) is x
    assert torch.equal(dropout(x, 1.0), torch.zeros_like(x))
    with pytest.raises(ValueError, match="probability"):
        dropout(x, 1.5)
    layer = FastDropout(0.5)
    assert isinstance(layer, nn.Dropout) and layer.eval()(x) is x


def test_bf16_input_keeps_its_dtype():
    y = dropout(torch.ones(1000, dtype=torch.bfloat16), 0.5)
    assert y.dtype == torch.bfloat16


def test_fast_attention_dropout_on_cpu_uses_the_eager_path_with_the_fast_mask():
    q, k, v = (torch.randn(2, 3, 5, 8) for _ in range(3))
    module = FastDropout(0.4)
    torch.manual_seed(5)
    got, _ = attention(q, k, v, dropout=module)
    torch.manual_seed(5)
    expected, _ = eager_attention(q, k, v, dropout_p=0.4, dropout=module)
    assert torch.equal(got, expected)
    assert not torch.allclose(got, attention(q, k, v)[0])
    assert torch.equal(attention(q, k, v, dropout=module.eval())[0], attention(q, k, v)[0])  # eval: off


def test_models_use_torchs_dropout_and_the_fast_mask_is_a_visible_swap():
    import clearformer

    config = clearformer.BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1, num_attention_heads=4)
    model = clearformer.BertModel(config)
    drops = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert drops and all(type(m) is nn.Dropout for m in drops)
    other = clearformer.BertModel(config)
    use_fast_dropout(model)
    assert all(type(m) is FastDropout for m in model.modules() if isinstance(m, nn.Dropout))
    assert "FastDropout" in str(model)
    assert all(type(m) is nn.Dropout for m in other.modules() if isinstance(m, nn.Dropout))  # no global state
    use_fast_dropout(model, enabled=False)
    assert all(type(m) is nn.Dropout for m in model.modules() if isinstance(m, nn.Dropout))


def _bert_pair(tmp_path):
    transformers = pytest.importorskip("transformers", reason="transformers is the oracle")
    import clearformer

    config = transformers.BertConfig(
        vocab_size=60, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48
    )
    torch.manual_seed(0)
    transformers.BertForSequenceClassification(config).save_pretrained(tmp_path)
    ref = transformers.BertForSequenceClassification.from_pretrained(tmp_path).train()
    ours = clearformer.BertForSequenceClassification.from_pretrained(tmp_path).train()
    return ref, ours


def test_default_masks_repeat_transformers_in_training_mode_and_fast_ones_do_not(tmp_path):
    """By default a training-mode forward draws torch's masks, as transformers' BERT does for the same
    seed, so it matches the oracle exactly; after ``use_fast_dropout`` it does not."""
    ref, ours = _bert_pair(tmp_path)
    ids = torch.randint(0, 60, (3, 11))

    def logits(model, seed=7):
        torch.manual_seed(seed)
        return model(input_ids=ids).logits

    expected = logits(ref)
    assert not torch.allclose(expected, logits(ref, seed=8))  # dropout is really on
    assert torch.allclose(logits(ours), expected, atol=1e-5)
    use_fast_dropout(ours)
    assert not torch.allclose(logits(ours), expected, atol=1e-4)  # fast masks: different draws


def test_a_model_built_twice_with_one_seed_draws_equal_masks_whatever_another_model_did():
    import clearformer

    config = clearformer.BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1, num_attention_heads=4)
    ids = torch.randint(0, 50, (2, 9))

    def run():
        torch.manual_seed(3)
        model = clearformer.BertModel(config).train()
        torch.manual_seed(4)
        return model(ids).last_hidden_state

    first = run()
    use_fast_dropout(clearformer.BertModel(config))  # an option on another object changes nothing here
    assert torch.equal(run(), first)
