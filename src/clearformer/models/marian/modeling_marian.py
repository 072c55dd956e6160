"""Marian (Junczys-Dowmunt et al. 2018), the opus-mt translation models: MarianModel, MarianMTModel.

A post-norm encoder-decoder like the paper's, with three Marian details: sinusoidal positions with
sin in the first half of each vector and cos in the second (not interleaved), token embeddings
optionally scaled by sqrt(d_model), and a ``final_logits_bias`` buffer added to the logits.
Attribute names are Hugging Face's (the checkpoint format). Parity with transformers 5.24 (encoder
outputs, logits, loss, cached decoding, generate) is pinned in tests/models/test_marian.py.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ...activations import get_activation
from ...generation.encoder_decoder import EncoderDecoderGenerationMixin
from ...modeling_outputs import BaseModelOutput
from ...modeling_utils import PreTrainedModel, validate_attention_mask, validate_input_ids
from ...nn.attention import attention, merge_heads, split_heads
from ...nn.cache import Cache, EncoderDecoderCache, as_cache
from ...nn.masks import causal_mask, padding_mask, padding_mask_or_none
from ...nn.positional import SinusoidalPositionalEmbedding
from ..seq2seq import (
    DecoderOutput,
    as_encoder_output,
    lm_output,
    model_output,
    seq2seq_loss,
    shift_tokens_right,
    validate_labels,
)
from .configuration_marian import MarianConfig


class MarianAttention(nn.Module):
    """Multi-head attention with biased q/k/v/out projections; self- or cross-attention.

    Cross-attention keys/values depend only on the encoder output, so with a cache they are
    projected at the first decoding step and read back afterwards.
    """

    def __init__(self, config: MarianConfig, num_heads: int, is_cross_attention: bool = False, layer_idx: int = 0):
        super().__init__()
        d = config.d_model
        if d % num_heads:
            raise ValueError(f"d_model={d} is not divisible by {num_heads} attention heads")
        self.num_heads = num_heads
        self.is_cross_attention = is_cross_attention
        self.layer_idx = layer_idx
        self.dropout = config.attention_dropout
        self.config = config
        self.q_proj = nn.Linear(d, d)
        self.k_proj = nn.Linear(d, d)
        self.v_proj = nn.Linear(d, d)
        self.out_proj = nn.Linear(d, d)

    def _key_value(self, source: torch.Tensor, cache: Cache | None) -> tuple[torch.Tensor, torch.Tensor]:
        if self.is_cross_attention and isinstance(cache, EncoderDecoderCache):
            if cache.is_updated.get(self.layer_idx):
                return cache.cross_attention_cache[self.layer_idx]
            k, v = split_heads(self.k_proj(source), self.num_heads), split_heads(self.v_proj(source), self.num_heads)
            return cache.update_cross(k, v, self.layer_idx)
        k, v = split_heads(self.k_proj(source), self.num_heads), split_heads(self.v_proj(source), self.num_heads)
        if cache is not None and not self.is_cross_attention:
            k, v = cache.update(k, v, self.layer_idx)
        return k, v

    def forward(
        self,
        hidden_states: torch.Tensor,
        key_value_states: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        cache: Cache | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        q = split_heads(self.q_proj(hidden_states), self.num_heads)  # (B, H, Lq, D)
        source = key_value_states if self.is_cross_attention else hidden_states
        k, v = self._key_value(source, cache)  # (B, H, Lk, D)
        context, weights = attention(
            q,
            k,
            v,
            mask,
            dropout_p=self.dropout if self.training else 0.0,
            need_weights=output_attentions,
            implementation=self.config._attn_implementation,
        )
        return self.out_proj(merge_heads(context)), weights


class MarianEncoderLayer(nn.Module):
    """Post-norm block: x = LN(x + SelfAttn(x)); x = LN(x + FFN(x))."""

    def __init__(self, config: MarianConfig, layer_idx: int = 0) -> None:
        super().__init__()
        d = config.d_model
        self.self_attn = MarianAttention(config, config.encoder_attention_heads, layer_idx=layer_idx)
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, config.encoder_ffn_dim)
        self.fc2 = nn.Linear(config.encoder_ffn_dim, d)
        self.final_layer_norm = nn.LayerNorm(d)
        self.activation_fn = get_activation(config.activation_function)
        self.dropout, self.activation_dropout = config.dropout, config.activation_dropout

    def feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.dropout(self.activation_fn(self.fc1(x)), self.activation_dropout, self.training)
        return F.dropout(self.fc2(x), self.dropout, self.training)

    def forward(self, hidden_states, mask=None, output_attentions=False):
        attn, weights = self.self_attn(hidden_states, mask=mask, output_attentions=output_attentions)
        hidden_states = self.self_attn_layer_norm(hidden_states + F.dropout(attn, self.dropout, self.training))
        hidden_states = self.final_layer_norm(hidden_states + self.feed_forward(hidden_states))
        return hidden_states, weights


class MarianDecoderLayer(MarianEncoderLayer):
    """Masked self-attention, cross-attention over the encoder output, FFN; each post-norm."""

    def __init__(self, config: MarianConfig, layer_idx: int = 0) -> None:
        nn.Module.__init__(self)
        d = config.d_model
        self.self_attn = MarianAttention(config, config.decoder_attention_heads, layer_idx=layer_idx)
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.encoder_attn = MarianAttention(config, config.decoder_attention_heads, True, layer_idx)
        self.encoder_attn_layer_norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, config.decoder_ffn_dim)
        self.fc2 = nn.Linear(config.decoder_ffn_dim, d)
        self.final_layer_norm = nn.LayerNorm(d)
        self.activation_fn = get_activation(config.activation_function)
        self.dropout, self.activation_dropout = config.dropout, config.activation_dropout

    def forward(self, hidden_states, encoder_hidden_states, mask, encoder_mask, cache, output_attentions=False):
        attn, self_w = self.self_attn(hidden_states, mask=mask, cache=cache, output_attentions=output_attentions)
        hidden_states = self.self_attn_layer_norm(hidden_states + F.dropout(attn, self.dropout, self.training))
        attn, cross_w = self.encoder_attn(
            hidden_states, encoder_hidden_states, encoder_mask, cache, output_attentions=output_attentions
        )
        hidden_states = self.encoder_attn_layer_norm(hidden_states + F.dropout(attn, self.dropout, self.training))
        hidden_states = self.final_layer_norm(hidden_states + self.feed_forward(hidden_states))
        return hidden_states, self_w, cross_w


class MarianPreTrainedModel(PreTrainedModel):
    config_class = MarianConfig
    base_model_prefix = "model"
    # Older files (transformers 4.x) stored the fixed sinusoid tables; they are rebuilt, not loaded.
    _keys_to_ignore_on_load_unexpected = [r"embed_positions\.weight$"]
    _keys_to_ignore_on_load_missing = [r"final_logits_bias$"]

    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.init_std
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=std)
            if module.padding_idx is not None:
                with torch.no_grad():
                    module.weight[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


def _check_length(length: int, config: MarianConfig, side: str) -> None:
    if length > config.max_position_embeddings:
        raise ValueError(
            f"the {side} has {length} positions but this Marian model has max_position_embeddings="
            f"{config.max_position_embeddings}; truncate it (tokenizer(..., truncation=True, "
            f"max_length={config.max_position_embeddings}))"
        )


class MarianEncoder(MarianPreTrainedModel):
    def __init__(self, config: MarianConfig, embed_tokens: nn.Embedding | None = None) -> None:
        super().__init__(config)
        d = config.d_model
        self.embed_scale = math.sqrt(d) if config.scale_embedding else 1.0
        self.embed_tokens = embed_tokens or nn.Embedding(config.vocab_size, d, config.pad_token_id)
        self.embed_positions = SinusoidalPositionalEmbedding(config.max_position_embeddings, d, layout="half")
        self.layers = nn.ModuleList([MarianEncoderLayer(config, i) for i in range(config.encoder_layers)])

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embed_tokens = value

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ):
        cfg = self.config
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds to the encoder")
        if inputs_embeds is None:
            validate_input_ids(input_ids, self.embed_tokens.num_embeddings)
            inputs_embeds = self.embed_tokens(input_ids) * self.embed_scale
        batch, length = inputs_embeds.shape[:2]
        _check_length(length, cfg, "source")
        validate_attention_mask((batch, length), attention_mask)
        positions = torch.arange(length, device=inputs_embeds.device)
        hidden = F.dropout(inputs_embeds + self.embed_positions(positions), cfg.dropout, self.training)
        mask = padding_mask_or_none(attention_mask, hidden.dtype)
        all_hidden = [] if output_hidden_states else None
        all_attn = [] if output_attentions else None
        for layer in self.layers:
            if all_hidden is not None:
                all_hidden.append(hidden)
            hidden, weights = layer(hidden, mask, bool(output_attentions))
            if all_attn is not None:
                all_attn.append(weights)
        if all_hidden is not None:
            all_hidden.append(hidden)
        out = BaseModelOutput(
            last_hidden_state=hidden,
            hidden_states=tuple(all_hidden) if all_hidden is not None else None,
            attentions=tuple(all_attn) if all_attn is not None else None,
        )
        return out if return_dict is not False else out.to_tuple()


class MarianDecoder(MarianPreTrainedModel):
    def __init__(self, config: MarianConfig, embed_tokens: nn.Embedding | None = None) -> None:
        super().__init__(config)
        d = config.d_model
        self.embed_scale = math.sqrt(d) if config.scale_embedding else 1.0
        self.embed_tokens = embed_tokens or nn.Embedding(config.decoder_vocab_size, d, config.pad_token_id)
        self.embed_positions = SinusoidalPositionalEmbedding(config.max_position_embeddings, d, layout="half")
        self.layers = nn.ModuleList([MarianDecoderLayer(config, i) for i in range(config.decoder_layers)])

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embed_tokens = value

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
        encoder_attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        cache: Cache | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ):
        cfg = self.config
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of decoder_input_ids or decoder_inputs_embeds")
        if inputs_embeds is None:
            validate_input_ids(input_ids, self.embed_tokens.num_embeddings)
            inputs_embeds = self.embed_tokens(input_ids) * self.embed_scale
        batch, length = inputs_embeds.shape[:2]
        past = cache.get_seq_length() if cache is not None else 0
        _check_length(past + length, cfg, "target")
        validate_attention_mask((batch, length), attention_mask, past)
        positions = torch.arange(past, past + length, device=inputs_embeds.device)
        hidden = F.dropout(inputs_embeds + self.embed_positions(positions), cfg.dropout, self.training)
        dtype, device = hidden.dtype, hidden.device
        mask = None
        if length > 1 or attention_mask is not None:
            mask = causal_mask(length, past + length, dtype, attention_mask, device)
        encoder_mask = padding_mask(encoder_attention_mask, dtype) if encoder_attention_mask is not None else None
        all_hidden = [] if output_hidden_states else None
        all_attn = [] if output_attentions else None
        all_cross = [] if output_attentions else None
        for layer in self.layers:
            if all_hidden is not None:
                all_hidden.append(hidden)
            hidden, self_w, cross_w = layer(hidden, encoder_hidden_states, mask, encoder_mask, cache, output_attentions)
            if all_attn is not None:
                all_attn.append(self_w)
                all_cross.append(cross_w)
        if all_hidden is not None:
            all_hidden.append(hidden)
        return DecoderOutput(
            last_hidden_state=hidden,
            past_key_values=cache,
            hidden_states=tuple(all_hidden) if all_hidden is not None else None,
            attentions=tuple(all_attn) if all_attn is not None else None,
            cross_attentions=tuple(all_cross) if all_cross is not None else None,
        )


class MarianModel(MarianPreTrainedModel):
    """Encoder + decoder; returns the decoder's last hidden state and the encoder's outputs."""

    def __init__(self, config: MarianConfig) -> None:
        super().__init__(config)
        if config.share_encoder_decoder_embeddings:
            if config.decoder_vocab_size != config.vocab_size:
                raise ValueError(
                    f"share_encoder_decoder_embeddings=True needs one vocabulary, but vocab_size="
                    f"{config.vocab_size} and decoder_vocab_size={config.decoder_vocab_size}"
                )
            # One matrix under three names (shared, encoder.embed_tokens, decoder.embed_tokens).
            self.shared = nn.Embedding(config.vocab_size, config.d_model, config.pad_token_id)
        shared = getattr(self, "shared", None)
        self.encoder = MarianEncoder(config, shared)
        self.decoder = MarianDecoder(config, shared)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.encoder.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        if self.config.share_encoder_decoder_embeddings:
            self.shared = value
            self.decoder.embed_tokens = value
        self.encoder.embed_tokens = value

    def get_encoder(self) -> MarianEncoder:
        return self.encoder

    def get_decoder(self) -> MarianDecoder:
        return self.decoder

    def tied_weight_keys(self) -> list[str]:
        if self.config.share_encoder_decoder_embeddings:
            return ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"]
        return []

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.Tensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs=None,
        past_key_values: Cache | tuple | None = None,
        inputs_embeds: torch.Tensor | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache: Cache | None = None,
    ):
        decoder_out, encoder_out, use_cache, return_dict = self.encode_decode(
            input_ids,
            attention_mask,
            decoder_input_ids,
            decoder_attention_mask,
            encoder_outputs,
            past_key_values,
            inputs_embeds,
            decoder_inputs_embeds,
            use_cache,
            output_attentions,
            output_hidden_states,
            return_dict,
            cache,
        )
        return model_output(decoder_out, encoder_out, use_cache, return_dict)

    def encode_decode(
        self,
        input_ids,
        attention_mask,
        decoder_input_ids,
        decoder_attention_mask,
        encoder_outputs,
        past_key_values,
        inputs_embeds,
        decoder_inputs_embeds,
        use_cache,
        output_attentions,
        output_hidden_states,
        return_dict,
        cache,
    ):
        """Run the encoder (unless its outputs are given) and the decoder; the heads share this."""
        cfg = self.config
        output_attentions = cfg.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = cfg.output_hidden_states if output_hidden_states is None else output_hidden_states
        return_dict = cfg.return_dict if return_dict is None else return_dict
        use_cache = cfg.use_cache if use_cache is None else use_cache
        encoder_out = as_encoder_output(encoder_outputs)
        if encoder_out is None:
            encoder_out = self.encoder(
                input_ids, attention_mask, inputs_embeds, output_attentions, output_hidden_states, return_dict=True
            )
        cache = as_cache(cache if cache is not None else past_key_values, encoder_decoder=True)
        if use_cache and cache is None:
            cache = EncoderDecoderCache()
        decoder_out = self.decoder(
            decoder_input_ids,
            decoder_attention_mask,
            encoder_out.last_hidden_state,
            attention_mask,
            decoder_inputs_embeds,
            cache if use_cache or cache is not None else None,
            bool(output_attentions),
            bool(output_hidden_states),
        )
        return decoder_out, encoder_out, use_cache, return_dict


class MarianMTModel(EncoderDecoderGenerationMixin, MarianPreTrainedModel):
    """MarianModel + an LM head over the target vocabulary, plus ``final_logits_bias``."""

    def __init__(self, config: MarianConfig) -> None:
        super().__init__(config)
        self.model = MarianModel(config)
        target_vocab = config.decoder_vocab_size
        self.register_buffer("final_logits_bias", torch.zeros(1, target_vocab))
        self.lm_head = nn.Linear(config.d_model, target_vocab, bias=False)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.model.encoder.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.model.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def tie_weights(self) -> None:
        # The head shares the decoder's embedding (the shared one when vocabularies are shared).
        if self.config.tie_word_embeddings:
            self.lm_head.weight = self.model.decoder.embed_tokens.weight

    def tied_weight_keys(self) -> list[str]:
        keys = ["model." + k for k in self.model.tied_weight_keys()]
        return keys + (["lm_head.weight"] if self.config.tie_word_embeddings else [])

    def resize_token_embeddings(self, new_num_tokens=None, pad_to_multiple_of=None) -> nn.Embedding:
        if not self.config.share_encoder_decoder_embeddings:
            raise ValueError("resize_token_embeddings needs share_encoder_decoder_embeddings=True (one vocabulary)")
        new = super().resize_token_embeddings(new_num_tokens, pad_to_multiple_of)
        n = new.num_embeddings
        bias = torch.zeros(1, n, dtype=self.final_logits_bias.dtype, device=self.final_logits_bias.device)
        keep = min(n, self.final_logits_bias.shape[1])
        bias[:, :keep] = self.final_logits_bias[:, :keep]
        self.final_logits_bias = bias
        self.config.decoder_vocab_size = n
        return new

    def _set_output_bias(self, bias: nn.Parameter) -> None:
        pass

    def get_encoder(self) -> MarianEncoder:
        return self.model.encoder

    def get_decoder(self) -> MarianDecoder:
        return self.model.decoder

    def prepare_decoder_input_ids_from_labels(self, labels: torch.Tensor) -> torch.Tensor:
        return shift_tokens_right(labels, self.config.pad_token_id, self.config.decoder_start_token_id)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.Tensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs=None,
        past_key_values: Cache | tuple | None = None,
        inputs_embeds: torch.Tensor | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache: Cache | None = None,
    ):
        if labels is not None:
            validate_labels(labels, self.config.decoder_vocab_size)
            use_cache = False
            if decoder_input_ids is None and decoder_inputs_embeds is None:
                decoder_input_ids = self.prepare_decoder_input_ids_from_labels(labels)
        decoder_out, encoder_out, use_cache, return_dict = self.model.encode_decode(
            input_ids,
            attention_mask,
            decoder_input_ids,
            decoder_attention_mask,
            encoder_outputs,
            past_key_values,
            inputs_embeds,
            decoder_inputs_embeds,
            use_cache,
            output_attentions,
            output_hidden_states,
            return_dict,
            cache,
        )
        logits = self.lm_head(decoder_out.last_hidden_state) + self.final_logits_bias
        loss = seq2seq_loss(logits, labels)
        return lm_output(loss, logits, decoder_out, encoder_out, use_cache, return_dict)
