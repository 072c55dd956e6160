"""RobertaConfig: BERT's fields with RoBERTa's vocabulary, special ids and position offset."""

from __future__ import annotations

from dataclasses import dataclass

from ..bert.configuration_bert import BertConfig


@dataclass(eq=False, init=False)
class RobertaConfig(BertConfig):
    model_type = "roberta"
    # The padding id is also the padding row of the position table (fairseq's position offset).
    padding_tables = ("vocab_size", "max_position_embeddings")

    vocab_size: int = 50265
    # 514 rows = 512 tokens + the padding row + the unused row below padding_idx + 1 (fairseq).
    max_position_embeddings: int = 514
    type_vocab_size: int = 1
    layer_norm_eps: float = 1e-5
    pad_token_id: int | None = 1
    bos_token_id: int | None = 0
    eos_token_id: int | list[int] | None = 2
