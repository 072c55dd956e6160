"""The one checkpoint loader and writer: formats, shards, key fix-ups and a strict report.

Reading: ``model.safetensors`` first, then ``pytorch_model.bin`` through
``torch.load(weights_only=True)`` (a pickle that carries code is refused), each also sharded via a
``*.index.json``. A truncated or corrupt file raises an error naming it before any weight is copied.
Every difference between checkpoint keys and model keys must be explained by a table (base-model
prefix, legacy ``gamma``/``beta``, ignorable keys, tied weights, new heads) or loading raises.
Writing is atomic per file: a temporary file in the same folder, fsync, then rename.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

SAFE_WEIGHTS_NAME = "model.safetensors"
SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
WEIGHTS_NAME = "pytorch_model.bin"
WEIGHTS_INDEX_NAME = "pytorch_model.bin.index.json"

# TF-era checkpoints named LayerNorm parameters gamma/beta.
LEGACY_RENAMES = ((re.compile(r"\.gamma$"), ".weight"), (re.compile(r"\.beta$"), ".bias"))


class CheckpointError(OSError):
    """A weights file that cannot be read (missing, truncated, corrupt or unsafe)."""


# --- atomic files ------------------------------------------------------------------------------
def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows for files
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    def write(tmp: str) -> None:
        Path(tmp).write_text(text, encoding="utf-8")

    _atomic_write(Path(path), write)


def atomic_save_safetensors(tensors: dict[str, torch.Tensor], path: Path, metadata: dict) -> None:
    from safetensors.torch import save_file

    _atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))


def atomic_torch_save(obj: object, path: Path) -> None:
    _atomic_write(path, lambda tmp: torch.save(obj, tmp))


# --- reading ----------------------------------------------------------------------------------
def find_weight_files(folder: Path) -> list[Path]:
    """The weight files of a model folder, safetensors preferred; raise naming what was looked for."""
    for single, index in ((SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME), (WEIGHTS_NAME, WEIGHTS_INDEX_NAME)):
        if (folder / single).is_file():
            return [folder / single]
        if (folder / index).is_file():
            return _shards_from_index(folder / index)
    raise CheckpointError(
        f"no weights in {folder}: looked for {SAFE_WEIGHTS_NAME}, {SAFE_WEIGHTS_INDEX_NAME}, "
        f"{WEIGHTS_NAME} and {WEIGHTS_INDEX_NAME}"
    )


def _shards_from_index(index_path: Path) -> list[Path]:
    try:
        weight_map = json.loads(index_path.read_text())["weight_map"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise CheckpointError(f"{index_path} is not a valid shard index (needs 'weight_map'): {e}") from e
    shards = [index_path.parent / name for name in sorted(set(weight_map.values()))]
    missing = [str(s) for s in shards if not s.is_file()]
    if missing:
        raise CheckpointError(f"{index_path} lists shards that are missing: {', '.join(missing)}")
    return shards


def read_weight_file(path: Path) -> dict[str, torch.Tensor]:
    """All tensors of one file on CPU; any read problem becomes a CheckpointError naming the file."""
    if path.name.endswith(".safetensors"):
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")  # memory-mapped by safetensors
        except (SafetensorError, OSError, ValueError, RuntimeError) as e:
            raise CheckpointError(f"cannot read {path}: truncated or corrupt safetensors file ({e})") from e
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=_is_zip(path))
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"refused to load {path}: it is not plain tensors (a pickle that would run code or build "
            f"arbitrary objects). clearformer only loads with weights_only=True. Details: {e}"
        ) from e
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        raise CheckpointError(f"cannot read {path}: truncated or corrupt .bin file ({e})") from e
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} does not hold a flat dict of tensors (a state_dict)")
    return state


def _is_zip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def read_state_dict(folder: Path) -> dict[str, torch.Tensor]:
    state: dict[str, torch.Tensor] = {}
    for file in find_weight_files(folder):
        state.update(read_weight_file(file))
    return state


# --- reconciling checkpoint keys with model keys -------------------------------------------------
@dataclass
class LoadingInfo:
    """What loading did besides copying: reported to the user, raised on when unexplained."""

    newly_initialized: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple, tuple]] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, list]:
        return {
            "missing_keys": list(self.newly_initialized),
            "unexpected_keys": list(self.unused),
            "mismatched_keys": list(self.mismatched),
        }


def _matches(key: str, patterns: list[str]) -> bool:
    return any(re.search(p, key) for p in patterns)


def _rename_legacy(state: dict[str, torch.Tensor], info: LoadingInfo) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        new = key
        for pattern, repl in LEGACY_RENAMES:
            new = pattern.sub(repl, new)
        if new != key:
            info.renamed[key] = new
        out[new] = value
    return out


def _align_prefix(state: dict[str, torch.Tensor], model_keys: set[str], prefix: str) -> dict[str, torch.Tensor]:
    """Add or strip the base-model prefix (``bert.``) so checkpoint keys meet model keys."""
    if not prefix:
        return state
    model_has_prefix = any(k.startswith(prefix + ".") for k in model_keys)
    ckpt_has_prefix = any(k.startswith(prefix + ".") for k in state)
    if model_has_prefix and not ckpt_has_prefix:
        return {(f"{prefix}.{k}" if f"{prefix}.{k}" in model_keys else k): v for k, v in state.items()}
    if ckpt_has_prefix and not model_has_prefix:
        n = len(prefix) + 1
        return {(k[n:] if k.startswith(prefix + ".") else k): v for k, v in state.items()}
    return state


def reconcile(
    model: torch.nn.Module,
    state: dict[str, torch.Tensor],
    ignore_mismatched_sizes: bool = False,
) -> tuple[dict[str, torch.Tensor], LoadingInfo]:
    """Map checkpoint ``state`` onto ``model``'s keys; raise on anything no table explains."""
    info = LoadingInfo()
    expected = model.state_dict()
    state = _rename_legacy(state, info)
    state = _align_prefix(state, set(expected), getattr(model, "base_model_prefix", ""))
    prefix = getattr(model, "base_model_prefix", "")
    is_head_model = bool(prefix) and any(k.startswith(prefix + ".") for k in expected)
    tied = getattr(model, "tied_weight_keys", lambda: [])()
    ignore_missing = list(getattr(model, "_keys_to_ignore_on_load_missing", [])) + tied
    ignore_unexpected = list(getattr(model, "_keys_to_ignore_on_load_unexpected", []))
    # Parts of the body some checkpoints never had (BERT's pooler in a masked-LM checkpoint, built
    # with add_pooling_layer=False): initialised and reported, as transformers does.
    fresh_ok = list(getattr(model, "_keys_initialized_when_missing", []))

    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    bad_missing, bad_unexpected = [], []
    for key in missing:
        if _matches(key, ignore_missing) or key in tied:
            continue
        if is_head_model and not key.startswith(prefix + ".") or _matches(key, fresh_ok):
            info.newly_initialized.append(key)  # a new head on a base checkpoint, or a missing pooler
        else:
            bad_missing.append(key)
    for key in unexpected:
        if _matches(key, ignore_unexpected):
            continue
        # Weights of a head this model does not have (a pre-training checkpoint into BertModel).
        if not key.startswith(prefix + ".") and not is_head_model or is_head_model and not key.startswith(prefix + "."):
            info.unused.append(key)
        else:
            bad_unexpected.append(key)
    if bad_missing or bad_unexpected:
        raise CheckpointError(_unexplained_message(type(model).__name__, bad_missing, bad_unexpected))

    loadable = {}
    for key, value in state.items():
        if key not in expected:
            continue
        want = tuple(expected[key].shape)
        if tuple(value.shape) != want:
            info.mismatched.append((key, tuple(value.shape), want))
            continue
        loadable[key] = value
    if info.mismatched and not ignore_mismatched_sizes:
        rows = "; ".join(f"{k}: checkpoint {s} vs model {m}" for k, s, m in info.mismatched)
        raise CheckpointError(
            f"shapes differ between the checkpoint and {type(model).__name__}: {rows}. If you changed "
            "the head on purpose (e.g. num_labels), pass ignore_mismatched_sizes=True to re-initialise it."
        )
    info.newly_initialized += [k for k, _, _ in info.mismatched]
    return loadable, info


def _unexplained_message(name: str, missing: list[str], unexpected: list[str]) -> str:
    def cut(keys: list[str]) -> str:
        return ", ".join(keys[:12]) + (f" ... (+{len(keys) - 12} more)" if len(keys) > 12 else "")

    parts = [f"the checkpoint does not fit {name}:"]
    if missing:
        parts.append(f"missing from the checkpoint: {cut(missing)}")
    if unexpected:
        parts.append(f"in the checkpoint but not in the model: {cut(unexpected)}")
    parts.append("Is this the right model class and config.json for these weights?")
    return " ".join(parts)


# --- writing ----------------------------------------------------------------------------------
def parse_size(size: int | str) -> int:
    if isinstance(size, int):
        return size
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?\s*", size.upper().replace("IB", "iB"))
    if not m:
        raise ValueError(f"cannot read the size {size!r}; use e.g. '5GB', '500MB' or a byte count")
    units = {None: 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}
    return int(float(m.group(1)) * units[(m.group(2) or "B").upper()])


def write_state_dict(
    state: dict[str, torch.Tensor],
    folder: Path,
    safe_serialization: bool = True,
    max_shard_size: int | str = "5GB",
) -> list[Path]:
    """Write ``state`` as one file or as shards with an index; remove stale weight files first."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in state.items()}
    limit = parse_size(max_shard_size)
    shards: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for key, tensor in state.items():
        nbytes = tensor.numel() * tensor.element_size()
        if shards[-1] and size + nbytes > limit:
            shards.append({})
            size = 0
        shards[-1][key] = tensor
        size += nbytes
    single, index_name = (
        (SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME) if safe_serialization else (WEIGHTS_NAME, WEIGHTS_INDEX_NAME)
    )
    stem, ext = single.rsplit(".", 1)
    names = (
        [single] if len(shards) == 1 else [f"{stem}-{i + 1:05d}-of-{len(shards):05d}.{ext}" for i in range(len(shards))]
    )
    written = []
    for name, shard in zip(names, shards):
        path = folder / name
        if safe_serialization:
            atomic_save_safetensors(shard, path, metadata={"format": "pt"})
        else:
            atomic_torch_save(shard, path)
        written.append(path)
    _remove_stale_weights(folder, keep=set(names) | ({index_name} if len(shards) > 1 else set()))
    if len(shards) > 1:
        weight_map = {k: name for name, shard in zip(names, shards) for k in shard}
        total = sum(t.numel() * t.element_size() for t in state.values())
        index = {"metadata": {"total_size": total}, "weight_map": weight_map}
        atomic_write_text(folder / index_name, json.dumps(index, indent=2, sort_keys=True) + "\n")
        written.append(folder / index_name)
    return written


def _remove_stale_weights(folder: Path, keep: set[str]) -> None:
    # A previous save in another format or shard count would otherwise shadow the new weights.
    pattern = re.compile(r"^(model|pytorch_model)(-\d{5}-of-\d{5})?\.(safetensors|bin)(\.index\.json)?$")
    for path in folder.iterdir():
        if pattern.match(path.name) and path.name not in keep:
            path.unlink()
