"""Multi-process training on torch.distributed, as started by ``torchrun --nproc_per_node N``.

torchrun sets RANK / WORLD_SIZE / LOCAL_RANK; the process group uses gloo on CPU and nccl on GPU.
Only what the Trainer needs: setup, rank queries, a barrier, sums and gathering python objects.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_main_process() -> bool:
    return rank() == 0


def init_distributed(device: torch.device) -> bool:
    """Join the process group torchrun describes in the environment; False when single-process."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    if not dist.is_available():
        raise RuntimeError("WORLD_SIZE > 1 but this torch build has no torch.distributed support")
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend)
    return True


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()


def sum_scalar(value: float | int, device: torch.device) -> float:
    """Sum of ``value`` over all processes (float64, so counts and losses stay exact)."""
    if world_size() == 1:
        return value
    t = torch.tensor(float(value), dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.item()


def gather_objects(obj: Any) -> list[Any]:
    """Every process's ``obj``, in rank order (works for gloo and nccl)."""
    if world_size() == 1:
        return [obj]
    out: list[Any] = [None] * world_size()
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj: Any) -> Any:
    if world_size() == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]
