"""generation_config.json both ways, processors on hand-made scores, and streaming."""

from __future__ import annotations

import json
import threading

import pytest
import torch

from clearformer.generation import (
    GenerationConfig,
    NoRepeatNGramLogitsProcessor,
    RepetitionPenaltyLogitsProcessor,
    TextIteratorStreamer,
    TextStreamer,
    TopKLogitsWarper,
    TopPLogitsWarper,
)
from clearformer.models.gpt2.modeling_gpt2 import GPT2LMHeadModel

transformers = pytest.importorskip("transformers")


def test_generation_config_json_is_read_and_written(tiny_gpt2_dir, tmp_path):
    model = GPT2LMHeadModel.from_pretrained(tiny_gpt2_dir)
    model.generation_config.max_new_tokens = 7
    model.generation_config.do_sample = True
    model.save_pretrained(tmp_path)
    data = json.loads((tmp_path / "generation_config.json").read_text())
    assert data["max_new_tokens"] == 7 and data["do_sample"] is True
    ref_config = transformers.GenerationConfig.from_pretrained(tmp_path)
    assert ref_config.max_new_tokens == 7
    again = GPT2LMHeadModel.from_pretrained(tmp_path)
    assert again.generation_config.max_new_tokens == 7
    out = again.generate(torch.randint(6, 97, (1, 3)), do_sample=False)
    assert out.shape == (1, 10)


def test_reference_generation_config_file_is_loaded(tmp_path):
    transformers.GenerationConfig(max_new_tokens=4, eos_token_id=[3, 5], top_k=9, do_sample=True).save_pretrained(
        tmp_path
    )
    config = GenerationConfig.from_pretrained(tmp_path)
    assert (config.max_new_tokens, config.eos_token_id, config.top_k) == (4, [3, 5], 9)


def test_processors_on_hand_made_scores():
    scores = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    ids = torch.tensor([[2, 0]])
    penalised = RepetitionPenaltyLogitsProcessor(2.0)(ids, torch.tensor([[-1.0, 2.0, 3.0, 4.0]]))
    assert penalised.tolist() == [[-2.0, 2.0, 1.5, 4.0]]
    assert TopKLogitsWarper(2)(ids, scores).isinf().tolist() == [[True, True, False, False]]
    # softmax of [1,2,3,4] is [.032,.087,.237,.644]: top_p 0.7 keeps tokens 3 and 2.
    assert TopPLogitsWarper(0.7)(ids, scores).isinf().tolist() == [[True, True, False, False]]
    ngram = NoRepeatNGramLogitsProcessor(2)(torch.tensor([[1, 2, 1]]), scores)
    assert ngram.isinf().tolist() == [[False, False, True, False]]  # "1 2" seen: 2 after 1 banned


class CharTokenizer:
    def decode(self, ids, **_):
        return "".join(" " if i % 4 == 0 else chr(ord("a") + i % 26) for i in ids)


def test_text_streamer_callback_sees_all_new_text(models):
    _, model = models
    prompt = torch.randint(6, 97, (1, 4))
    chunks = []
    streamer = TextStreamer(CharTokenizer(), skip_prompt=True, callback=lambda t, end: chunks.append(t))
    out = model.generate(prompt, max_new_tokens=12, streamer=streamer)
    assert "".join(chunks) == CharTokenizer().decode(out[0, 4:].tolist())


def test_iterator_streamer_yields_text_while_generating(models):
    _, model = models
    prompt = torch.randint(6, 97, (1, 4))
    streamer = TextIteratorStreamer(CharTokenizer(), timeout=30)
    result = {}
    thread = threading.Thread(
        target=lambda: result.setdefault("ids", model.generate(prompt, max_new_tokens=12, streamer=streamer))
    )
    thread.start()
    text = "".join(streamer)
    thread.join()
    assert text == CharTokenizer().decode(result["ids"][0].tolist())


def test_streamers_refuse_batches(models, padded_batch):
    _, model = models
    ids, mask = padded_batch
    with pytest.raises(ValueError, match="one sequence"):
        model.generate(ids, attention_mask=mask, max_new_tokens=2, streamer=TextStreamer(CharTokenizer()))
