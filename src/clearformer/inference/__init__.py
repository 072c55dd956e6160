"""Inference speed as module swaps on a built model (the model classes stay the reference)."""

from .compiled_decoding import compile_decoding, remove_compiled_decoding
from .compiled_forward import compile_for_inference
from .int8_linear import Int8WeightOnlyLinear
from .optimize import is_optimized, optimize_for_inference, restore_for_training
from .packed_linear import PackedLinear
from .w8a8_linear import Int8DynamicLinear

__all__ = [
    "Int8DynamicLinear",
    "Int8WeightOnlyLinear",
    "PackedLinear",
    "compile_decoding",
    "compile_for_inference",
    "is_optimized",
    "optimize_for_inference",
    "remove_compiled_decoding",
    "restore_for_training",
]
