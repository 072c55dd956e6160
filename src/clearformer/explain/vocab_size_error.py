"""HB-28 Q26 / 2.2.2: the embedding index error from a vocabulary that forgot some tokens.

The course sizes ``nn.Embedding(10, 8)`` for 8 words because [UNK] and [PAD] need rows too; an
embedding with fewer rows than the largest id fails with "index out of range". The same happens
after ``tokenizer.add_tokens`` unless the model grows with ``resize_token_embeddings(len(tokenizer))``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from torch import nn

WORDS = ["i", "like", "natural", "language", "processing", "transformers", "are", "fun"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _error(fn) -> str | None:
    try:
        fn()
    except (IndexError, RuntimeError) as err:
        return str(err).strip().splitlines()[0]
    return None


def run() -> dict:
    from ..models.bert.configuration_bert import BertConfig
    from ..models.bert.modeling_bert import BertModel
    from ..models.bert.tokenization_bert import BertTokenizer

    # The course's mistake: one row per word, none for the special tokens that take ids 0 and 1.
    word_ids = torch.tensor([[WORDS.index(w) + 2 for w in ("i", "like", "fun")]])  # after [PAD]=0, [UNK]=1
    too_small, right = nn.Embedding(len(WORDS), 8), nn.Embedding(len(WORDS) + 2, 8)
    with tempfile.TemporaryDirectory() as tmp:
        vocab = Path(tmp) / "vocab.txt"
        vocab.write_text("\n".join(SPECIALS + WORDS) + "\n", encoding="utf-8")
        tokenizer = BertTokenizer(vocab_file=str(vocab))
    before = len(tokenizer)
    tokenizer.add_tokens(["clearformer"])
    ids = tokenizer("i like clearformer", return_tensors="pt")["input_ids"]
    torch.manual_seed(0)
    model = BertModel(
        BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
        )
    ).eval()
    clearformer_error = _error(lambda: model(ids))
    model.resize_token_embeddings(len(tokenizer))
    out = model(ids).last_hidden_state
    return {
        "course_case": {
            "words": len(WORDS),
            "special_tokens_needing_rows": ["[PAD]", "[UNK]"],
            "nn.Embedding(8, 8) on ids": word_ids.tolist()[0],
            "torch_error": _error(lambda: too_small(word_ids)),
            "nn.Embedding(10, 8) output shape": list(right(word_ids).shape),
        },
        "tokenizer": {
            "vocab_size (base vocabulary)": tokenizer.vocab_size,
            "len(tokenizer) before add_tokens": before,
            "len(tokenizer) after add_tokens(['clearformer'])": len(tokenizer),
            "ids of 'i like clearformer'": ids.tolist()[0],
        },
        "model_built_with_vocab_size": tokenizer.vocab_size,
        "clearformer_error": clearformer_error,
        "after_resize_token_embeddings": {
            "embedding_rows": model.get_input_embeddings().num_embeddings,
            "config.vocab_size": model.config.vocab_size,
            "output_shape": list(out.shape),
        },
        "takeaway": (
            "size embeddings with len(tokenizer), which counts special and added tokens, not with the number "
            "of words or tokenizer.vocab_size; after add_tokens call model.resize_token_embeddings(len(tokenizer)). "
            "clearformer checks ids before the lookup and says which id and which size clashed"
        ),
    }
