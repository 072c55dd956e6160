"""Trainer checkpoints: one folder per step, written atomically, with everything exact resume needs.

``checkpoint-<step>/`` holds the model (``save_pretrained``), tokenizer files, ``optimizer.pt``,
``scheduler.pt``, ``rng_state.pth`` (python, numpy, cpu, cuda; ``rng_state_<rank>.pth`` under DDP),
``trainer_state.json`` and ``data_state.json`` (epoch and batches already consumed). The folder is
built under a temporary name, fsynced, then renamed in steps that keep a complete copy of every
saved step at any instant, so a kill during a save never loses a checkpoint.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..weight_files import CheckpointError, atomic_torch_save, atomic_write_text

PREFIX_CHECKPOINT_DIR = "checkpoint"
_CHECKPOINT_RE = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")
TRAINER_STATE_NAME = "trainer_state.json"
DATA_STATE_NAME = "data_state.json"
OPTIMIZER_NAME = "optimizer.pt"
SCHEDULER_NAME = "scheduler.pt"
SCALER_NAME = "scaler.pt"
TRAINING_ARGS_NAME = "training_args.json"


def set_seed(seed: int, deterministic: bool = False) -> None:
    """Seed python, numpy and torch (every device) so a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True)


def rng_state() -> dict[str, Any]:
    """Every generator's state as tensors and plain containers, so it loads with ``weights_only=True``.

    The keys and layout are transformers' (python's tuple, numpy's 5-tuple, torch's uint8 tensor);
    only numpy's key array becomes a list, which ``np.random.set_state`` accepts as well.
    """
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    numpy_state = (str(kind), keys.tolist(), int(pos), int(has_gauss), float(cached))
    state = {"python": random.getstate(), "numpy": numpy_state, "cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def rng_file_name(world_size: int, rank: int) -> str:
    return "rng_state.pth" if world_size <= 1 else f"rng_state_{rank}.pth"


def sorted_checkpoints(output_dir: str | os.PathLike) -> list[Path]:
    """Complete checkpoint folders, oldest step first (temporary folders are not listed)."""
    folder = Path(output_dir)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _CHECKPOINT_RE.match(p.name)) and p.is_dir()]
    return [p for _, p in sorted(found)]


def get_last_checkpoint(output_dir: str | os.PathLike) -> str | None:
    done = [p for p in sorted_checkpoints(output_dir) if (p / TRAINER_STATE_NAME).is_file()]
    return str(done[-1]) if done else None


def _fsync_dir(path: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_checkpoint(output_dir: str | os.PathLike, step: int, write_contents) -> Path:
    """Call ``write_contents(tmp_folder)`` then move the folder to ``checkpoint-<step>``, crash-safe.

    The commit is three renames, each followed by a directory fsync, and a complete copy of the
    step exists at every instant: ``.tmp-`` (being written) -> ``.ready-`` (complete: the rename is
    the marker) -> existing ``checkpoint-<step>`` aside to ``.old-`` -> ``.ready-`` becomes
    ``checkpoint-<step>``. POSIX ``rename`` replaces only an empty directory and Windows none, hence
    the move aside. ``recover_interrupted_saves`` finishes or undoes any of these after a kill.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    recover_interrupted_saves(out, step)
    final = out / f"{PREFIX_CHECKPOINT_DIR}-{step}"
    tmp, ready, old = (out / f".{kind}-{final.name}-{os.getpid()}" for kind in ("tmp", "ready", "old"))
    tmp.mkdir()
    try:
        write_contents(tmp)
        _fsync_dir(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _rename(tmp, ready, out)
    if final.exists():
        _rename(final, old, out)
    _rename(ready, final, out)
    shutil.rmtree(old, ignore_errors=True)
    return final


def _rename(src: Path, dst: Path, parent: Path) -> None:
    os.replace(src, dst)
    _fsync_dir(parent)  # the rename itself must be on disk before the next step relies on it


_INTERRUPTED_RE = re.compile(rf"^\.(tmp|ready|old)-({PREFIX_CHECKPOINT_DIR}-\d+)-\d+$")


def recover_interrupted_saves(output_dir: str | os.PathLike, step: int | None = None) -> list[Path]:
    """Finish or undo saves a kill interrupted; returns the half-written folders it deleted.

    ``.tmp-`` folders are incomplete and deleted. ``.ready-`` (complete, newest) and ``.old-``
    (the previous complete copy) are kept as ``checkpoint-<step>`` when that folder is missing,
    ``.ready-`` first; otherwise they are redundant and removed. Never deletes the last complete copy.
    """
    folder = Path(output_dir)
    if not folder.is_dir():
        return []
    found: dict[str, dict[str, list[Path]]] = {}
    for p in folder.iterdir():
        m = _INTERRUPTED_RE.match(p.name)
        if m and p.is_dir() and (step is None or m.group(2) == f"{PREFIX_CHECKPOINT_DIR}-{step}"):
            found.setdefault(m.group(2), {"tmp": [], "ready": [], "old": []})[m.group(1)].append(p)
    deleted = []
    for name, kinds in found.items():
        final = folder / name
        complete = sorted(kinds["ready"], key=_mtime, reverse=True) + sorted(kinds["old"], key=_mtime, reverse=True)
        if not final.exists() and complete:
            _rename(complete.pop(0), final, folder)
        for p in kinds["tmp"] + complete:
            shutil.rmtree(p, ignore_errors=True)
        deleted += kinds["tmp"]
    return deleted


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


def save_training_state(
    folder: Path, optimizer, scheduler, scaler, save_rng: bool = True, world_size: int = 1, rank: int = 0
) -> None:
    atomic_torch_save(optimizer.state_dict(), folder / OPTIMIZER_NAME)
    atomic_torch_save(scheduler.state_dict(), folder / SCHEDULER_NAME)
    if scaler is not None:
        atomic_torch_save(scaler.state_dict(), folder / SCALER_NAME)
    if save_rng:
        atomic_torch_save(rng_state(), folder / rng_file_name(world_size, rank))


def save_data_state(folder: Path, epoch: int, batches_in_epoch: int, seed: int) -> None:
    text = json.dumps({"epoch": epoch, "batches_in_epoch": batches_in_epoch, "data_seed": seed}, indent=2)
    atomic_write_text(folder / DATA_STATE_NAME, text + "\n")


def load_data_state(folder: Path) -> dict[str, int] | None:
    path = folder / DATA_STATE_NAME
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def load_torch(path: Path) -> Any:
    """Read a resume file (optimizer, scheduler, scaler, RNG) without running code from it.

    ``weights_only=True`` builds only tensors and plain containers. numpy's array constructors are
    allowed too (they build arrays, never call anything else) because transformers writes numpy's
    RNG state as an array: its checkpoints resume here as well.
    """
    try:
        with torch.serialization.safe_globals(_numpy_array_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"refused to load {path}: it holds objects other than tensors and plain containers (a "
            "pickle that could run code); nothing in it was run. If you wrote this checkpoint with an "
            "older clearformer, resume from a newer checkpoint or delete the file to restart from the "
            f"weights; if you did not write it, do not use this folder. Details: {str(err)[:300]}"
        ) from err
    except (RuntimeError, EOFError, OSError) as err:
        raise CheckpointError(f"cannot read {path}: truncated or corrupt file ({err})") from err


def _numpy_array_globals() -> list:
    core = getattr(np, "_core", None) or np.core  # numpy 2 renamed np.core to np._core
    return [core.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.uint32))]


def rotate_checkpoints(output_dir: str | os.PathLike, limit: int | None, best: str | None) -> list[Path]:
    """Delete the oldest checkpoints beyond ``limit``, never the best one; returns what was deleted."""
    if not limit or limit <= 0:
        return []
    folders = sorted_checkpoints(output_dir)
    best_path = Path(best).resolve() if best else None
    # With limit 1 and a best model that is not the newest, keep both (the reference does the same).
    if best_path is not None and limit == 1 and folders and folders[-1].resolve() != best_path:
        limit = 2
    keep_newest = set(folders[-limit:])
    if best_path is not None:
        kept_best = [p for p in folders if p.resolve() == best_path]
        if kept_best and kept_best[0] not in keep_newest:
            keep_newest = set(folders[-(limit - 1) :]) if limit > 1 else set()
            keep_newest.add(kept_best[0])
    deleted = [p for p in folders if p not in keep_newest]
    for p in deleted:
        shutil.rmtree(p, ignore_errors=True)
    return deleted
