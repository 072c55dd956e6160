"""Pieces every encoder-decoder family shares (Marian, T5): outputs, label shifting, the loss.

Field names are Hugging Face's Seq2Seq*Output names so ``outputs.encoder_last_hidden_state`` and
``outputs[0]`` read as they do there. ``shift_tokens_right`` is the teacher-forcing input: the
decoder sees ``[start, y1, ..., y(n-1)]`` and is trained to predict ``[y1, ..., yn]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ..modeling_outputs import (
    BaseModelOutput,
    BaseModelOutputWithPastAndCrossAttentions,
    Seq2SeqLMOutput,
    Seq2SeqModelOutput,
)

IGNORE_INDEX = -100  # label value the loss skips (padding in DataCollatorForSeq2Seq)


@dataclass
class DecoderOutput(BaseModelOutputWithPastAndCrossAttentions):
    """The decoder stack's output (Marian, T5); transformers returns the parent class there."""


def shift_tokens_right(
    labels: torch.Tensor, pad_token_id: int | None, decoder_start_token_id: int | None
) -> torch.Tensor:
    """[y1 .. yn] -> [start, y1 .. y(n-1)], with -100 (ignored label) turned into padding."""
    if decoder_start_token_id is None:
        raise ValueError(
            "config.decoder_start_token_id is None, so decoder inputs cannot be built from labels; set it "
            "(Marian: the pad id; T5: 0) or pass decoder_input_ids yourself"
        )
    if pad_token_id is None:
        raise ValueError("config.pad_token_id is None; it is needed to replace -100 in shifted labels")
    shifted = labels.new_full(labels.shape, decoder_start_token_id)
    shifted[:, 1:] = labels[:, :-1]
    return shifted.masked_fill(shifted == IGNORE_INDEX, pad_token_id)


def validate_labels(labels: torch.Tensor, vocab_size: int) -> None:
    """Labels must be target-vocabulary ids or -100; checked before decoding so the message is about labels."""
    real = labels[labels != IGNORE_INDEX]
    if real.numel() and (int(real.max()) >= vocab_size or int(real.min()) < 0):
        bad = int(real.max()) if int(real.max()) >= vocab_size else int(real.min())
        raise ValueError(
            f"labels contain id {bad} but the model's target vocabulary has {vocab_size} entries "
            f"(ids 0..{vocab_size - 1}); were the targets tokenized with a different vocabulary than the "
            "model's (check len(tokenizer) against config.vocab_size / decoder_vocab_size)?"
        )


def seq2seq_loss(logits: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor | None:
    """Mean token cross-entropy over labels that are not -100."""
    if labels is None:
        return None
    vocab = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, vocab).float(), labels.reshape(-1), ignore_index=IGNORE_INDEX)


def as_encoder_output(encoder_outputs: Any) -> Any:
    """Accept a BaseModelOutput, a tuple (hidden, ...) or a bare tensor as ``encoder_outputs``."""
    if encoder_outputs is None or isinstance(encoder_outputs, BaseModelOutput):
        return encoder_outputs
    if isinstance(encoder_outputs, torch.Tensor):
        return BaseModelOutput(last_hidden_state=encoder_outputs)
    items = list(encoder_outputs.values()) if isinstance(encoder_outputs, dict) else list(encoder_outputs)
    return BaseModelOutput(
        last_hidden_state=items[0],
        hidden_states=items[1] if len(items) > 1 else None,
        attentions=items[2] if len(items) > 2 else None,
    )


def lm_output(loss, logits, decoder_out, encoder_out, use_cache: bool, return_dict: bool):
    """Assemble Seq2SeqLMOutput (or its tuple) from the decoder's and encoder's outputs."""
    result = Seq2SeqLMOutput(
        loss=loss,
        logits=logits,
        past_key_values=decoder_out.past_key_values if use_cache else None,
        decoder_hidden_states=decoder_out.hidden_states,
        decoder_attentions=decoder_out.attentions,
        cross_attentions=decoder_out.cross_attentions,
        encoder_last_hidden_state=encoder_out.last_hidden_state,
        encoder_hidden_states=encoder_out.hidden_states,
        encoder_attentions=encoder_out.attentions,
    )
    return result if return_dict else result.to_tuple()


def model_output(decoder_out, encoder_out, use_cache: bool, return_dict: bool):
    result = Seq2SeqModelOutput(
        last_hidden_state=decoder_out.last_hidden_state,
        past_key_values=decoder_out.past_key_values if use_cache else None,
        decoder_hidden_states=decoder_out.hidden_states,
        decoder_attentions=decoder_out.attentions,
        cross_attentions=decoder_out.cross_attentions,
        encoder_last_hidden_state=encoder_out.last_hidden_state,
        encoder_hidden_states=encoder_out.hidden_states,
        encoder_attentions=encoder_out.attentions,
    )
    return result if return_dict else result.to_tuple()
