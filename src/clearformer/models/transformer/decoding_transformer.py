"""Decoding the paper's Transformer: the course's ``greedy_decode``, and ``generate`` through an adapter.

``greedy_decode`` is chapter 2.2.1's teaching loop (batched, with an optional KV cache and early stop
at ``end_symbol``). Beam search, sampling and everything else go through ``generation/``: the paper
model has its own calling convention (``encode``/``decode`` with boolean masks, a list-of-dicts
cache), so ``PaperTransformerForGeneration`` translates it into the encoder-decoder interface
``generate`` drives (``get_encoder``, ``forward(decoder_input_ids, encoder_outputs, ...)``, an
EncoderDecoderCache) instead of the model carrying a second search.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch
from torch import nn

from ...generation.encoder_decoder import EncoderDecoderGenerationMixin
from ...modeling_outputs import BaseModelOutput
from ...nn.cache import EncoderDecoderCache
from ..seq2seq import Seq2SeqLMOutput
from .modeling_transformer import EncoderDecoder, subsequent_mask


@torch.no_grad()
def greedy_decode(
    model: EncoderDecoder, src, src_mask, max_len: int, start_symbol: int, end_symbol=None, use_cache: bool = True
):
    """Most likely next token at each step, batched; stops early once every row has produced ``end_symbol``.

    With ``use_cache`` (default) each step feeds only the newest token and reuses the cached keys and
    values of the earlier ones (the course recomputes the whole prefix every step: same result, slower).
    """
    memory = model.encode(src, src_mask)
    ys = torch.full((src.size(0), 1), start_symbol, dtype=src.dtype, device=src.device)
    done = torch.zeros(src.size(0), dtype=torch.bool, device=src.device)
    cache = model.new_cache() if use_cache else None
    for _ in range(max_len - 1):
        if cache is not None:
            out = model.decode(memory, src_mask, ys[:, -1:], None, cache)
        else:
            out = model.decode(memory, src_mask, ys, subsequent_mask(ys.size(1)).to(src.device))
        next_word = model.generator(out[:, -1]).argmax(dim=-1)
        if end_symbol is not None:
            next_word = next_word.masked_fill(done, end_symbol)
            done |= next_word == end_symbol
        ys = torch.cat([ys, next_word[:, None].to(ys.dtype)], dim=1)
        if end_symbol is not None and bool(done.all()):
            break
    return ys


class PaperTransformerForGeneration(EncoderDecoderGenerationMixin, nn.Module):
    """``generate`` (greedy, sampling, beam search) over a ``make_model`` model; shares its weights.

    ``generate(src, attention_mask=..., max_new_tokens=max_len - 1, num_beams=k)`` returns
    ``[start, y1, ...]`` per row; rows that ended early are filled with ``pad_token_id`` (greedy) or
    ``eos_token_id`` (beam search), as ``MarianMTModel.generate`` does.
    """

    def __init__(
        self,
        model: EncoderDecoder,
        decoder_start_token_id: int,
        eos_token_id: int | None = None,
        pad_token_id: int | None = 0,
    ) -> None:
        super().__init__()
        self.model = model
        vocab = model.generator.proj.out_features
        for name, value in (("decoder_start", decoder_start_token_id), ("eos", eos_token_id), ("pad", pad_token_id)):
            if value is not None and not 0 <= value < vocab:
                raise ValueError(f"{name}_token_id={value} is outside the target vocabulary of {vocab} ids")
        # The fields generate reads from a model config; the paper model has no config of its own.
        self.config = SimpleNamespace(
            is_encoder_decoder=True,
            decoder_start_token_id=decoder_start_token_id,
            eos_token_id=eos_token_id,
            pad_token_id=pad_token_id,
            bos_token_id=None,
        )

    @property
    def device(self) -> torch.device:
        return self.model.generator.proj.weight.device

    def get_input_embeddings(self) -> nn.Embedding:
        return self.model.src_embed[0].lut  # generate checks the source ids against it

    def get_encoder(self):
        def encode(input_ids: torch.Tensor, attention_mask: torch.Tensor, return_dict: bool = True):
            return BaseModelOutput(last_hidden_state=self.model.encode(input_ids, _source_mask(attention_mask)))

        return encode

    def forward(
        self,
        decoder_input_ids: torch.Tensor,
        encoder_outputs: BaseModelOutput,
        attention_mask: torch.Tensor,
        past_key_values: EncoderDecoderCache | None = None,
        use_cache: bool = False,
        return_dict: bool = True,
    ) -> Seq2SeqLMOutput:
        """Next-token logits of the last position only (all ``generate`` reads) for the new decoder ids."""
        past = past_key_values.get_seq_length() if past_key_values is not None else 0
        new = decoder_input_ids.shape[1]
        # One new query may see every position; several need the causal mask over past + new keys.
        tgt_mask = subsequent_mask(past + new)[:, past:].to(decoder_input_ids.device) if new > 1 else None
        cache = _paper_cache(past_key_values, len(self.model.decoder.layers)) if past_key_values is not None else None
        memory, src_mask = encoder_outputs.last_hidden_state, _source_mask(attention_mask)
        out = self.model.decode(memory, src_mask, decoder_input_ids, tgt_mask, cache)
        if cache is not None:
            _store_paper_cache(cache, past_key_values)
        # Raw logits, not the generator's log_softmax: generate normalises them itself.
        return Seq2SeqLMOutput(logits=self.model.generator.proj(out[:, -1:]), past_key_values=past_key_values)


def _source_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    return attention_mask.bool().unsqueeze(-2)  # (B, S) 1/0 -> the paper's (B, 1, S) True = may attend


def _paper_cache(cache: EncoderDecoderCache, layers: int) -> list[dict]:
    """The paper model's per-layer dicts viewing the same tensors (no copy); empty on the first step."""
    paper: list[dict] = [{} for _ in range(layers)]
    for part, store in (("self", cache.self_attention_cache), ("src", cache.cross_attention_cache)):
        for i in range(len(store)):
            paper[i][part] = {"k": store.key_cache[i], "v": store.value_cache[i]}
    return paper


def _store_paper_cache(paper: list[dict], cache: EncoderDecoderCache) -> None:
    """Put the keys/values the decoder step appended back, so generate's beam reorder sees them."""
    for part, store in (("self", cache.self_attention_cache), ("src", cache.cross_attention_cache)):
        store.key_cache = [layer[part]["k"] for layer in paper]
        store.value_cache = [layer[part]["v"] for layer in paper]
