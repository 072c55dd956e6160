"""The decoding step built ahead of time by AOTInductor: ``compile_decoding(..., backend="aoti")``.

The step is exported (``torch.export``), built into a package in a temporary folder and loaded
with the model's own tensors as its constants (``user_managed``): no second copy of the weights,
and they stay where ``optimize_for_inference`` put them (huge pages). Against the Dynamo step it
drops the per-call guard check and Python wrapper: on GPT-2-small W8A8 at batch 1, 12.0 vs 13.2 ms
a step (BENCHMARKS.md, "Ninth session").
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn


class _Step(nn.Module):
    """The model as a child (so export lifts its weights) and the step function as forward."""

    def __init__(self, model: nn.Module, decode: Callable) -> None:
        super().__init__()
        self.model, self._decode = model, decode

    def forward(self, ids, slot, position_base, key_mask, *cache):
        layers = len(cache) // 2
        return self._decode(self.model, ids, slot, position_base, key_mask, list(cache[:layers]), list(cache[layers:]))


def build_aoti_step(model: nn.Module, decode: Callable, example: tuple, options: dict[str, Any], owner: object):
    """A callable ``(ids, slot, position_base, key_mask, keys, values) -> logits`` running ``decode``
    as one AOTInductor kernel; its folder is removed when ``owner`` is garbage collected."""
    step = _Step(model, decode).eval()
    ids, slot, position_base, key_mask, keys, values = example
    with torch.inference_mode(False), torch.no_grad():
        # export cannot trace inference tensors (generate's buffers are): same values, normal tensors
        args = tuple(t.clone() for t in (ids, slot, position_base, key_mask, *keys, *values))
        program = torch.export.export(step, args, strict=False)
    folder = Path(tempfile.mkdtemp(prefix="clearformer-aoti-"))
    weakref.finalize(owner, shutil.rmtree, folder, True)
    configs = {k: v for k, v in options.items() if k != "cpp_wrapper"}  # AOTInductor's output is C++ anyway
    package = str(folder / "step.pt2")
    path = torch._inductor.aoti_compile_and_package(program, package_path=package, inductor_configs=configs)
    runner = torch._inductor.aoti_load_package(path)
    # Every name of a tied tensor: export may call GPT-2's shared embedding "lm_head.weight", which
    # the de-duplicated listing leaves out, and a name left out keeps a stale copy in the package.
    own = dict(step.named_parameters(remove_duplicate=False)) | dict(step.named_buffers(remove_duplicate=False))
    # Constants that freezing derived (folded, packed) stay in the package; the rest are the model's.
    mine = {name: own[name] for name in runner.get_constant_fqns() if name in own}
    runner.load_constants(mine, check_full_update=False, user_managed=True)

    def run(ids, slot, position_base, key_mask, keys, values):
        out = runner(ids, slot, position_base, key_mask, *keys, *values)
        return out[0] if isinstance(out, (list, tuple)) else out

    return run
