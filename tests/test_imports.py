"""Every relative import under src/ names a module or a name that module defines.

Imports inside functions (kept there so ``import clearformer`` stays light) run only when the
function does, so a module renamed or split can leave one broken that no other test reaches. This
check reads the source instead of running it: each ``from .x import y`` must find ``x`` and, in it,
``y`` as a submodule or a top-level name (def, class, assignment or import).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _module_file(dotted: str) -> Path | None:
    base = SRC.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache  # a module is imported from many files
def _top_level_names(file: Path) -> set[str]:
    names: set[str] = set()
    todo = list(ast.parse(file.read_text(encoding="utf-8")).body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.If | ast.Try):  # names defined under a version check or a fallback
            todo += node.body + node.orelse + getattr(node, "finalbody", [])
            todo += [stmt for handler in getattr(node, "handlers", []) for stmt in handler.body]
    return names


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    package = path.relative_to(SRC).with_suffix("").parts
    package = package[:-1]  # a module's package; for __init__.py, the package itself
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ((node.module,) if node.module else ()))


def test_every_relative_import_in_src_names_a_module_or_a_name_it_defines():
    broken = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.ImportFrom) or node.level == 0:
                continue
            target = _resolve(path, node)
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            file = _module_file(target)
            if file is None:
                broken.append(f"{where}: no module {target}")
                continue
            defined = _top_level_names(file)
            if "__getattr__" in defined:  # names made on first use (PEP 562)
                continue
            for alias in node.names:
                if alias.name != "*" and alias.name not in defined and _module_file(f"{target}.{alias.name}") is None:
                    broken.append(f"{where}: {target} has no {alias.name}")
    assert broken == [], broken
