"""HB-28 Q27 / chapter 2.4: why GPT-2 can reuse the keys and values of past tokens.

Under a causal mask, position t's key and value depend only on tokens 0..t, so appending a token
never changes them: decoding can keep them (the KV cache) and compute only the new position. Shown
on a small random GPT-2 (clearformer's own; BertLMHeadModel with is_decoder=True if GPT-2 is not
there): greedy decoding with the cache gives the same logits as recomputing the whole prefix.
"""

from __future__ import annotations

import time

import torch

from .resources import one_thread


def _model(seed: int):
    torch.manual_seed(seed)
    try:
        from ..models.gpt2.configuration_gpt2 import GPT2Config
        from ..models.gpt2.modeling_gpt2 import GPT2LMHeadModel

        config = GPT2Config(vocab_size=1000, n_positions=256, n_embd=128, n_layer=4, n_head=4)
        return GPT2LMHeadModel(config).eval(), "clearformer GPT2LMHeadModel (4 layers, 4 heads, 128 wide, random)"
    except ImportError:
        from ..models.bert.configuration_bert import BertConfig
        from ..models.bert.modeling_bert import BertLMHeadModel

        config = BertConfig(
            vocab_size=1000,
            hidden_size=128,
            num_hidden_layers=4,
            num_attention_heads=4,
            intermediate_size=512,
            is_decoder=True,
        )
        return BertLMHeadModel(config).eval(), "clearformer BertLMHeadModel, is_decoder=True + DynamicCache (random)"


@torch.no_grad()
def _decode(model, prompt: torch.Tensor, steps: int, cached: bool) -> tuple[list[torch.Tensor], torch.Tensor]:
    seq, past, step_logits = prompt, None, []
    out = model(prompt, use_cache=cached)
    for _ in range(steps):
        logits = out.logits[:, -1]
        step_logits.append(logits)
        token = logits.argmax(-1, keepdim=True)
        seq = torch.cat([seq, token], dim=1)
        if cached:
            past = out.past_key_values
            out = model(token, past_key_values=past, use_cache=True)  # one new position
        else:
            out = model(seq, use_cache=False)  # the whole prefix again
    return step_logits, seq


def run(prompt_len: int = 32, new_tokens: int = 64, seed: int = 0) -> dict:
    model, which = _model(seed)
    prompt = torch.randint(0, 1000, (1, prompt_len), generator=torch.Generator().manual_seed(seed))
    with one_thread():
        _decode(model, prompt, 2, True)  # warm-up
        times = {}
        for cached in (True, False):
            start = time.perf_counter()
            logits, seq = _decode(model, prompt, new_tokens, cached)
            times[cached] = time.perf_counter() - start
            if cached:
                cached_logits, cached_seq = logits, seq
            else:
                full_logits, full_seq = logits, seq
        with torch.no_grad():
            short = model(full_seq[:, :prompt_len], use_cache=True).past_key_values
            long = model(full_seq, use_cache=True).past_key_values
    k_short, v_short = short[0]
    k_long, v_long = long[0]
    prefix_diff = max(
        float((k_long[..., :prompt_len, :] - k_short).abs().max()),
        float((v_long[..., :prompt_len, :] - v_short).abs().max()),
    )
    return {
        "model": which,
        "prompt_tokens": prompt_len,
        "generated_tokens": new_tokens,
        "max_abs_diff_logits_cached_vs_recomputed": max(
            float((a - b).abs().max()) for a, b in zip(cached_logits, full_logits)
        ),
        "same_tokens": bool(torch.equal(cached_seq, full_seq)),
        "prefix_keys_values_unchanged_by_more_tokens": prefix_diff,
        "cache_shape_layer_0_keys": list(k_long.shape),
        "seconds_with_cache": round(times[True], 4),
        "seconds_recomputing": round(times[False], 4),
        "speedup": round(times[False] / times[True], 2),
        "takeaway": (
            "a causal mask makes each position's key and value a function of the tokens up to it, so they "
            "never change as the text grows: the cache stores them once and each step computes one new "
            "position instead of all of them, with the same logits as recomputing"
        ),
    }
