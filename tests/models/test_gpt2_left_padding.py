"""GPT-2 on a left-padded batch whose labels cover the padding equals transformers 5.24 at 1e-5.

A padded query before the first real token may attend to no key. 5.24's SDPA path returns a zero
context there and its eager path spreads the attention over the masked keys; each of our two
settings must give its counterpart's numbers, loss included.
"""

from __future__ import annotations

import pytest
import torch
import transformers

import clearformer

TINY = dict(n_embd=32, n_layer=2, n_head=4, vocab_size=99, n_positions=40, bos_token_id=1, eos_token_id=2)
IDS = torch.tensor([[0, 0, 0, 5, 6, 7, 8], [3, 4, 5, 6, 7, 8, 9], [0, 0, 0, 0, 0, 0, 9]])
MASK = torch.tensor([[0, 0, 0, 1, 1, 1, 1], [1] * 7, [0, 0, 0, 0, 0, 0, 1]])


@pytest.mark.parametrize("implementation", ["sdpa", "eager"])
def test_left_padded_loss_and_logits_equal_the_reference(tmp_path, implementation):
    torch.manual_seed(0)
    config = transformers.GPT2Config(**TINY, attn_implementation=implementation)
    ref = transformers.GPT2LMHeadModel(config).eval()
    ref.save_pretrained(tmp_path)
    ours = clearformer.GPT2LMHeadModel.from_pretrained(tmp_path, attn_implementation=implementation)
    with torch.no_grad():
        expected = ref(input_ids=IDS, attention_mask=MASK, labels=IDS)
        got = ours(input_ids=IDS, attention_mask=MASK, labels=IDS)
    assert torch.allclose(got.logits, expected.logits, atol=1e-5, rtol=0)
    assert abs(got.loss.item() - expected.loss.item()) < 1e-5


def test_left_padded_generation_is_unchanged_by_the_padded_rows(tmp_path):
    torch.manual_seed(0)
    model = clearformer.GPT2LMHeadModel(clearformer.GPT2Config(**TINY)).eval()
    prompt = torch.tensor([[0, 0, 5, 6], [3, 4, 5, 6]])
    mask = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]])
    padded = model.generate(prompt, attention_mask=mask, max_new_tokens=4, do_sample=False)
    alone = model.generate(prompt[:1, 2:], max_new_tokens=4, do_sample=False)
    assert torch.equal(padded[0, 4:], alone[0, 2:])
