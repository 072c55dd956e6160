"""HB-28 Q15: the same word in different sentences: one static embedding, different contextual vectors.

"bank" has one row in the word-embedding table, so its input vector is identical everywhere; after
the encoder's self-attention each occurrence carries its sentence. Measured with the real MiniLM:
two money-bank sentences end up closer to each other than to a river-bank sentence.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .resources import load_model

SENTENCES = {
    "money_1": "I deposited my salary at the bank this morning.",
    "money_2": "The bank approved the loan for our new house.",
    "river": "We had a picnic on the grassy bank of the river.",
}


@torch.no_grad()
def run(model=None, word: str = "bank") -> dict:
    bert, tokenizer = load_model(model)
    word_id = tokenizer.convert_tokens_to_ids(word)
    static, contextual = {}, {}
    for name, text in SENTENCES.items():
        batch = tokenizer(text, return_tensors="pt")
        ids = batch["input_ids"][0].tolist()
        if word_id not in ids:
            raise ValueError(f"{word!r} is not a single token of {text!r} for this vocabulary")
        position = ids.index(word_id)
        static[name] = bert.get_input_embeddings().weight[word_id]
        contextual[name] = bert(**batch).last_hidden_state[0, position]

    def cos(table, a, b):
        return float(F.cosine_similarity(table[a], table[b], dim=0))

    pairs = [("money_1", "money_2"), ("money_1", "river"), ("money_2", "river")]
    return {
        "word": word,
        "token_id": word_id,
        "sentences": SENTENCES,
        "static_cosine": {f"{a} vs {b}": cos(static, a, b) for a, b in pairs},
        "contextual_cosine": {f"{a} vs {b}": cos(contextual, a, b) for a, b in pairs},
        "takeaway": (
            f"the embedding-table row for {word!r} is the same vector in every sentence (cosine 1); the "
            "encoder's output for it depends on the words around it: the two money senses stay closer to "
            "each other than to the river sense. That output is the contextual embedding"
        ),
    }
