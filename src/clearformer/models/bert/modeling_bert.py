"""BERT (Devlin et al. 2018) with every head the course uses.

Module attribute names are Hugging Face's (``encoder.layer.3.attention.self.query``) because they
are the checkpoint format: ``state_dict()`` keys equal checkpoint keys with no rename table.
Parity with transformers 5.24 (and 4.57 for relative positions and head_mask) is pinned in
tests/models/test_bert_parity.py at 1e-5 in fp32.
"""

from __future__ import annotations

import math
import warnings  # noqa: F401 - chapter 3 reads it through import *
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss  # noqa: F401 - chapter 3's losses
from torch.torch_version import TorchVersion
from torch.utils.checkpoint import checkpoint

from ...activations import ACT2FN, get_activation  # noqa: F401 - ACT2FN: chapter 3
from ...file_utils import *  # noqa: F403 - chapter 3 decorates its classes with these
from ...generation.utils import GenerationMixin
from ...modeling_outputs import (
    BaseModelOutputWithPastAndCrossAttentions,
    BaseModelOutputWithPoolingAndCrossAttentions,
    BertForPreTrainingOutput,
    CausalLMOutputWithCrossAttentions,
    MaskedLMOutput,
    MultipleChoiceModelOutput,
    NextSentencePredictorOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from ...modeling_utils import PreTrainedModel, validate_attention_mask, validate_input_ids
from ...nn.attention import attention, merge_heads, split_heads
from ...nn.cache import Cache, DynamicCache, EncoderDecoderCache, as_cache
from ...nn.masks import causal_mask, padding_mask, padding_mask_or_none
from ...pytorch_utils import *  # noqa: F403 - chapter 3's chunking and pruning helpers
from ...utils import logging
from ...utils.arguments import pick_kwargs
from ..heads import (
    causal_lm_loss,
    classification_loss,
    expand_head_mask,
    flatten_choices,
    qa_loss,
    token_loss,
    want_dict,
)
from .configuration_bert import BertConfig

logger = logging.get_logger(__name__)

# --- names chapter 3 of the course reads after ``from ...modeling_bert import *`` ---------------
# Its own BertEmbeddings ... BertForSequenceClassification are written against this module's
# namespace: the loss classes, ACT2FN, the pruning and chunking helpers, the output classes, the
# docstring decorators and constants below, ``logger``, ``version`` and ``warnings``.
_CHECKPOINT_FOR_DOC = "bert-base-uncased"
_CONFIG_FOR_DOC = "BertConfig"
_TOKENIZER_FOR_DOC = "BertTokenizer"
BERT_START_DOCSTRING = """
    A BERT model (Devlin et al. 2018); ``config`` is a BertConfig, weights load with ``from_pretrained``.
"""
BERT_INPUTS_DOCSTRING = """
    Args:
        input_ids (``torch.LongTensor`` of shape ``({0})``): token ids from the tokenizer.
        attention_mask (``torch.LongTensor`` of shape ``({0})``, optional): 1 for tokens, 0 for padding.
        token_type_ids (``torch.LongTensor`` of shape ``({0})``, optional): segment A (0) or B (1).
"""


# ``version.parse(torch.__version__) > version.parse("1.6.0")`` without a dependency on packaging:
# torch's own version string type compares the way packaging's Version does.
version = SimpleNamespace(parse=TorchVersion)


def load_tf_weights_in_bert(model: nn.Module, config: BertConfig, tf_checkpoint_path: str) -> nn.Module:
    """Refused: clearformer reads safetensors and PyTorch files only (no TensorFlow dependency)."""
    raise NotImplementedError(
        f"cannot read the TensorFlow checkpoint {tf_checkpoint_path!r}: clearformer loads safetensors and "
        "PyTorch weights only; convert it with transformers' convert_bert_original_tf_checkpoint_to_pytorch "
        "script and load the resulting folder with from_pretrained"
    )


class BertEmbeddings(nn.Module):
    """token + position + segment embeddings, summed, then LayerNorm and dropout.

    Summing is one linear layer over the concatenated one-hot vectors (``clearformer explain
    embedding-sum`` shows it numerically), so nothing is lost by adding instead of concatenating.
    """

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.absolute = config.position_embedding_type == "absolute"
        self.register_buffer("position_ids", torch.arange(config.max_position_embeddings)[None], persistent=False)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        past_key_values_length: int = 0,
    ) -> torch.Tensor:
        if inputs_embeds is None:
            validate_input_ids(input_ids, self.word_embeddings.num_embeddings)
            inputs_embeds = self.word_embeddings(input_ids)
        batch, length = inputs_embeds.shape[:2]
        if position_ids is None:
            position_ids = self.position_ids[:, past_key_values_length : past_key_values_length + length]
        if token_type_ids is None:
            token_type_ids = torch.zeros(batch, length, dtype=torch.long, device=inputs_embeds.device)
        elif int(token_type_ids.max()) >= self.token_type_embeddings.num_embeddings:
            raise IndexError(
                f"token_type_ids contains {int(token_type_ids.max())} but type_vocab_size is "
                f"{self.token_type_embeddings.num_embeddings}"
            )
        embeddings = inputs_embeds + self.token_type_embeddings(token_type_ids)
        if self.absolute:
            embeddings = embeddings + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(embeddings))


class BertSelfAttention(nn.Module):
    """Multi-head attention; self-attention, or cross-attention when ``is_cross_attention``."""

    def __init__(self, config: BertConfig, is_cross_attention: bool = False, layer_idx: int = 0) -> None:
        super().__init__()
        if config.hidden_size % config.num_attention_heads:
            raise ValueError(
                f"hidden_size ({config.hidden_size}) is not a multiple of num_attention_heads "
                f"({config.num_attention_heads}): each head gets hidden_size / num_attention_heads "
                "dimensions, so pick a head count that divides the width"
            )
        self.config = config
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.all_head_size = config.hidden_size
        self.query = nn.Linear(config.hidden_size, self.all_head_size)
        self.key = nn.Linear(config.hidden_size, self.all_head_size)
        self.value = nn.Linear(config.hidden_size, self.all_head_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)
        self.is_cross_attention = is_cross_attention
        self.layer_idx = layer_idx
        self.position_embedding_type = config.position_embedding_type
        if self.position_embedding_type in ("relative_key", "relative_key_query"):
            self.max_position_embeddings = config.max_position_embeddings
            self.distance_embedding = nn.Embedding(2 * config.max_position_embeddings - 1, self.attention_head_size)
        elif self.position_embedding_type != "absolute":
            raise ValueError(
                f"position_embedding_type must be absolute, relative_key or relative_key_query, "
                f"got {self.position_embedding_type!r}"
            )

    def _key_value(self, source: torch.Tensor, cache: Cache | None) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.num_attention_heads
        if self.is_cross_attention:
            # Encoder keys/values never change while decoding: compute them once per layer.
            if isinstance(cache, EncoderDecoderCache) and cache.is_updated.get(self.layer_idx):
                return cache.cross_attention_cache[self.layer_idx]
            k, v = split_heads(self.key(source), h), split_heads(self.value(source), h)
            if isinstance(cache, EncoderDecoderCache):
                k, v = cache.update_cross(k, v, self.layer_idx)
            return k, v
        k, v = split_heads(self.key(source), h), split_heads(self.value(source), h)
        if cache is not None:
            k, v = cache.update(k, v, self.layer_idx)
        return k, v

    def project(
        self, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor | None = None, cache: Cache | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Queries from this sequence; keys and values from it too, or from the encoder (cross-attention)."""
        q = split_heads(self.query(hidden_states), self.num_attention_heads)  # (B, H, Lq, D)
        source = encoder_hidden_states if self.is_cross_attention else hidden_states
        k, v = self._key_value(source, cache)  # (B, H, Lk, D)
        return q, k, v

    def relative_scores(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """Scores from learned distance embeddings (query i vs key j uses row i - j)."""
        lq, lk = q.shape[-2], k.shape[-2]
        pos_q = torch.arange(lk - lq, lk, device=q.device)[:, None]  # absolute query positions
        pos_k = torch.arange(lk, device=q.device)[None, :]
        dist = self.distance_embedding(pos_q - pos_k + self.max_position_embeddings - 1).to(q.dtype)
        scores = torch.einsum("bhld,lrd->bhlr", q, dist)
        if self.position_embedding_type == "relative_key_query":
            scores = scores + torch.einsum("bhrd,lrd->bhlr", k, dist)
        return scores

    def forward(
        self,
        hidden_states: torch.Tensor,
        mask: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
        cache: Cache | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        q, k, v = self.project(hidden_states, encoder_hidden_states, cache)
        scale = 1.0 / math.sqrt(self.attention_head_size)
        if self.position_embedding_type != "absolute":
            # The reference adds these scores before dividing by sqrt(d); folding them into the
            # additive mask keeps one attention function (and the SDPA path) for every variant.
            bias = self.relative_scores(q, k) * scale
            mask = bias if mask is None else mask + bias
        context, weights = attention(
            q,
            k,
            v,
            mask,
            dropout=self.dropout,
            scale=scale,
            head_mask=head_mask,
            need_weights=output_attentions,
            implementation=self.config._attn_implementation,
        )
        return merge_heads(context), weights


class BertSelfOutput(nn.Module):
    """Post-norm residual: LayerNorm(x + dropout(dense(attention(x))))."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor, input_tensor: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertAttention(nn.Module):
    def __init__(self, config: BertConfig, is_cross_attention: bool = False, layer_idx: int = 0) -> None:
        super().__init__()
        self.self = BertSelfAttention(config, is_cross_attention, layer_idx)
        self.output = BertSelfOutput(config)

    def forward(self, hidden_states: torch.Tensor, *args, **kwargs) -> tuple[torch.Tensor, torch.Tensor | None]:
        context, weights = self.self(hidden_states, *args, **kwargs)
        return self.output(context, hidden_states), weights


class BertIntermediate(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = get_activation(config.hidden_act)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.intermediate_act_fn(self.dense(hidden_states))


class BertOutput(BertSelfOutput):
    """FFN output: the same post-norm residual, from intermediate_size back to hidden_size."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)


class BertLayer(nn.Module):
    def __init__(self, config: BertConfig, layer_idx: int = 0) -> None:
        super().__init__()
        self.attention = BertAttention(config, layer_idx=layer_idx)
        self.is_decoder = config.is_decoder
        self.add_cross_attention = config.add_cross_attention
        if self.add_cross_attention:
            if not self.is_decoder:
                raise ValueError("add_cross_attention=True needs is_decoder=True in the config")
            self.crossattention = BertAttention(config, is_cross_attention=True, layer_idx=layer_idx)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(
        self,
        hidden_states: torch.Tensor,
        mask: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
        encoder_mask: torch.Tensor | None = None,
        cache: Cache | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        self_cache = cache.self_attention_cache if isinstance(cache, EncoderDecoderCache) else cache
        hidden_states, self_weights = self.attention(
            hidden_states, mask, head_mask, cache=self_cache, output_attentions=output_attentions
        )
        cross_weights = None
        if encoder_hidden_states is not None:
            if not self.add_cross_attention:
                raise ValueError(
                    "encoder_hidden_states were given but this model has no cross-attention layers; "
                    "build it with is_decoder=True and add_cross_attention=True"
                )
            hidden_states, cross_weights = self.crossattention(
                hidden_states,
                encoder_mask,
                head_mask,
                encoder_hidden_states,
                cache=cache,
                output_attentions=output_attentions,
            )
        hidden_states = self.output(self.intermediate(hidden_states), hidden_states)
        return hidden_states, self_weights, cross_weights


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.layer = nn.ModuleList(BertLayer(config, i) for i in range(config.num_hidden_layers))
        self.gradient_checkpointing = False

    def forward(
        self,
        hidden_states: torch.Tensor,
        mask: torch.Tensor | None = None,
        head_mask: list[torch.Tensor | None] | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
        encoder_mask: torch.Tensor | None = None,
        cache: Cache | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> BaseModelOutputWithPastAndCrossAttentions:
        all_hidden = [hidden_states] if output_hidden_states else None
        all_attn = [] if output_attentions else None
        all_cross = [] if output_attentions and encoder_hidden_states is not None else None
        for i, layer in enumerate(self.layer):
            args = (
                hidden_states,
                mask,
                head_mask[i] if head_mask else None,
                encoder_hidden_states,
                encoder_mask,
                cache,
                output_attentions,
            )
            if self.gradient_checkpointing and self.training:
                hidden_states, attn, cross = checkpoint(layer, *args, use_reentrant=False)
            else:
                hidden_states, attn, cross = layer(*args)
            if all_hidden is not None:
                all_hidden.append(hidden_states)
            if all_attn is not None:
                all_attn.append(attn)
            if all_cross is not None:
                all_cross.append(cross)
        return BaseModelOutputWithPastAndCrossAttentions(
            last_hidden_state=hidden_states,
            past_key_values=cache,
            hidden_states=tuple(all_hidden) if all_hidden is not None else None,
            attentions=tuple(all_attn) if all_attn is not None else None,
            cross_attentions=tuple(all_cross) if all_cross is not None else None,
        )


class BertPooler(nn.Module):
    """tanh(dense(h[CLS])): the [batch, hidden] sentence vector NSP was trained on."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.activation(self.dense(hidden_states[:, 0]))


class BertPreTrainedModel(PreTrainedModel):
    config_class = BertConfig
    base_model_prefix = "bert"
    # What the heads' **kwargs hand to BertModel (defined with the heads below).
    _forward_kwargs = (
        "attention_mask",
        "token_type_ids",
        "position_ids",
        "head_mask",
        "inputs_embeds",
        "output_attentions",
        "output_hidden_states",
    )
    # Older checkpoints saved the position_ids buffer; it is rebuilt, not loaded. A hand-written
    # BertEmbeddings (chapter 3) registers it as a saved buffer, so a checkpoint may lack it too.
    _keys_to_ignore_on_load_missing = [r"embeddings\.position_ids$"]
    _keys_to_ignore_on_load_unexpected = [r"embeddings\.position_ids$", r"embeddings\.token_type_ids$"]
    _keys_initialized_when_missing = [r"(^|\.)pooler\."]

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, BertLMPredictionHead):
            nn.init.zeros_(module.bias)


class BertModel(BertPreTrainedModel):
    """Returns the sequence output [batch, seq, hidden] and the pooled output [batch, hidden]."""

    embeddings_class: type[nn.Module] = BertEmbeddings

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True) -> None:
        super().__init__(config)
        self.embeddings = self.embeddings_class(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embeddings.word_embeddings = value

    def max_input_length(self) -> int:
        return self.config.max_position_embeddings

    def _check_inputs(self, input_ids, inputs_embeds, attention_mask, past: int) -> tuple[int, int]:
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds")
        shape = tuple(input_ids.shape) if input_ids is not None else tuple(inputs_embeds.shape[:2])
        if len(shape) != 2:
            raise ValueError(f"input_ids must be (batch, seq_len), got shape {shape}")
        limit = self.max_input_length()
        if shape[1] + past > limit:
            raise ValueError(
                f"sequence length {shape[1] + past} exceeds the {limit} positions this model has "
                f"(max_position_embeddings={self.config.max_position_embeddings}); "
                f"truncate the input (tokenizer(..., truncation=True, max_length={limit}))"
            )
        validate_attention_mask(shape, attention_mask, past)
        return shape

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
        encoder_attention_mask: torch.Tensor | None = None,
        past_key_values: Cache | tuple | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache: Cache | None = None,
    ):
        cfg = self.config
        output_attentions = cfg.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = cfg.output_hidden_states if output_hidden_states is None else output_hidden_states
        return_dict = cfg.return_dict if return_dict is None else return_dict
        use_cache = cfg.is_decoder and (cfg.use_cache if use_cache is None else use_cache)
        cache = as_cache(cache if cache is not None else past_key_values, encoder_hidden_states is not None)
        if use_cache and cache is None:
            cache = EncoderDecoderCache() if encoder_hidden_states is not None else DynamicCache()
        past = cache.get_seq_length() if cache is not None else 0
        batch, length = self._check_inputs(input_ids, inputs_embeds, attention_mask, past)

        embedding_output = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds, past)
        dtype = embedding_output.dtype
        if cfg.is_decoder:
            mask = causal_mask(length, past + length, dtype, attention_mask, embedding_output.device)
        else:
            mask = padding_mask_or_none(attention_mask, dtype)
        encoder_mask = None
        if encoder_hidden_states is not None and encoder_attention_mask is not None:
            encoder_mask = padding_mask(encoder_attention_mask, dtype)
        heads = expand_head_mask(head_mask, cfg.num_hidden_layers, dtype)

        out = self.encoder(
            embedding_output,
            mask,
            heads,
            encoder_hidden_states,
            encoder_mask,
            cache if use_cache or past else None,
            output_attentions,
            output_hidden_states,
        )
        sequence_output = out.last_hidden_state
        pooled = self.pooler(sequence_output) if self.pooler is not None else None
        result = BaseModelOutputWithPoolingAndCrossAttentions(
            last_hidden_state=sequence_output,
            pooler_output=pooled,
            past_key_values=out.past_key_values if use_cache else None,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
            cross_attentions=out.cross_attentions,
        )
        return result if return_dict else result.to_tuple()


# --- heads --------------------------------------------------------------------------------------
class BertPredictionHeadTransform(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.transform_act_fn = get_activation(config.hidden_act)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.transform_act_fn(self.dense(hidden_states)))


class BertLMPredictionHead(nn.Module):
    """Vocabulary logits; the matrix is tied to the word embeddings, the bias is the head's own."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.transform = BertPredictionHeadTransform(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.decoder.bias = self.bias  # one parameter under both checkpoint names

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.transform(hidden_states))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.predictions = BertLMPredictionHead(config)

    def forward(self, sequence_output: torch.Tensor) -> torch.Tensor:
        return self.predictions(sequence_output)


class BertOnlyNSPHead(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.seq_relationship = nn.Linear(config.hidden_size, 2)

    def forward(self, pooled_output: torch.Tensor) -> torch.Tensor:
        return self.seq_relationship(pooled_output)


class BertPreTrainingHeads(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.predictions = BertLMPredictionHead(config)
        self.seq_relationship = nn.Linear(config.hidden_size, 2)

    def forward(self, sequence_output: torch.Tensor, pooled_output: torch.Tensor):
        return self.predictions(sequence_output), self.seq_relationship(pooled_output)


_BASE_ARGS = BertPreTrainedModel._forward_kwargs


def _base_kwargs(model: PreTrainedModel, kwargs: dict) -> dict:
    return pick_kwargs(model, kwargs, _BASE_ARGS)


class _MLMTied(BertPreTrainedModel):
    """Shared plumbing of the heads whose decoder is tied to the word embeddings."""

    _tied_weights_keys = {
        "cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
        "cls.predictions.decoder.bias": "cls.predictions.bias",
    }

    def get_output_embeddings(self) -> nn.Linear:
        return self.cls.predictions.decoder

    def set_output_embeddings(self, value: nn.Linear) -> None:
        self.cls.predictions.decoder = value
        self.cls.predictions.bias = value.bias

    def _set_output_bias(self, bias: nn.Parameter) -> None:
        self.cls.predictions.bias = bias
        self.cls.predictions.decoder.bias = bias


class BertForPreTraining(_MLMTied):
    """Masked LM + next-sentence prediction; the loss is their sum when both labels are given."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config)
        self.cls = BertPreTrainingHeads(config)
        self.post_init()

    def forward(self, input_ids=None, labels=None, next_sentence_label=None, return_dict=None, **kwargs):
        out = self.bert(input_ids, **_base_kwargs(self, kwargs), return_dict=True)
        scores, nsp = self.cls(out.last_hidden_state, out.pooler_output)
        loss = None
        if labels is not None and next_sentence_label is not None:
            loss = token_loss(scores, labels) + F.cross_entropy(nsp.view(-1, 2), next_sentence_label.view(-1))
        result = BertForPreTrainingOutput(
            loss=loss,
            prediction_logits=scores,
            seq_relationship_logits=nsp,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
        )
        return result if want_dict(self, return_dict) else result.to_tuple()


class BertForMaskedLM(_MLMTied):
    _keys_to_ignore_on_load_unexpected = [
        r"pooler",
        *BertPreTrainedModel._keys_to_ignore_on_load_unexpected,
        r"cls\.seq_relationship",
    ]

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config)
        self.post_init()

    def forward(self, input_ids=None, labels=None, return_dict=None, **kwargs):
        out = self.bert(input_ids, **_base_kwargs(self, kwargs), return_dict=True)
        logits = self.cls(out.last_hidden_state)
        result = MaskedLMOutput(
            loss=token_loss(logits, labels),
            logits=logits,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
        )
        return result if want_dict(self, return_dict) else result.to_tuple()


class BertLMHeadModel(GenerationMixin, _MLMTied):
    """BERT as a left-to-right decoder (``is_decoder=True``): causal mask, cache, next-token loss."""

    _keys_to_ignore_on_load_unexpected = BertForMaskedLM._keys_to_ignore_on_load_unexpected

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        if not config.is_decoder:
            import warnings

            warnings.warn("BertLMHeadModel is meant to be used with is_decoder=True", stacklevel=2)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config)
        self.post_init()

    def forward(
        self,
        input_ids=None,
        labels=None,
        encoder_hidden_states=None,
        encoder_attention_mask=None,
        past_key_values=None,
        use_cache=None,
        return_dict=None,
        cache=None,
        **kwargs,
    ):
        out = self.bert(
            input_ids,
            **_base_kwargs(self, kwargs),
            encoder_hidden_states=encoder_hidden_states,
            encoder_attention_mask=encoder_attention_mask,
            past_key_values=past_key_values,
            use_cache=use_cache,
            cache=cache,
            return_dict=True,
        )
        logits = self.cls(out.last_hidden_state)
        result = CausalLMOutputWithCrossAttentions(
            loss=causal_lm_loss(logits, labels),
            logits=logits,
            past_key_values=out.past_key_values,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
            cross_attentions=out.cross_attentions,
        )
        return result if want_dict(self, return_dict) else result.to_tuple()


class BertForNextSentencePrediction(BertPreTrainedModel):
    """Label 0: sentence B follows A; label 1: B is a random sentence."""

    _keys_to_ignore_on_load_unexpected = [*BertPreTrainedModel._keys_to_ignore_on_load_unexpected, r"cls\.predictions"]
    _forward_kwargs = (*BertPreTrainedModel._forward_kwargs, "next_sentence_label")

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config)
        self.cls = BertOnlyNSPHead(config)
        self.post_init()

    def forward(self, input_ids=None, labels=None, return_dict=None, **kwargs):
        if "next_sentence_label" in kwargs:
            import warnings

            warnings.warn("next_sentence_label is deprecated; pass labels=", FutureWarning, stacklevel=2)
            labels = kwargs.pop("next_sentence_label")
        out = self.bert(input_ids, **_base_kwargs(self, kwargs), return_dict=True)
        logits = self.cls(out.pooler_output)
        loss = F.cross_entropy(logits.view(-1, 2), labels.view(-1)) if labels is not None else None
        result = NextSentencePredictorOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )
        return result if want_dict(self, return_dict) else result.to_tuple()


class BertForSequenceClassification(BertPreTrainedModel):
    """pooled output -> dropout -> Linear(hidden, num_labels); loss by ``config.problem_type``."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config)
        self.dropout = nn.Dropout(_classifier_dropout(config))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None, return_dict=None, **kwargs):
        out = self.bert(input_ids, **_base_kwargs(self, kwargs), return_dict=True)
        logits = self.classifier(self.dropout(out.pooler_output))
        loss = classification_loss(self.config, logits, labels)
        result = SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )
        return result if want_dict(self, return_dict) else result.to_tuple()


class BertForMultipleChoice(BertPreTrainedModel):
    """Inputs (batch, num_choices, seq): every choice is encoded as its own sequence, then scored."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config)
        self.dropout = nn.Dropout(_classifier_dropout(config))
        self.classifier = nn.Linear(config.hidden_size, 1)
        self.post_init()

    def forward(self, input_ids=None, labels=None, return_dict=None, **kwargs):
        num_choices, flat_ids, flat = flatten_choices(input_ids, _base_kwargs(self, kwargs))
        out = self.bert(flat_ids, **flat, return_dict=True)
        logits = self.classifier(self.dropout(out.pooler_output)).view(-1, num_choices)
        loss = F.cross_entropy(logits, labels.view(-1)) if labels is not None else None
        result = MultipleChoiceModelOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )
        return result if want_dict(self, return_dict) else result.to_tuple()


class BertForTokenClassification(BertPreTrainedModel):
    _keys_to_ignore_on_load_unexpected = [r"pooler", *BertPreTrainedModel._keys_to_ignore_on_load_unexpected]

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(_classifier_dropout(config))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None, return_dict=None, **kwargs):
        out = self.bert(input_ids, **_base_kwargs(self, kwargs), return_dict=True)
        logits = self.classifier(self.dropout(out.last_hidden_state))
        result = TokenClassifierOutput(
            loss=token_loss(logits, labels), logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )
        return result if want_dict(self, return_dict) else result.to_tuple()


class BertForQuestionAnswering(BertPreTrainedModel):
    """Start and end logits per token; answers are spans [start, end]."""

    _keys_to_ignore_on_load_unexpected = BertForTokenClassification._keys_to_ignore_on_load_unexpected

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        self.qa_outputs = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, start_positions=None, end_positions=None, return_dict=None, **kwargs):
        out = self.bert(input_ids, **_base_kwargs(self, kwargs), return_dict=True)
        start_logits, end_logits = self.qa_outputs(out.last_hidden_state).split(1, dim=-1)
        start_logits, end_logits = start_logits.squeeze(-1), end_logits.squeeze(-1)
        result = QuestionAnsweringModelOutput(
            loss=qa_loss(start_logits, end_logits, start_positions, end_positions),
            start_logits=start_logits,
            end_logits=end_logits,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
        )
        return result if want_dict(self, return_dict) else result.to_tuple()


def _classifier_dropout(config: BertConfig) -> float:
    return config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
