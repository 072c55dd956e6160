"""BERT's WordPiece tokenizer: ``BertTokenizer`` (vocab.txt), matching transformers 5.24.

Pipeline: BertNormalizer (clean text, CJK spacing, lowercase + accent stripping) ->
BertPreTokenizer (whitespace and punctuation) -> WordPiece -> ``[CLS] A [SEP] B [SEP]`` with
token types 0/1 -> WordPiece decoder. The course's BasicTokenizer + WordpieceTokenizer pair is
the first three stages; ``tokenizer.explain(text)`` shows each one.
"""

from __future__ import annotations

from ...tokenization.base import PreTrainedTokenizerFast
from ...tokenization.decoders import WordPieceDecoder
from ...tokenization.normalizers import BertNormalizer
from ...tokenization.pipeline import Pipeline
from ...tokenization.pre_tokenizers import BertPreTokenizer, WhitespaceSplit
from ...tokenization.processors import bert_processing
from ...tokenization.wordpiece import WordPiece, load_vocab_txt


def build_bert_pipeline(
    vocab: dict[str, int],
    do_lower_case: bool = True,
    do_basic_tokenize: bool = True,
    never_split=None,
    tokenize_chinese_chars: bool = True,
    strip_accents: bool | None = None,
    unk_token: str = "[UNK]",
    sep_token: str = "[SEP]",
    cls_token: str = "[CLS]",
    max_input_chars_per_word: int = 100,
) -> Pipeline:
    model = WordPiece(vocab, str(unk_token), "##", max_input_chars_per_word)
    if do_basic_tokenize:
        normalizer = BertNormalizer(True, tokenize_chinese_chars, strip_accents, do_lower_case)
        pre_tokenizer = BertPreTokenizer()
    else:
        normalizer, pre_tokenizer = None, WhitespaceSplit()
    processor = bert_processing((str(cls_token), vocab[str(cls_token)]), (str(sep_token), vocab[str(sep_token)]))
    pipeline = Pipeline(model, normalizer, pre_tokenizer, processor, WordPieceDecoder("##", True))
    pipeline.set_never_split(never_split or ())
    return pipeline


class BertTokenizer(PreTrainedTokenizerFast):
    vocab_files_names = {"vocab_file": "vocab.txt"}
    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]

    def __init__(
        self,
        vocab_file: str | None = None,
        do_lower_case: bool = True,
        do_basic_tokenize: bool = True,
        never_split=None,
        unk_token="[UNK]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        mask_token="[MASK]",
        tokenize_chinese_chars: bool = True,
        strip_accents: bool | None = None,
        _pipeline: Pipeline | None = None,
        **kwargs,
    ) -> None:
        if _pipeline is None:
            if vocab_file is None:
                raise ValueError(f"{type(self).__name__} needs vocab_file (a vocab.txt path)")
            _pipeline = build_bert_pipeline(
                load_vocab_txt(vocab_file),
                do_lower_case,
                do_basic_tokenize,
                never_split,
                tokenize_chinese_chars,
                strip_accents,
                unk_token,
                sep_token,
                cls_token,
            )
        self.do_lower_case = do_lower_case
        self.never_split = set(never_split or ())
        self.tokenize_chinese_chars = tokenize_chinese_chars
        self.strip_accents = strip_accents
        self.do_basic_tokenize = do_basic_tokenize
        super().__init__(
            _pipeline,
            unk_token=unk_token,
            sep_token=sep_token,
            pad_token=pad_token,
            cls_token=cls_token,
            mask_token=mask_token,
            **kwargs,
        )

    def config_kwargs(self) -> dict:
        return {
            "do_lower_case": self.do_lower_case,
            "do_basic_tokenize": self.do_basic_tokenize,
            "never_split": sorted(self.never_split) or None,
            "tokenize_chinese_chars": self.tokenize_chinese_chars,
            "strip_accents": self.strip_accents,
        }
