"""Checks on config values: JSON types against the field annotations, ranges, and the model's size.

A config.json is data from anywhere. These checks run when a config is built (and again when a
model is built from it), so a wrong value fails at once with a message naming the field, the value
and the fix, instead of as an unrelated error deep in a layer, or after minutes of allocating.
"""

from __future__ import annotations

import json
import math
import types
import typing
from functools import cache
from typing import Any, Union

# Beyond this a layer stack is not a real checkpoint (the deepest in these families has 48 layers)
# but a typo, and building it costs seconds per thousand layers even when each layer is tiny.
MAX_LAYERS = 1024
# Label names are built as a Python dict in full; the largest label sets in use (extreme
# multi-label classification) have under a million labels.
MAX_LABELS = 1_000_000
PROBLEM_TYPES = ("regression", "single_label_classification", "multi_label_classification")


@cache
def field_types(cls: type) -> dict[str, Any]:
    """Field name -> evaluated annotation (the modules use ``from __future__ import annotations``)."""
    import dataclasses

    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def json_kind(value: Any) -> str:
    """How a value reads in config.json terms: 'a string', 'null', 'true/false', ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number with a fraction" if math.isfinite(value) else "not a finite number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a Python {type(value).__name__}"


def _arms(tp: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(tp)
    return typing.get_args(tp) if origin in (Union, types.UnionType) else (tp,)


def _matches(value: Any, tp: Any) -> bool:
    if tp is Any:
        return True
    if tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        # An int is a fine float (``"dropout": 0``); NaN and inf never are (json reads them).
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if tp is str:
        return isinstance(value, str)
    origin = typing.get_origin(tp)
    if origin is list:
        (item,) = typing.get_args(tp)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    arms = _arms(tp)
    if len(arms) > 1:
        return any(_matches(value, arm) for arm in arms)
    return True  # an annotation these checks do not know: left to the class's own checks


_NAMES = {int: "a whole number", float: "a finite number", bool: "true or false", str: "a string"}


def describe(tp: Any) -> str:
    """'a whole number or null', 'a list of strings', ... for an annotation."""
    parts = []
    for arm in _arms(tp):
        if arm is type(None):
            continue
        if typing.get_origin(arm) is list:
            parts.append("a list of " + describe(typing.get_args(arm)[0]).removeprefix("a ") + "s")
        elif typing.get_origin(arm) is dict:
            parts.append("an object")
        else:
            parts.append(_NAMES.get(arm, getattr(arm, "__name__", str(arm))))
    text = " or ".join(parts)
    return text + " or null" if type(None) in _arms(tp) else text


def _example(tp: Any, default: Any) -> Any:
    if default is not None:
        return default
    wanted = [a for a in _arms(tp) if a is not type(None)]
    if not wanted:
        return None
    if typing.get_origin(wanted[0]) is list:
        return [_example(typing.get_args(wanted[0])[0], None)]
    return {int: 1, float: 0.1, bool: False, str: "..."}.get(wanted[0])


def type_error(owner: str, name: str, value: Any, tp: Any, default: Any) -> ValueError:
    """The message for a value whose JSON type does not fit the field."""
    wanted = _arms(tp)
    kind = json_kind(value)
    if isinstance(value, str) and (int in wanted or float in wanted):
        hint = "write the number without quotes"
    elif isinstance(value, float) and int in wanted and float not in wanted:
        hint = "it counts something, so it must be a whole number"
    elif value is None:
        hint = "null is not allowed here; remove the key to get the default"
    elif isinstance(value, bool):
        hint = "true/false is not a number here"
    else:
        hint = f"give {describe(tp)}"
    example = json.dumps({name: _example(tp, default)})[1:-1]
    return ValueError(f"{owner}: {name}={value!r} is {kind}, but {name} must be {describe(tp)}; {hint}, e.g. {example}")


def check_type(owner: str, name: str, value: Any, tp: Any, default: Any) -> None:
    if not _matches(value, tp):
        raise type_error(owner, name, value, tp, default)


def label_maps(owner: str, id2label: Any, label2id: Any) -> tuple[dict[int, str] | None, dict[str, int] | None]:
    """id2label keys to ints (JSON writes them "0", "1"), label2id values to ints; checked."""
    if id2label is not None:
        if not isinstance(id2label, dict):
            raise ValueError(
                f"{owner}: id2label={id2label!r} is {json_kind(id2label)}, but it must be an object "
                f'from class index to label name, e.g. "id2label": {{"0": "negative", "1": "positive"}}'
            )
        id2label = {_label_index(owner, "id2label", k): v for k, v in id2label.items()}
        for index, name in id2label.items():
            if not isinstance(name, str):
                raise ValueError(f"{owner}: id2label[{index}]={name!r} is {json_kind(name)}; label names are strings")
        if sorted(id2label) != list(range(len(id2label))):
            raise ValueError(
                f"{owner}: id2label has keys {sorted(id2label)[:10]}, but a classifier's outputs are "
                f"numbered 0..{len(id2label) - 1}; number the labels from 0 without gaps"
            )
    if label2id is not None:
        if not isinstance(label2id, dict):
            raise ValueError(
                f"{owner}: label2id={label2id!r} is {json_kind(label2id)}; it must map label names to indices"
            )
        label2id = {k: _label_index(owner, "label2id", v, what="value") for k, v in label2id.items()}
    return id2label, label2id


def _label_index(owner: str, name: str, key: Any, what: str = "key") -> int:
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    if isinstance(key, str) and key.strip().lstrip("-").isdigit() and len(key) < 20:
        return int(key)
    raise ValueError(
        f"{owner}: {name} has the {what} {key!r}, which is not a class index; indices are whole numbers "
        f'(written "0", "1", ... in config.json)'
    )


def check_num_labels(owner: str, n: Any) -> None:
    if not isinstance(n, int) or isinstance(n, bool):
        raise ValueError(f"{owner}: num_labels={n!r} is {json_kind(n)}; it must be a whole number, e.g. 2")
    if n < 1:
        raise ValueError(f"{owner}: num_labels={n} must be at least 1 (1 means regression)")
    if n > MAX_LABELS:
        raise ValueError(
            f"{owner}: num_labels={n} is at most {MAX_LABELS:,} here: each label gets a name in id2label; "
            "is the number a typo?"
        )


def format_count(n: int) -> str:
    return f"{n:,}" if n < 10**7 else f"{n:.2e}"
