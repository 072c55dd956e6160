"""Learning-rate schedules and the default optimizer, with transformers' names and curves.

Each schedule is a ``LambdaLR`` over a multiplier function of the step, so its ``state_dict`` is the
one transformers' checkpoints carry in ``scheduler.pt``. The AdamW parameter groups are (decayed,
not decayed) in ``named_parameters`` order, biases and LayerNorm weights not decayed, as there.
"""

from __future__ import annotations

import math
from functools import partial

import torch
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


def _constant(step: int) -> float:
    return 1.0


def _constant_warmup(step: int, *, warmup: int) -> float:
    return step / max(1, warmup) if step < warmup else 1.0


def _linear(step: int, *, warmup: int, total: int) -> float:
    if step < warmup:
        return step / max(1, warmup)
    return max(0.0, (total - step) / max(1, total - warmup))


def _cosine(step: int, *, warmup: int, total: int, num_cycles: float) -> float:
    if step < warmup:
        return step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * num_cycles * 2.0 * progress)))


def _cosine_restarts(step: int, *, warmup: int, total: int, num_cycles: int) -> float:
    if step < warmup:
        return step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    if progress >= 1.0:
        return 0.0
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((num_cycles * progress) % 1.0))))


def _polynomial(step: int, *, warmup: int, total: int, lr_init: float, lr_end: float, power: float) -> float:
    if step < warmup:
        return step / max(1, warmup)
    if step > total:
        return lr_end / lr_init
    remaining = 1 - (step - warmup) / (total - warmup)
    return ((lr_init - lr_end) * remaining**power + lr_end) / lr_init


def get_constant_schedule(optimizer: Optimizer, last_epoch: int = -1) -> LambdaLR:
    return LambdaLR(optimizer, _constant, last_epoch=last_epoch)


def get_constant_schedule_with_warmup(optimizer: Optimizer, num_warmup_steps: int, last_epoch: int = -1) -> LambdaLR:
    return LambdaLR(optimizer, partial(_constant_warmup, warmup=num_warmup_steps), last_epoch=last_epoch)


def get_linear_schedule_with_warmup(
    optimizer: Optimizer, num_warmup_steps: int, num_training_steps: int, last_epoch: int = -1
) -> LambdaLR:
    """0 -> lr over the warmup, then linearly to 0 at ``num_training_steps`` (the Trainer default)."""
    fn = partial(_linear, warmup=num_warmup_steps, total=num_training_steps)
    return LambdaLR(optimizer, fn, last_epoch=last_epoch)


def get_cosine_schedule_with_warmup(
    optimizer: Optimizer,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
) -> LambdaLR:
    fn = partial(_cosine, warmup=num_warmup_steps, total=num_training_steps, num_cycles=num_cycles)
    return LambdaLR(optimizer, fn, last_epoch=last_epoch)


def get_cosine_with_hard_restarts_schedule_with_warmup(
    optimizer: Optimizer,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: int = 1,
    last_epoch: int = -1,
) -> LambdaLR:
    fn = partial(_cosine_restarts, warmup=num_warmup_steps, total=num_training_steps, num_cycles=num_cycles)
    return LambdaLR(optimizer, fn, last_epoch=last_epoch)


def get_polynomial_decay_schedule_with_warmup(
    optimizer: Optimizer,
    num_warmup_steps: int,
    num_training_steps: int,
    lr_end: float = 1e-7,
    power: float = 1.0,
    last_epoch: int = -1,
) -> LambdaLR:
    lr_init = optimizer.defaults["lr"]
    if lr_end > lr_init:
        raise ValueError(f"lr_end ({lr_end}) must be smaller than the initial lr ({lr_init})")
    fn = partial(
        _polynomial, warmup=num_warmup_steps, total=num_training_steps, lr_init=lr_init, lr_end=lr_end, power=power
    )
    return LambdaLR(optimizer, fn, last_epoch=last_epoch)


TYPE_TO_SCHEDULER_FUNCTION = {
    "linear": get_linear_schedule_with_warmup,
    "cosine": get_cosine_schedule_with_warmup,
    "cosine_with_restarts": get_cosine_with_hard_restarts_schedule_with_warmup,
    "polynomial": get_polynomial_decay_schedule_with_warmup,
    "constant": get_constant_schedule,
    "constant_with_warmup": get_constant_schedule_with_warmup,
}


def get_scheduler(
    name: str,
    optimizer: Optimizer,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: dict | None = None,
) -> LambdaLR:
    """The schedule called ``name`` (one of ``TYPE_TO_SCHEDULER_FUNCTION``)."""
    name = getattr(name, "value", name)
    if name not in TYPE_TO_SCHEDULER_FUNCTION:
        raise ValueError(f"unknown scheduler {name!r}; choose one of {sorted(TYPE_TO_SCHEDULER_FUNCTION)}")
    fn = TYPE_TO_SCHEDULER_FUNCTION[name]
    if name == "constant":
        return fn(optimizer)
    if num_warmup_steps is None:
        raise ValueError(f"scheduler {name!r} needs num_warmup_steps")
    if name == "constant_with_warmup":
        return fn(optimizer, num_warmup_steps=num_warmup_steps)
    if num_training_steps is None:
        raise ValueError(f"scheduler {name!r} needs num_training_steps")
    return fn(
        optimizer,
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        **(scheduler_specific_kwargs or {}),
    )


NO_DECAY_MODULES = (nn.LayerNorm, nn.GroupNorm, nn.BatchNorm1d, nn.BatchNorm2d, nn.RMSNorm)


def decay_parameter_names(model: nn.Module) -> list[str]:
    """Names of parameters that get weight decay: not biases, not normalisation-layer weights."""
    norm_params = {
        f"{mod_name}.{p_name}" if mod_name else p_name
        for mod_name, module in model.named_modules()
        if isinstance(module, NO_DECAY_MODULES)
        for p_name, _ in module.named_parameters(recurse=False)
    }
    return [n for n, _ in model.named_parameters() if n not in norm_params and "bias" not in n]


def create_adamw(
    model: nn.Module,
    lr: float,
    weight_decay: float,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
) -> torch.optim.AdamW:
    decay = set(decay_parameter_names(model))
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for n, p in params if n in decay], "weight_decay": weight_decay},
        {"params": [p for n, p in params if n not in decay], "weight_decay": 0.0},
    ]
    # The fused kernel (one pass over all parameters) is what the reference uses by default
    # (adamw_torch_fused); it needs floating-point parameters on a CPU or CUDA device.
    fused = all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for _, p in params)
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps, fused=fused or None)
