"""Tokenizer files are written atomically (``clearformer.atomic_files``): a kill mid-save never
leaves a torn ``merges.txt`` that would load as another tokenizer."""

from __future__ import annotations

from ..atomic_files import copy_file_atomic, write_text_atomic

__all__ = ["copy_file_atomic", "write_text_atomic"]
