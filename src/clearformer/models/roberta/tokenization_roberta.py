"""RoBERTa's tokenizer: GPT-2's byte-level BPE with ``<s> A </s></s> B </s>`` templates.

All token types are 0, and offsets are trimmed of the spaces byte-level tokens carry
(``trim_offsets``), as the reference (transformers 5.24, Rust-backed) does.
"""

from __future__ import annotations

from ...tokenization.base import PreTrainedTokenizerFast
from ...tokenization.bpe import BPE, load_merges_txt, load_vocab_json
from ...tokenization.decoders import ByteLevelDecoder
from ...tokenization.pipeline import Pipeline
from ...tokenization.pre_tokenizers import ByteLevelPreTokenizer
from ...tokenization.processors import RobertaProcessing


def build_roberta_pipeline(
    vocab, merges, cls_token="<s>", sep_token="</s>", add_prefix_space=False, trim_offsets=True
) -> Pipeline:
    for token in (cls_token, sep_token):
        if token not in vocab:
            raise ValueError(f"RoBERTa special token {token!r} is not in vocab.json")
    processor = RobertaProcessing(
        (cls_token, vocab[cls_token]), (sep_token, vocab[sep_token]), trim_offsets, add_prefix_space
    )
    return Pipeline(
        BPE(vocab, merges),
        None,
        ByteLevelPreTokenizer(add_prefix_space),
        processor,
        ByteLevelDecoder(),
    )


class RobertaTokenizer(PreTrainedTokenizerFast):
    vocab_files_names = {"vocab_file": "vocab.json", "merges_file": "merges.txt"}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | None = None,
        merges_file: str | None = None,
        errors: str = "replace",
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        add_prefix_space: bool = False,
        trim_offsets: bool = True,
        _pipeline: Pipeline | None = None,
        **kwargs,
    ) -> None:
        if _pipeline is None:
            if vocab_file is None or merges_file is None:
                raise ValueError(f"{type(self).__name__} needs vocab_file and merges_file")
            vocab, merges = load_vocab_json(vocab_file), load_merges_txt(merges_file)
            _pipeline = build_roberta_pipeline(
                vocab, merges, str(cls_token), str(sep_token), add_prefix_space, trim_offsets
            )
        self.add_prefix_space = add_prefix_space
        self.trim_offsets = trim_offsets
        self.errors = errors
        super().__init__(
            _pipeline,
            bos_token=bos_token,
            eos_token=eos_token,
            sep_token=sep_token,
            cls_token=cls_token,
            unk_token=unk_token,
            pad_token=pad_token,
            mask_token=mask_token,
            **kwargs,
        )

    def config_kwargs(self) -> dict:
        return {
            "add_prefix_space": self.add_prefix_space,
            "trim_offsets": self.trim_offsets,
            "errors": self.errors,
        }
