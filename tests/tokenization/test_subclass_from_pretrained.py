"""``from_pretrained`` on a user's subclass hands its constructor every file its
``vocab_files_names`` names that the folder has (issue 15), as transformers' Python tokenizers
always were: chapter 3.1's ``BertTokenizer`` requires ``vocab_file`` even when the folder also
has a tokenizer.json (the real MiniLM folder has both)."""

from __future__ import annotations

import shutil

from clearformer import BertTokenizer
from clearformer.tokenization.custom import SubclassPipeline

from .conftest import minilm_folder
from .test_handwritten_tokenizer import TEXTS, HandWrittenBert


class CourseBertTokenizer(BertTokenizer):
    """Chapter 3.1's shape: ``vocab_file`` is a required positional argument."""

    def __init__(self, vocab_file, do_lower_case=True, **kwargs):
        self.vocab_file_given = vocab_file
        super().__init__(vocab_file=vocab_file, do_lower_case=do_lower_case, **kwargs)


class NotebookTokenizer(HandWrittenBert):
    """A hand-written ``PreTrainedTokenizer`` (own ``_tokenize``) that names its vocabulary file."""

    vocab_files_names = {"vocab_file": "vocab.txt"}


class TwoFileTokenizer(BertTokenizer):
    vocab_files_names = {"vocab_file": "vocab.txt", "notes_file": "notes.txt"}

    def __init__(self, vocab_file, notes_file=None, **kwargs):
        self.files_given = (vocab_file, notes_file)
        super().__init__(vocab_file=vocab_file, **kwargs)


def test_subclass_requiring_vocab_file_loads_from_a_folder_with_tokenizer_json():
    folder = minilm_folder()
    assert (folder / "tokenizer.json").is_file() and (folder / "vocab.txt").is_file()
    mine, library = CourseBertTokenizer.from_pretrained(folder), BertTokenizer.from_pretrained(folder)
    assert mine.vocab_file_given == str(folder / "vocab.txt")
    for text in TEXTS:
        assert mine(text)["input_ids"] == library(text)["input_ids"], text


def test_handwritten_subclass_gets_its_vocab_file_and_keeps_its_own_tokenize():
    folder = minilm_folder()
    tok = NotebookTokenizer.from_pretrained(folder)
    # its own _tokenize runs, not the tokenizer.json pipeline beside the vocab file
    assert isinstance(tok.pipeline, SubclassPipeline)
    library = BertTokenizer.from_pretrained(folder)
    for text in TEXTS:
        assert tok(text)["input_ids"] == library(text)["input_ids"], text


def test_only_the_vocabulary_files_present_are_passed(tmp_path):
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm_folder() / name, tmp_path / name)
    assert TwoFileTokenizer.from_pretrained(tmp_path).files_given == (str(tmp_path / "vocab.txt"), None)
    (tmp_path / "notes.txt").write_text("x\n")
    assert TwoFileTokenizer.from_pretrained(tmp_path).files_given[1] == str(tmp_path / "notes.txt")


def test_handwritten_subclass_decodes_with_4x_space_clean_up_unless_told_otherwise(tmp_path):
    # chapter 3.1's tokenizer was written for transformers 4.x, whose decode cleaned " !" up by
    # default; its own convert_tokens_to_string joins with spaces
    folder = minilm_folder()
    tok = NotebookTokenizer.from_pretrained(folder)
    ids = tok("I like natural language progressing!")["input_ids"]
    assert tok.decode(ids, skip_special_tokens=True) == "i like natural language progressing!"
    assert tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False).endswith("progressing !")
    for name in ("vocab.txt", "tokenizer_config.json"):
        shutil.copy(folder / name, tmp_path / name)
    (tmp_path / "tokenizer_config.json").write_text('{"clean_up_tokenization_spaces": false}')
    told = NotebookTokenizer.from_pretrained(tmp_path)
    assert told.decode(ids, skip_special_tokens=True).endswith("progressing !")
    # clearformer's own tokenizers keep transformers 5.24's default (no clean-up step)
    assert BertTokenizer.from_pretrained(folder).clean_up_tokenization_spaces is False
