"""DistilBERT's tokenizer: BERT's WordPiece, but the model takes no token_type_ids."""

from __future__ import annotations

from ..bert.tokenization_bert import BertTokenizer


class DistilBertTokenizer(BertTokenizer):
    model_input_names = ["input_ids", "attention_mask"]
