"""Writing weights: one file or shards with an index, switched atomically, removing only our own files.

A reader (ours or transformers 5.24) picks the first of ``ENTRY_POINTS`` present in the folder and
loads what it names. A save therefore (1) writes the new set completely under names no reader is
using, (2) switches with one atomic rename or unlink of an entry point, and only then (3) removes
the files of the previous save. Each index carries a save id, so a reader can tell that the index
it read is still the live one after loading its shards (see ``read.read_state_dict``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from pathlib import Path

import torch

from ..atomic_files import atomic_write
from ..atomic_files import write_text_atomic as atomic_write_text  # noqa: F401 (re-exported)

SAFE_WEIGHTS_NAME = "model.safetensors"
SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
WEIGHTS_NAME = "pytorch_model.bin"
WEIGHTS_INDEX_NAME = "pytorch_model.bin.index.json"
# Reader precedence, the order transformers 5.24 checks a local folder in.
ENTRY_POINTS = (SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME, WEIGHTS_NAME, WEIGHTS_INDEX_NAME)
SAVE_ID_KEY = "clearformer_save_id"

# Exactly the shard names a save writes: standard ones, and staged ones (".tmp-<id>") that live only
# while a save replaces a shard set of the same count. Nothing else is ever removed (a user's own
# model.bin or notes.bin stays).
_OUR_SHARD = re.compile(
    r"^(model-\d{5}-of-\d{5}(\.tmp-[0-9a-f]{8})?\.safetensors|pytorch_model-\d{5}-of-\d{5}(\.tmp-[0-9a-f]{8})?\.bin)$"
)


# --- atomic files (atomic_files.py is the one implementation for every file clearformer writes) ---
def atomic_save_safetensors(tensors: dict[str, torch.Tensor], path: Path, metadata: dict) -> None:
    from safetensors.torch import save_file

    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))


def atomic_torch_save(obj: object, path: Path) -> None:
    atomic_write(path, lambda tmp: torch.save(obj, tmp))


def parse_size(size: int | str) -> int:
    if isinstance(size, int):
        return size
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?\s*", size.upper().replace("IB", "iB"))
    if not m:
        raise ValueError(f"cannot read the size {size!r}; use e.g. '5GB', '500MB' or a byte count")
    units = {None: 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}
    return int(float(m.group(1)) * units[(m.group(2) or "B").upper()])


# --- one save ----------------------------------------------------------------------------------
def _split(state: dict[str, torch.Tensor], limit: int) -> list[dict[str, torch.Tensor]]:
    shards: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for key, tensor in state.items():
        nbytes = tensor.numel() * tensor.element_size()
        if shards[-1] and size + nbytes > limit:
            shards.append({})
            size = 0
        shards[-1][key] = tensor
        size += nbytes
    return shards


def write_state_dict(
    state: dict[str, torch.Tensor],
    folder: Path,
    safe_serialization: bool = True,
    max_shard_size: int | str = "5GB",
) -> list[Path]:
    """Write ``state`` as one file or as shards with an index, replacing the previous save atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in state.items()}
    shards = _split(state, parse_size(max_shard_size))
    single, index_name = (
        (SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME) if safe_serialization else (WEIGHTS_NAME, WEIGHTS_INDEX_NAME)
    )

    def write_one(tensors: dict[str, torch.Tensor], path: Path) -> None:
        if safe_serialization:
            atomic_save_safetensors(tensors, path, metadata={"format": "pt"})
        else:
            atomic_torch_save(tensors, path)

    if len(shards) == 1:
        write_one(shards[0], folder / single)  # replacing our own single file is itself the switch
        entry, new_files = single, {single}
    else:
        entry = index_name
        new_files = _write_shard_set(shards, folder, single, index_name, write_one, state)
    _switch_and_clean(folder, entry, new_files)
    return [folder / name for name in sorted(new_files)]


def _write_shard_set(shards, folder: Path, single: str, index_name: str, write_one, state) -> set[str]:
    stem, ext = single.rsplit(".", 1)
    n = len(shards)
    names = [f"{stem}-{i + 1:05d}-of-{n:05d}.{ext}" for i in range(n)]
    save_id = secrets.token_hex(4)
    # A file of the same name may be a shard some reader is loading right now: overwriting it would
    # hand that reader shards from two saves. Write the set under staged names instead, point the
    # index at them, then move them to the standard names and point the index there.
    staged = any((folder / name).exists() for name in names)
    first = [f"{stem}-{i + 1:05d}-of-{n:05d}.tmp-{save_id}.{ext}" for i in range(n)] if staged else names
    for name, shard in zip(first, shards):
        write_one(shard, folder / name)
    total = sum(t.numel() * t.element_size() for t in state.values())

    def write_index(files: list[str]) -> None:
        weight_map = {k: name for name, shard in zip(files, shards) for k in shard}
        index = {"metadata": {"total_size": total, SAVE_ID_KEY: save_id}, "weight_map": weight_map}
        atomic_write_text(folder / index_name, json.dumps(index, indent=2, sort_keys=True) + "\n")

    write_index(first)
    if staged:
        # Give each staged shard its standard name too (a second link, so the staged names the index
        # points at stay valid), then point the index at the standard names; the staged names are
        # removed with the other old files.
        for tmp, name in zip(first, names):
            _publish(folder / tmp, folder / name)
        write_index(names)
    return set(names) | {index_name}


def _publish(src: Path, dst: Path) -> None:
    """Make ``dst`` a second name of ``src`` in one atomic step (a copy where links are unsupported)."""
    tmp = dst.with_name(f".{dst.name}.{secrets.token_hex(4)}.tmp")
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _switch_and_clean(folder: Path, entry: str, new_files: set[str]) -> None:
    """Make ``entry`` the first entry point present, then remove the previous save's files."""
    rank = ENTRY_POINTS.index(entry)
    # Entry points a reader prefers over ours: remove the least preferred first, so that the live
    # one goes last and its removal is the single instant at which readers move to the new save.
    for name in reversed(ENTRY_POINTS[:rank]):
        _unlink(folder / name)
    for name in ENTRY_POINTS[rank + 1 :]:
        _unlink(folder / name)
    for path in folder.iterdir():
        if _OUR_SHARD.match(path.name) and path.name not in new_files:
            _unlink(path)


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)  # another save in the same folder may have removed it first
