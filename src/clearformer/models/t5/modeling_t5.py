"""T5 (Raffel et al. 2019): T5Model, T5ForConditionalGeneration, T5EncoderModel.

What differs from the paper's Transformer: no position embeddings but a learned bias per head and
per relative-distance bucket, added to the attention scores (computed in the first layer of each
stack and shared by the others); no 1/sqrt(d) scaling (folded into the initialisation); pre-norm
with an RMS LayerNorm that has no bias and no mean subtraction; a plain or gated FFN; and, when the
head is tied to the embedding, decoder outputs scaled by d_model**-0.5 before it. Attribute names
are Hugging Face's (``encoder.block.0.layer.0.SelfAttention.q``). Parity with transformers 5.24 is
pinned in tests/models/test_t5.py.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ...activations import get_activation
from ...generation.encoder_decoder import EncoderDecoderGenerationMixin
from ...modeling_outputs import BaseModelOutput
from ...modeling_utils import PreTrainedModel, validate_attention_mask, validate_input_ids
from ...nn.attention import attention, merge_heads, split_heads
from ...nn.cache import Cache, EncoderDecoderCache, as_cache
from ...nn.masks import causal_allowed, padding_mask, to_additive
from ..seq2seq import (
    DecoderOutput,
    as_encoder_output,
    lm_output,
    model_output,
    seq2seq_loss,
    shift_tokens_right,
    validate_labels,
)
from .configuration_t5 import T5Config


class T5LayerNorm(nn.Module):
    """RMS norm: x / sqrt(mean(x²) + eps) * weight — no mean subtraction, no bias (computed in fp32)."""

    def __init__(self, hidden_size: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        variance = hidden_states.to(torch.float32).pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            hidden_states = hidden_states.to(self.weight.dtype)
        return self.weight * hidden_states


def relative_position_bucket(
    relative_position: torch.Tensor, bidirectional: bool, num_buckets: int = 32, max_distance: int = 128
) -> torch.Tensor:
    """Map key-minus-query distances to buckets: exact for small distances, log-spaced up to max_distance.

    Bidirectional (encoder): half the buckets for keys after the query. Unidirectional (decoder):
    keys after the query are impossible, so all buckets describe the past.
    """
    bucket = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        bucket += (relative_position > 0).long() * num_buckets
        distance = relative_position.abs()
    else:
        distance = -torch.clamp(relative_position, max=0)
    max_exact = num_buckets // 2
    is_small = distance < max_exact
    log_ratio = torch.log(distance.float() / max_exact) / math.log(max_distance / max_exact)
    large = max_exact + (log_ratio * (num_buckets - max_exact)).long()
    large = torch.clamp(large, max=num_buckets - 1)
    return bucket + torch.where(is_small, distance, large)


class T5Attention(nn.Module):
    """Multi-head attention without biases or scaling; the first layer also owns the position bias."""

    def __init__(self, config: T5Config, has_relative_attention_bias: bool, is_decoder: bool, layer_idx: int):
        super().__init__()
        self.config = config
        self.is_decoder = is_decoder
        self.layer_idx = layer_idx
        self.n_heads = config.num_heads
        inner = config.num_heads * config.d_kv
        self.q = nn.Linear(config.d_model, inner, bias=False)
        self.k = nn.Linear(config.d_model, inner, bias=False)
        self.v = nn.Linear(config.d_model, inner, bias=False)
        self.o = nn.Linear(inner, config.d_model, bias=False)
        self.has_relative_attention_bias = has_relative_attention_bias
        if has_relative_attention_bias:
            self.relative_attention_bias = nn.Embedding(config.relative_attention_num_buckets, config.num_heads)

    def compute_bias(self, query_positions: torch.Tensor, key_length: int) -> torch.Tensor:
        """(1, H, Lq, Lk) learned bias for each query position against keys 0..Lk-1."""
        keys = torch.arange(key_length, device=query_positions.device)
        relative = keys[None, :] - query_positions[:, None]  # (Lq, Lk): key minus query
        buckets = relative_position_bucket(
            relative,
            bidirectional=not self.is_decoder,
            num_buckets=self.config.relative_attention_num_buckets,
            max_distance=self.config.relative_attention_max_distance,
        )
        return self.relative_attention_bias(buckets).permute(2, 0, 1)[None]  # (1, H, Lq, Lk)

    def forward(
        self,
        hidden_states: torch.Tensor,
        key_value_states: torch.Tensor | None = None,
        position_bias: torch.Tensor | None = None,
        cache: Cache | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        q = split_heads(self.q(hidden_states), self.n_heads)  # (B, H, Lq, d_kv)
        cross = key_value_states is not None
        if cross and isinstance(cache, EncoderDecoderCache) and cache.is_updated.get(self.layer_idx):
            k, v = cache.cross_attention_cache[self.layer_idx]
        else:
            source = key_value_states if cross else hidden_states
            k, v = split_heads(self.k(source), self.n_heads), split_heads(self.v(source), self.n_heads)
            if cross and isinstance(cache, EncoderDecoderCache):
                k, v = cache.update_cross(k, v, self.layer_idx)
            elif not cross and cache is not None:
                k, v = cache.update(k, v, self.layer_idx)
        context, weights = attention(
            q,
            k,
            v,
            position_bias,
            dropout_p=self.config.dropout_rate if self.training else 0.0,
            scale=1.0,  # T5 folds 1/sqrt(d_kv) into the initialisation of q
            need_weights=output_attentions,
            implementation=self.config._attn_implementation,
        )
        return self.o(merge_heads(context)), weights


class T5LayerSelfAttention(nn.Module):
    def __init__(self, config: T5Config, has_relative_attention_bias: bool, is_decoder: bool, layer_idx: int):
        super().__init__()
        self.SelfAttention = T5Attention(config, has_relative_attention_bias, is_decoder, layer_idx)
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, hidden_states, position_bias, cache=None, output_attentions=False):
        out, weights = self.SelfAttention(self.layer_norm(hidden_states), None, position_bias, cache, output_attentions)
        return hidden_states + self.dropout(out), weights


class T5LayerCrossAttention(nn.Module):
    def __init__(self, config: T5Config, layer_idx: int):
        super().__init__()
        self.EncDecAttention = T5Attention(config, False, True, layer_idx)
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, hidden_states, encoder_hidden_states, encoder_bias, cache=None, output_attentions=False):
        out, weights = self.EncDecAttention(
            self.layer_norm(hidden_states), encoder_hidden_states, encoder_bias, cache, output_attentions
        )
        return hidden_states + self.dropout(out), weights


class T5DenseActDense(nn.Module):
    """wo(dropout(act(wi(x)))): the original T5 FFN."""

    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.wi = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.wo = nn.Linear(config.d_ff, config.d_model, bias=False)
        self.dropout = nn.Dropout(config.dropout_rate)
        self.act = get_activation(config.dense_act_fn)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.wo(self.dropout(self.act(self.wi(hidden_states))))


class T5DenseGatedActDense(nn.Module):
    """wo(dropout(act(wi_0(x)) * wi_1(x))): the gated FFN of T5 v1.1 (GEGLU)."""

    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.wi_0 = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.wi_1 = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.wo = nn.Linear(config.d_ff, config.d_model, bias=False)
        self.dropout = nn.Dropout(config.dropout_rate)
        self.act = get_activation(config.dense_act_fn)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.wo(self.dropout(self.act(self.wi_0(hidden_states)) * self.wi_1(hidden_states)))


class T5LayerFF(nn.Module):
    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.DenseReluDense = T5DenseGatedActDense(config) if config.is_gated_act else T5DenseActDense(config)
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return hidden_states + self.dropout(self.DenseReluDense(self.layer_norm(hidden_states)))


class T5Block(nn.Module):
    """layer[0] self-attention, (decoder) layer[1] cross-attention, last layer the FFN."""

    def __init__(self, config: T5Config, is_decoder: bool, layer_idx: int) -> None:
        super().__init__()
        self.is_decoder = is_decoder
        layers = [T5LayerSelfAttention(config, layer_idx == 0, is_decoder, layer_idx)]
        if is_decoder:
            layers.append(T5LayerCrossAttention(config, layer_idx))
        layers.append(T5LayerFF(config))
        self.layer = nn.ModuleList(layers)

    def forward(self, hidden, position_bias, encoder_hidden, encoder_bias, cache, output_attentions):
        hidden, self_w = self.layer[0](hidden, position_bias, cache, output_attentions)
        cross_w = None
        if self.is_decoder:
            hidden, cross_w = self.layer[1](hidden, encoder_hidden, encoder_bias, cache, output_attentions)
        return self.layer[-1](hidden), self_w, cross_w


class T5PreTrainedModel(PreTrainedModel):
    config_class = T5Config
    base_model_prefix = "transformer"
    # transformers 4.x saved an unused position bias on the first cross-attention layer.
    _keys_to_ignore_on_load_unexpected = [r"decoder\.block\.0\.layer\.1\.EncDecAttention\.relative_attention_bias"]

    def _init_weights(self, module: nn.Module) -> None:
        """Mesh TensorFlow's scheme: each matrix scaled by its fan-in (that is where 1/sqrt(d) went)."""
        f, cfg = self.config.initializer_factor, self.config
        d, kv, h = cfg.d_model, cfg.d_kv, cfg.num_heads
        if isinstance(module, T5LayerNorm):
            nn.init.constant_(module.weight, f)
        elif isinstance(module, nn.Embedding) and module.embedding_dim == d:
            nn.init.normal_(module.weight, std=f)
        elif isinstance(module, T5Attention):
            nn.init.normal_(module.q.weight, std=f * (d * kv) ** -0.5)
            nn.init.normal_(module.k.weight, std=f * d**-0.5)
            nn.init.normal_(module.v.weight, std=f * d**-0.5)
            nn.init.normal_(module.o.weight, std=f * (h * kv) ** -0.5)
            if module.has_relative_attention_bias:
                nn.init.normal_(module.relative_attention_bias.weight, std=f * d**-0.5)
        elif isinstance(module, (T5DenseActDense, T5DenseGatedActDense)):
            for name in ("wi", "wi_0", "wi_1"):
                if hasattr(module, name):
                    nn.init.normal_(getattr(module, name).weight, std=f * d**-0.5)
            nn.init.normal_(module.wo.weight, std=f * cfg.d_ff**-0.5)
        elif isinstance(module, nn.Linear) and module.out_features == cfg.vocab_size:
            nn.init.normal_(module.weight, std=f)


class T5Stack(T5PreTrainedModel):
    """Embeddings -> blocks -> final RMS norm; the encoder or (is_decoder) the decoder."""

    def __init__(self, config: T5Config, embed_tokens: nn.Embedding, is_decoder: bool) -> None:
        super().__init__(config)
        self.is_decoder = is_decoder
        self.embed_tokens = embed_tokens
        n = config.num_decoder_layers if is_decoder else config.num_layers
        self.block = nn.ModuleList([T5Block(config, is_decoder, i) for i in range(n)])
        self.final_layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embed_tokens = value

    def _position_bias(self, length: int, past: int, attention_mask, dtype, device) -> torch.Tensor:
        """Learned relative bias + padding (+ causal) mask, one (B|1, H, Lq, Lk) tensor for every layer."""
        query_positions = torch.arange(past, past + length, device=device)
        bias = self.block[0].layer[0].SelfAttention.compute_bias(query_positions, past + length).to(dtype)
        allowed = torch.ones(1, 1, length, past + length, dtype=torch.bool, device=device)
        if self.is_decoder:
            allowed = causal_allowed(length, past + length, device)[None, None]
        if attention_mask is not None:
            allowed = allowed & attention_mask[:, None, None, :].bool()
        return bias + to_additive(allowed, dtype)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
        encoder_attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        cache: Cache | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ):
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds")
        if inputs_embeds is None:
            validate_input_ids(input_ids, self.embed_tokens.num_embeddings)
            inputs_embeds = self.embed_tokens(input_ids)
        batch, length = inputs_embeds.shape[:2]
        past = cache.get_seq_length() if cache is not None else 0
        validate_attention_mask((batch, length), attention_mask, past)
        dtype, device = inputs_embeds.dtype, inputs_embeds.device
        position_bias = self._position_bias(length, past, attention_mask, dtype, device)
        encoder_bias = None
        if encoder_hidden_states is not None and encoder_attention_mask is not None:
            encoder_bias = padding_mask(encoder_attention_mask, dtype)
        hidden = self.dropout(inputs_embeds)
        all_hidden = [] if output_hidden_states else None
        all_attn = [] if output_attentions else None
        all_cross = [] if output_attentions and self.is_decoder else None
        for block in self.block:
            if all_hidden is not None:
                all_hidden.append(hidden)
            hidden, self_w, cross_w = block(
                hidden, position_bias, encoder_hidden_states, encoder_bias, cache, bool(output_attentions)
            )
            if all_attn is not None:
                all_attn.append(self_w)
            if all_cross is not None:
                all_cross.append(cross_w)
        hidden = self.dropout(self.final_layer_norm(hidden))
        if all_hidden is not None:
            all_hidden.append(hidden)
        hidden_states = tuple(all_hidden) if all_hidden is not None else None
        attentions = tuple(all_attn) if all_attn is not None else None
        if self.is_decoder:
            cross = tuple(all_cross) if all_cross is not None else None
            return DecoderOutput(
                last_hidden_state=hidden,
                past_key_values=cache,
                hidden_states=hidden_states,
                attentions=attentions,
                cross_attentions=cross,
            )
        out = BaseModelOutput(last_hidden_state=hidden, hidden_states=hidden_states, attentions=attentions)
        return out if return_dict is not False else out.to_tuple()


class T5Model(T5PreTrainedModel):
    """Shared embedding, encoder stack and decoder stack (no LM head)."""

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        self.encoder = T5Stack(config, self.shared, is_decoder=False)
        self.decoder = T5Stack(config, self.shared, is_decoder=True)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.shared

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.shared = value
        self.encoder.embed_tokens = value
        self.decoder.embed_tokens = value

    def get_encoder(self) -> T5Stack:
        return self.encoder

    def get_decoder(self) -> T5Stack:
        return self.decoder

    def tied_weight_keys(self) -> list[str]:
        return ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"]

    def encode_decode(self, input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, encoder_outputs,
                      past_key_values, inputs_embeds, decoder_inputs_embeds, use_cache, output_attentions,
                      output_hidden_states, return_dict, cache):  # fmt: skip
        """Run the encoder (unless its outputs are given) and the decoder; the heads share this."""
        cfg = self.config
        output_attentions = cfg.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = cfg.output_hidden_states if output_hidden_states is None else output_hidden_states
        return_dict = cfg.return_dict if return_dict is None else return_dict
        use_cache = cfg.use_cache if use_cache is None else use_cache
        encoder_out = as_encoder_output(encoder_outputs)
        if encoder_out is None:
            encoder_out = self.encoder(
                input_ids,
                attention_mask,
                inputs_embeds=inputs_embeds,
                output_attentions=output_attentions,
                output_hidden_states=output_hidden_states,
                return_dict=True,
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
            output_attentions,
            output_hidden_states,
        )
        return decoder_out, encoder_out, use_cache, return_dict

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
            input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, encoder_outputs, past_key_values,
            inputs_embeds, decoder_inputs_embeds, use_cache, output_attentions, output_hidden_states, return_dict,
            cache,
        )  # fmt: skip
        return model_output(decoder_out, encoder_out, use_cache, return_dict)


class T5ForConditionalGeneration(EncoderDecoderGenerationMixin, T5Model):
    """T5Model + LM head; the text-to-text model the course fine-tunes for summarization."""

    def __init__(self, config: T5Config) -> None:
        T5PreTrainedModel.__init__(self, config)  # T5Model's layout plus a head, built here in key order
        self.model_dim = config.d_model
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        self.encoder = T5Stack(config, self.shared, is_decoder=False)
        self.decoder = T5Stack(config, self.shared, is_decoder=True)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def tied_weight_keys(self) -> list[str]:
        return super().tied_weight_keys() + (["lm_head.weight"] if self.config.tie_word_embeddings else [])

    @property
    def scale_decoder_outputs(self) -> bool:
        """Original T5 (tied head) rescales by d_model**-0.5; v1.1 (untied) does not.

        transformers 5.24 writes this choice as ``scale_decoder_outputs`` in config.json; older
        files only say ``tie_word_embeddings``.
        """
        return bool(self.config.extra.get("scale_decoder_outputs", self.config.tie_word_embeddings))

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
            validate_labels(labels, self.config.vocab_size)
            use_cache = False
            if decoder_input_ids is None and decoder_inputs_embeds is None:
                decoder_input_ids = self.prepare_decoder_input_ids_from_labels(labels)
        decoder_out, encoder_out, use_cache, return_dict = self.encode_decode(
            input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, encoder_outputs, past_key_values,
            inputs_embeds, decoder_inputs_embeds, use_cache, output_attentions, output_hidden_states, return_dict,
            cache,
        )  # fmt: skip
        sequence_output = decoder_out.last_hidden_state
        if self.scale_decoder_outputs:
            sequence_output = sequence_output * (self.model_dim**-0.5)
        logits = self.lm_head(sequence_output)
        loss = seq2seq_loss(logits, labels)
        return lm_output(loss, logits, decoder_out, encoder_out, use_cache, return_dict)


class T5EncoderModel(T5PreTrainedModel):
    """The encoder alone (sentence embeddings, classification on top)."""

    def __init__(self, config: T5Config) -> None:
        super().__init__(config)
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        self.encoder = T5Stack(config, self.shared, is_decoder=False)
        self.post_init()

    _keys_to_ignore_on_load_unexpected = [r"^decoder\.", r"^lm_head\."]

    def get_input_embeddings(self) -> nn.Embedding:
        return self.shared

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.shared = value
        self.encoder.embed_tokens = value

    def get_encoder(self) -> T5Stack:
        return self.encoder

    def tied_weight_keys(self) -> list[str]:
        return ["encoder.embed_tokens.weight"]

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ):
        return self.encoder(
            input_ids,
            attention_mask,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=return_dict,
        )
