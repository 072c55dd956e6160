"""GPT-2's byte-level BPE tokenizer (vocab.json + merges.txt), matching transformers 5.24.

Pipeline: no normalizer -> GPT-2 regex split (+ optional prefix space) -> byte-level BPE ->
no special tokens (a pair is just A B, B with type 1) -> byte-level decoder. Decoding is lossless:
``decode(encode(text)) == text`` for any string.
"""

from __future__ import annotations

from ...tokenization.base import PreTrainedTokenizerFast
from ...tokenization.bpe import BPE, load_merges_txt, load_vocab_json
from ...tokenization.decoders import ByteLevelDecoder
from ...tokenization.pipeline import Pipeline
from ...tokenization.pre_tokenizers import ByteLevelPreTokenizer
from ...tokenization.processors import plain_processing


def build_gpt2_pipeline(vocab, merges, add_prefix_space: bool = False) -> Pipeline:
    return Pipeline(
        BPE(vocab, merges),
        None,
        ByteLevelPreTokenizer(add_prefix_space),
        plain_processing(),
        ByteLevelDecoder(),
    )


class GPT2Tokenizer(PreTrainedTokenizerFast):
    vocab_files_names = {"vocab_file": "vocab.json", "merges_file": "merges.txt"}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | None = None,
        merges_file: str | None = None,
        errors: str = "replace",
        unk_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        pad_token=None,
        add_prefix_space: bool = False,
        _pipeline: Pipeline | None = None,
        **kwargs,
    ) -> None:
        if _pipeline is None:
            if vocab_file is None or merges_file is None:
                raise ValueError(f"{type(self).__name__} needs vocab_file and merges_file")
            vocab, merges = load_vocab_json(vocab_file), load_merges_txt(merges_file)
            _pipeline = build_gpt2_pipeline(vocab, merges, add_prefix_space)
        self.add_prefix_space = add_prefix_space
        self.errors = errors
        super().__init__(
            _pipeline,
            unk_token=unk_token,
            bos_token=bos_token,
            eos_token=eos_token,
            pad_token=pad_token,
            **kwargs,
        )

    def config_kwargs(self) -> dict:
        return {"add_prefix_space": self.add_prefix_space, "errors": self.errors}
