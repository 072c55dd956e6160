"""Weight files in and out of a model folder: the one loader and the one writer of ``from_pretrained``.

Reading (read.py): the first of ``model.safetensors``, ``model.safetensors.index.json``,
``pytorch_model.bin``, ``pytorch_model.bin.index.json`` present (transformers' order), ``.bin`` through
``torch.load(weights_only=True)`` (a pickle that carries code is refused). A shard index must name
files inside the folder and agree with the shards. A truncated or corrupt file raises an error naming
it before any weight is copied. Keys (keys.py): every difference between checkpoint keys and model
keys is explained by a table, reported, or raised on. Writing (write.py): one file or shards with an
index, switched atomically. The Trainer's checkpoint-N folders are training/trainer_checkpoints.py.
"""

from .keys import LoadingInfo, reconcile
from .read import CheckpointError, find_weight_files, read_state_dict, read_weight_file
from .write import (
    ENTRY_POINTS,
    SAFE_WEIGHTS_INDEX_NAME,
    SAFE_WEIGHTS_NAME,
    WEIGHTS_INDEX_NAME,
    WEIGHTS_NAME,
    atomic_save_safetensors,
    atomic_torch_save,
    atomic_write_text,
    parse_size,
    write_state_dict,
)

__all__ = [
    "ENTRY_POINTS",
    "SAFE_WEIGHTS_INDEX_NAME",
    "SAFE_WEIGHTS_NAME",
    "WEIGHTS_INDEX_NAME",
    "WEIGHTS_NAME",
    "CheckpointError",
    "LoadingInfo",
    "find_weight_files",
    "atomic_save_safetensors",
    "atomic_torch_save",
    "atomic_write_text",
    "parse_size",
    "read_state_dict",
    "read_weight_file",
    "reconcile",
    "write_state_dict",
]
