"""Inference speed as module swaps on a built model (the model classes stay the reference)."""

from .int8_linear import Int8WeightOnlyLinear
from .optimize import is_optimized, optimize_for_inference, restore_for_training
from .packed_linear import PackedLinear
from .w8a8_linear import Int8DynamicLinear

__all__ = [
    "Int8DynamicLinear",
    "Int8WeightOnlyLinear",
    "PackedLinear",
    "is_optimized",
    "optimize_for_inference",
    "restore_for_training",
]
