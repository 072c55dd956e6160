"""Reading weight files: one consistent, validated state dict from a model folder or an error naming the file.

A shard index is untrusted text: every name must stay inside the folder, and the index must agree
with the shards key by key. A save may run while we read (write.py switches atomically);
when the folder changed under a read, the read is retried, so the result is always one whole save.
"""

from __future__ import annotations

import json
import pickle
import time
import zipfile
from pathlib import Path

import torch

from .write import ENTRY_POINTS

_READ_ATTEMPTS = 50
_FIX = "Re-download the model, or load the original and save it again with model.save_pretrained(folder)."


class CheckpointError(OSError):
    """A weights file that cannot be read (missing, truncated, corrupt, inconsistent or unsafe)."""


class _FolderChanged(Exception):
    """The folder changed while it was read (a concurrent save): read it again."""


# --- one file ----------------------------------------------------------------------------------
def read_weight_file(path: Path) -> dict[str, torch.Tensor]:
    """All tensors of one file on CPU; any read problem becomes a CheckpointError naming the file."""
    path = Path(path)
    if path.name.endswith(".safetensors"):
        return _read_safetensors(path)
    return _read_bin(path)


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")  # memory-mapped by safetensors
    except FileNotFoundError:
        raise
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError, OverflowError, MemoryError) as e:
        raise CheckpointError(f"cannot read {path}: truncated or corrupt safetensors file ({e}). {_FIX}") from e


def _read_bin(path: Path) -> dict[str, torch.Tensor]:
    with open(path, "rb") as f:
        head = f.read(4)
    is_zip = head == b"PK\x03\x04"
    # torch.save writes a zip; files older than torch 1.6 are a bare pickle (protocol 2: 0x80 0x02).
    if not is_zip and not head.startswith(b"\x80"):
        raise CheckpointError(
            f"cannot read {path}: it is neither a PyTorch zip checkpoint nor a legacy pickle "
            f"(first bytes {head!r}; the file is empty, truncated or not a weights file). {_FIX}"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=is_zip)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"refused to load {path}: it is not plain tensors (a pickle that would run code or build "
            f"arbitrary objects, or bytes damaged into one). clearformer only loads with weights_only=True; "
            f"convert the file to safetensors where it was made. {_FIX} Details: {e}"
        ) from e
    except FileNotFoundError:
        raise
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, IndexError, zipfile.BadZipFile, TypeError) as e:
        raise CheckpointError(
            f"cannot read {path}: truncated or corrupt .bin file ({type(e).__name__}: {e}). {_FIX}"
        ) from e
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise CheckpointError(f"{path} does not hold a flat dict of named tensors (a state_dict). {_FIX}")
    return state


# --- a shard index -----------------------------------------------------------------------------
def parse_index(index_path: Path, raw: bytes) -> dict[str, str]:
    """The index's weight_map, checked: a dict of key -> shard file name inside the folder."""
    try:
        index = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{index_path} is not valid JSON ({e}). {_FIX}") from e
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        raise CheckpointError(
            f"{index_path} needs a non-empty 'weight_map' object (tensor name -> shard file), "
            f"found {type(weight_map).__name__}. {_FIX}"
        )
    bad = [(k, v) for k, v in weight_map.items() if not isinstance(v, str) or not v]
    if bad:
        raise CheckpointError(
            f"{index_path}: weight_map values must be shard file names, found {bad[0][1]!r} for {bad[0][0]!r}. {_FIX}"
        )
    for name in set(weight_map.values()):
        _check_inside(index_path.parent, name, index_path)
    return weight_map


def _check_inside(folder: Path, name: str, index_path: Path) -> None:
    # The directory part is resolved through symlinks; the file itself may be a link (the Hugging
    # Face cache links snapshot files to ../../blobs), but the name must not climb out with "..".
    path = Path(name)
    inside = not path.is_absolute() and ".." not in path.parts and "\\" not in name
    if inside:
        inside = (folder / path).parent.resolve().is_relative_to(folder.resolve())
    if not inside:
        raise CheckpointError(
            f"{index_path} names the shard {name!r}, which is outside the model folder {folder}; refusing to "
            "open it. Shard names must be plain file names inside the folder."
        )


def _load_shards(index_path: Path, weight_map: dict[str, str]) -> dict[str, torch.Tensor]:
    folder = index_path.parent
    state: dict[str, torch.Tensor] = {}
    found_in: dict[str, str] = {}
    for name in sorted(set(weight_map.values())):
        try:
            tensors = read_weight_file(folder / name)
        except FileNotFoundError as e:
            raise CheckpointError(f"{index_path} lists a shard that is missing: {name}. {_FIX}") from e
        for key, value in tensors.items():
            if key in found_in:
                raise CheckpointError(
                    f"{key!r} is stored in two shards, {found_in[key]} and {name} ({index_path}); "
                    f"which one is meant is unknown. {_FIX}"
                )
            listed = weight_map.get(key)
            if listed != name:
                where = f"puts it in {listed}" if listed else "does not list it"
                raise CheckpointError(
                    f"{index_path} disagrees with the shards: {key!r} is in {name} but the index {where}. {_FIX}"
                )
            found_in[key] = name
            state[key] = value
    absent = [k for k in weight_map if k not in found_in]
    if absent:
        raise CheckpointError(
            f"{index_path} lists {len(absent)} tensors no shard holds, e.g. {absent[0]!r} in "
            f"{weight_map[absent[0]]}. {_FIX}"
        )
    return state


# --- a whole folder ----------------------------------------------------------------------------
def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None


def _read_once(folder: Path) -> dict[str, torch.Tensor]:
    entry = next((folder / n for n in ENTRY_POINTS if (folder / n).is_file()), None)
    if entry is None:
        if any((folder / n).is_file() for n in ENTRY_POINTS):
            raise _FolderChanged  # a save put its file in place between our checks
        raise CheckpointError(f"no weights in {folder}: looked for {', '.join(ENTRY_POINTS)}")
    if not entry.name.endswith(".index.json"):
        try:
            return read_weight_file(entry)  # one file is replaced whole: always one save
        except FileNotFoundError as e:
            raise _FolderChanged from e
        except CheckpointError as e:
            if not entry.is_file():  # torch.load reports a file removed mid-read as a corrupt one
                raise _FolderChanged from e
            raise
    raw = _read_bytes(entry)
    if raw is None:
        raise _FolderChanged
    weight_map = parse_index(entry, raw)
    try:
        state = _load_shards(entry, weight_map)
    except CheckpointError as e:
        if _read_bytes(entry) != raw:
            raise _FolderChanged from e  # the shards were replaced by a newer save while we read
        raise
    # Unchanged index bytes (each save writes its own id) mean no save switched shards under us.
    if _read_bytes(entry) != raw:
        raise _FolderChanged
    return state


def read_state_dict(folder: Path) -> dict[str, torch.Tensor]:
    """The weights of one whole save in ``folder`` (retried while a concurrent save switches files)."""
    folder = Path(folder)
    for attempt in range(_READ_ATTEMPTS):
        try:
            return _read_once(folder)
        except _FolderChanged:
            time.sleep(min(0.001 * attempt, 0.02))
    raise CheckpointError(
        f"the weights in {folder} kept changing while being read ({_READ_ATTEMPTS} tries); is another "
        "process saving there in a loop? Load once the save has finished."
    )


def find_weight_files(folder: Path) -> list[Path]:
    """The files a load of ``folder`` would read now (for tools that list them)."""
    folder = Path(folder)
    for name in ENTRY_POINTS:
        if (folder / name).is_file():
            if not name.endswith(".index.json"):
                return [folder / name]
            weight_map = parse_index(folder / name, (folder / name).read_bytes())
            return [folder / n for n in sorted(set(weight_map.values()))]
    raise CheckpointError(f"no weights in {folder}: looked for {', '.join(ENTRY_POINTS)}")
