"""Each model family's tokenizer, registered with the registry ``AutoTokenizer`` reads.

tokenization/ names no model family (docs/architecture.md); this table is where the families
meet it, by import path, so no tokenizer code is imported until a folder needs it.
``clearformer/__init__.py`` imports this module, so the entries exist before any lookup.
"""

from __future__ import annotations

from ..tokenization.registry import register_tokenizer

# model_type, class path, and the bare tokenizer.json (model, post-processor) the class claims
register_tokenizer("bert", "clearformer.models.bert.tokenization_bert:BertTokenizer", ("WordPiece", None))
register_tokenizer("distilbert", "clearformer.models.distilbert.tokenization_distilbert:DistilBertTokenizer")
register_tokenizer("gpt2", "clearformer.models.gpt2.tokenization_gpt2:GPT2Tokenizer", ("BPE", None))
register_tokenizer(
    "roberta", "clearformer.models.roberta.tokenization_roberta:RobertaTokenizer", ("BPE", "RobertaProcessing")
)
register_tokenizer("marian", "clearformer.models.marian.tokenization_marian:MarianTokenizer")
register_tokenizer("t5", "clearformer.models.t5.tokenization_t5:T5Tokenizer")
