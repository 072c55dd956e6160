"""Build a model whose weights a checkpoint is about to replace, without paying for random init.

Inside ``parameters_on_meta()`` parameters land on the meta device (no memory, no random numbers)
while buffers are computed on the CPU as in a normal build: ``with torch.device("meta")`` would put
buffers on meta too, and non-persistent ones (position_ids, sinusoidal tables) come from constructor
code nothing generic can re-run. It is a ContextVar-gated registration hook plus a TorchFunctionMode,
both per thread: ``torch.nn.init`` is never replaced and other threads build models as usual.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator
from itertools import chain

import torch
from torch import nn
from torch.nn.modules.module import register_module_parameter_registration_hook
from torch.overrides import TorchFunctionMode

_ON_META: contextvars.ContextVar[bool] = contextvars.ContextVar("clearformer_parameters_on_meta", default=False)


def _parameter_to_meta(module: nn.Module, name: str, param: nn.Parameter | None) -> nn.Parameter | None:
    # None keeps the parameter as registered. A parameter already on meta is kept as the same object,
    # so that tie_weights (which re-registers one module's parameter on another) keeps it shared.
    if not _ON_META.get() or param is None or param.is_meta:
        return None
    return nn.Parameter(torch.empty_like(param, device="meta"), requires_grad=param.requires_grad)


# Registered once, for the process; it does nothing unless parameters_on_meta() is active here.
register_module_parameter_registration_hook(_parameter_to_meta)


# In-place fills that only write data (Tensor methods, then torch.nn.init's). On a meta tensor there
# is no data, yet torch runs some of them through slow Python reference code (normal_ ~3 ms, copy_
# from CPU ~15 ms, and the first call imports torch._dynamo, ~5 s): inside the build they return at
# once when the target is meta. Shapes never change in place here, so nothing is lost.
_DATA_FILLS = frozenset(
    ("normal_", "uniform_", "fill_", "zero_", "copy_", "erfinv_", "clamp_", "mul_", "add_", "sub_", "div_")
    + ("random_", "bernoulli_", "exponential_", "log_normal_", "cauchy_", "geometric_", "fill_diagonal_")
    + ("trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_")
    + ("kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_")
)


class _SkipFillsOnMeta(TorchFunctionMode):
    """Thread-local (torch keeps the mode stack per thread): tensors on CPU or GPU are untouched."""

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") in _DATA_FILLS:  # Tensor.normal_(t, ...) or nn.init.normal_(tensor=t)
            target = args[0] if args else kwargs.get("tensor")
            if isinstance(target, torch.Tensor) and target.is_meta:
                return target
        return func(*args, **kwargs)


@contextlib.contextmanager
def parameters_on_meta() -> Iterator[None]:
    """Inside (this thread / task only): registered parameters land on the meta device."""
    token = _ON_META.set(True)
    try:
        with _SkipFillsOnMeta():
            yield
    finally:
        _ON_META.reset(token)


def init_missing(model: nn.Module, loaded: Iterable[str], tied: Iterable[str] = ()) -> list[str]:
    """Initialise every parameter that is neither ``loaded`` nor ``tied``; return their names.

    The owner of a missing parameter is re-initialised together with its parent, because some
    rules live one level up (GPT-2 scales ``c_proj`` in its block, T5 scales q/k/v/o in its
    attention, DistilBERT writes its sinusoidal table from the embeddings module). Those modules'
    meta parameters get CPU memory first; the ones the checkpoint does have are then replaced by
    the load that follows. Same modules, same order as always: a seed gives the same new head.
    """
    loaded, tied = set(loaded), set(tied)
    missing = [name for name, _ in model.named_parameters(remove_duplicate=False) if name not in loaded | tied]
    modules = dict(model.named_modules())
    targets: dict[str, nn.Module] = {}
    for name in missing:
        owner = name.rpartition(".")[0]
        targets[owner] = modules[owner]
        parent = owner.rpartition(".")[0]
        if owner and parent:  # never the whole model: its apply() would redo every layer
            targets[parent] = modules[parent]
    # A parameter held by the model itself: only the model's own tensors, not every layer's.
    holders = [m for name, m in targets.items() for m in ((m,) if name == "" else m.modules())]
    _materialise(model, holders)
    init_weights = getattr(model, "_init_weights", None)
    with torch.no_grad():
        for name, module in targets.items():
            if name == "":  # only the model's own rule applies
                if init_weights is not None:
                    init_weights(model)
                continue
            module.apply(_reset)
            if init_weights is not None:
                module.apply(init_weights)
    return missing


def _materialise(model: nn.Module, holders: Iterable[nn.Module]) -> None:
    """Give the meta parameters of ``holders`` (uninitialised) CPU memory, everywhere they are shared."""
    fresh: dict[int, nn.Parameter] = {}
    for module in holders:
        for param in module._parameters.values():
            if param is not None and param.is_meta and id(param) not in fresh:
                fresh[id(param)] = nn.Parameter(torch.empty_like(param, device="cpu"), param.requires_grad)
    if not fresh:
        return
    for module in model.modules():  # a tied parameter is replaced in every module holding it
        for key, param in module._parameters.items():
            if param is not None and id(param) in fresh:
                module._parameters[key] = fresh[id(param)]


def raise_if_meta(model: nn.Module) -> None:
    """Bug guard: after loading, no parameter or buffer may still be a meta tensor (it has no data)."""
    named = chain(model.named_parameters(remove_duplicate=False), model.named_buffers(remove_duplicate=False))
    left = [name for name, tensor in named if tensor.is_meta]
    if left:
        shown = ", ".join(left[:8]) + (f" and {len(left) - 8} more" if len(left) > 8 else "")
        raise RuntimeError(
            f"{type(model).__name__}: {len(left)} tensor(s) still on the meta device after loading, with no "
            f"data: {shown}. Neither the checkpoint nor initialisation provided them; this is a bug in "
            "clearformer's loader (lazy_init.py / from_pretrained), please report it. Meanwhile, build the "
            "model with cls(config) and call load_state_dict."
        )


def _reset(module: nn.Module) -> None:
    reset = getattr(module, "reset_parameters", None)
    if callable(reset):
        reset()
