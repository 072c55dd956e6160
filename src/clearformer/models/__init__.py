"""Model families, each in its own folder, plus the Auto classes that pick one from config.json.

Each family's tokenizer is registered here with the tokenizer registry that ``AutoTokenizer``
reads (tokenization/registry.py), by import path: tokenization/ names no model family, and no
tokenizer code is imported until a folder needs it. ``clearformer/__init__.py`` imports this
package, so the entries exist before any tokenizer is looked up.
"""

from ..tokenization.registry import register_tokenizer

# model_type, class path, and the bare tokenizer.json (model, post-processor) it claims
register_tokenizer("bert", f"{__name__}.bert.tokenization_bert:BertTokenizer", ("WordPiece", None))
register_tokenizer("distilbert", f"{__name__}.distilbert.tokenization_distilbert:DistilBertTokenizer")
register_tokenizer("gpt2", f"{__name__}.gpt2.tokenization_gpt2:GPT2Tokenizer", ("BPE", None))
register_tokenizer("roberta", f"{__name__}.roberta.tokenization_roberta:RobertaTokenizer", ("BPE", "RobertaProcessing"))
register_tokenizer("marian", f"{__name__}.marian.tokenization_marian:MarianTokenizer")
register_tokenizer("t5", f"{__name__}.t5.tokenization_t5:T5Tokenizer")
