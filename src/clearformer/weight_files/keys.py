"""Matching checkpoint keys to model keys: every difference explained by a table, reported, or raised on.

The tables: the base-model prefix (``bert.``) added or stripped, legacy ``gamma``/``beta`` names,
the model's ignorable keys, tied weights, and new heads. ``reconcile`` returns the tensors to copy and
a ``LoadingInfo`` saying what else happened; the caller (``from_pretrained``) reports it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch

from .read import CheckpointError

# TF-era checkpoints named LayerNorm parameters gamma/beta.
LEGACY_RENAMES = ((re.compile(r"\.gamma$"), ".weight"), (re.compile(r"\.beta$"), ".bias"))


@dataclass
class LoadingInfo:
    """What loading did besides copying: reported to the user, raised on when unexplained."""

    newly_initialized: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)  # weights of a head this model does not have
    unused_own: list[str] = field(default_factory=list)  # weights of a part it has, with no place to go
    mismatched: list[tuple[str, tuple, tuple]] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, list]:
        return {
            "missing_keys": list(self.newly_initialized),
            "unexpected_keys": list(self.unused_own) + list(self.unused),
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
    strict: bool = False,
) -> tuple[dict[str, torch.Tensor], LoadingInfo]:
    """Map checkpoint ``state`` onto ``model``'s keys; raise on anything no table explains.

    Checkpoint keys the model has no place for are never dropped silently: keys of a part this model
    has (an encoder layer beyond ``num_hidden_layers``) go to ``info.unused_own`` and are warned about
    by the caller (raised on with ``strict=True``); keys of a head it does not have (``cls.*`` into
    ``BertModel``) go to ``info.unused`` and are reported at INFO, as transformers lists them too.
    """
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
    own_parts = _own_parts(expected, prefix if is_head_model else "")

    bad_missing = []
    for key in (k for k in expected if k not in state):
        if _matches(key, ignore_missing) or key in tied:
            continue
        if is_head_model and not key.startswith(prefix + ".") or _matches(key, fresh_ok):
            info.newly_initialized.append(key)  # a new head on a base checkpoint, or a missing pooler
        else:
            bad_missing.append(key)
    for key in (k for k in state if k not in expected):
        if _matches(key, ignore_unexpected):
            continue
        (info.unused_own if key.split(".", 1)[0] in own_parts else info.unused).append(key)
    if bad_missing:
        raise CheckpointError(_unexplained_message(type(model).__name__, bad_missing, info.unused_own))
    if strict and info.unused_own:
        raise CheckpointError(
            f"strict loading: the checkpoint has {len(info.unused_own)} weights {type(model).__name__} has no "
            f"place for: {_cut(info.unused_own)}. Does config.json match the checkpoint (num_hidden_layers, "
            "the model class)? Pass strict=False to load anyway with a warning."
        )

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


def _own_parts(expected: dict[str, torch.Tensor], body_prefix: str) -> set[str]:
    """First name parts of the model's keys; for a head model also its body's (keys saved unprefixed)."""
    parts = {k.split(".", 1)[0] for k in expected}
    if body_prefix:
        n = len(body_prefix) + 1
        parts |= {k[n:].split(".", 1)[0] for k in expected if k.startswith(body_prefix + ".")}
    return parts


def _cut(keys: list[str], limit: int = 12) -> str:
    return ", ".join(keys[:limit]) + (f" ... (+{len(keys) - limit} more)" if len(keys) > limit else "")


def _unexplained_message(name: str, missing: list[str], unexpected: list[str]) -> str:
    cut = _cut

    parts = [f"the checkpoint does not fit {name}:"]
    if missing:
        parts.append(f"missing from the checkpoint: {cut(missing)}")
    if unexpected:
        parts.append(f"in the checkpoint but not in the model: {cut(unexpected)}")
    parts.append("Is this the right model class and config.json for these weights?")
    return " ".join(parts)
