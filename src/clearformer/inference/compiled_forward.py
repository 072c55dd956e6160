"""``compile_for_inference``: a whole model's forward through ``torch.compile``, opt-in.

Returns a compiled callable and leaves the model as it is (eager, the reference). For decoding,
``compile_decoding`` (compiled_decoding.py) compiles the one-token step over a fixed-size cache.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def compile_for_inference(model: nn.Module, freeze: bool = True, dynamic: bool | None = None, **options: Any):
    """``torch.compile(model)`` for inference; returns the compiled callable, the model is unchanged.

    ``freeze=True`` lets inductor treat the weights as constants and pre-pack them for the CPU's
    matmul kernels, which is where most of its gain at small batches comes from (measured in
    BENCHMARKS.md). The price: the first call per input shape compiles (tens of seconds on a
    CPU; ``dynamic=None`` lets shapes vary after the first recompile), and the result is stale
    if the weights change afterwards, so call it again after training or loading. Call the
    result under ``torch.no_grad()`` / ``torch.inference_mode()``; input ids are not range-checked
    inside a compiled graph (a graph cannot branch on values). ``options`` are inductor's, for
    this graph only.
    """
    model.eval()
    return torch.compile(model, dynamic=dynamic, options={"freezing": freeze, **options})
