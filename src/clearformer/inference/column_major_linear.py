"""``ColumnMajorLinear``: a decoder's output projection with its weight stored (in, out).

Same parameter, same values, same shape (out, in); only the memory order changes, to columns
first. ``F.linear`` then hands MKL a contiguous (in, out) matrix, and for the few rows of a
decoding step its product streams that layout faster than the (out, in) one. GPT-2's LM head,
50257 x 768 fp32 on huge pages, 1 thread, column-major vs row-major
(``benchmarks/ab_column_major_head.py``; BENCHMARKS.md "Tenth session"): 1 row 11.6 vs 14.3 ms,
4 rows 20.6 vs 28.5, 8 rows 27.1 vs 43.3; but 2-3 rows 18-21 vs 14-16 ms, where MKL picks a kernel
that suits the row-major layout. A decoder's generate projects one position per row (its prompt
included, through ``logits_to_keep``), so the swap is made for decoders only: an encoder's head
projects every position, many rows at once.

The parameter object stays the same (``.data`` is replaced), so GPT-2's tie to its input embedding
holds: the embedding gathers its rows from the column-major storage, ~768 strided reads a token.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..generation.utils import projects_last_positions
from .huge_pages import HugePageArena
from .packed_linear import REFUSE_TRAINING, replaced_layer


class ColumnMajorLinear(nn.Module):
    """Stands in for an ``nn.Linear`` whose weight it re-lays column-major (in ``arena`` if given)."""

    def __init__(self, source: nn.Linear, arena: HugePageArena | None = None) -> None:
        super().__init__()
        if type(source) is not nn.Linear:
            raise TypeError(f"ColumnMajorLinear replaces an nn.Linear, got {type(source).__name__}")
        self.weight, self.bias = source.weight, source.bias
        self.in_features, self.out_features = source.in_features, source.out_features
        object.__setattr__(self, "_replaced", source)  # outside the module tree: swapped back to
        columns = self.weight.detach().t().contiguous()  # (in, out), contiguous
        if arena is not None:
            columns = arena.copy(columns)
        self.on_huge_pages = arena is not None
        self.weight.data = columns.t()  # (out, in) again as a view: shape and values unchanged
        self.eval()  # a training-mode forward (after model.train()) raises

    def plain(self) -> nn.Linear:
        """The layer this one replaced, on the same parameters, its weight row-major again."""
        self.weight.data = self.weight.detach().contiguous()
        return replaced_layer(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            raise RuntimeError(f"this {type(self).__name__} {REFUSE_TRAINING}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        where = ", on huge pages" if self.on_huge_pages else ""
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}, "
            f"{self.weight.dtype} weight stored (in, out){where}"
        )


def column_major_output_wanted(model: nn.Module) -> bool:
    """A decoder (generate projects one position a row through its head: ``projects_last_positions``)
    with a plain, still row-major fp32 ``nn.Linear`` output projection on CPU."""
    get = getattr(model, "get_output_embeddings", None)
    head = get() if callable(get) else None
    return (
        type(head) is nn.Linear
        and head.weight.device.type == "cpu"
        and head.weight.dtype == torch.float32
        and head.weight.is_contiguous()
        and projects_last_positions(model)
    )
