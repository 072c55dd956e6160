"""``EncodeRequest``: the options of one tokenizer call, checked and resolved once.

``__call__`` (and ``prepare_for_model``) turn the user's arguments (``padding=True``,
``truncation="only_second"``, a missing ``max_length`` ...) into this frozen record, and every
later step of the call chain (``_encode_examples``, ``_finalize``, the ``tokenizers`` backend)
reads the same object instead of a long list of arguments.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EncodeRequest:
    add_special_tokens: bool = True
    is_split_into_words: bool = False
    # resolved truncation: a strategy ("longest_first", "only_first", "only_second") or None
    truncation: str | None = None
    max_length: int | None = None  # the truncation length (None: no truncation)
    stride: int = 0
    # resolved padding: "longest", "max_length" or "do_not_pad"
    padding: str = "do_not_pad"
    pad_length: int | None = None  # the padding length for "max_length"
    pad_to_multiple_of: int | None = None
    padding_side: str | None = None  # None: the tokenizer's own side
    return_tensors: str | None = None
    return_token_type_ids: bool | None = None  # None: as the tokenizer's model_input_names say
    return_attention_mask: bool | None = None
    return_overflowing_tokens: bool = False
    return_special_tokens_mask: bool = False
    return_offsets_mapping: bool = False
    return_length: bool = False
