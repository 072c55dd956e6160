"""The set-up scripts use one interpreter throughout and give the legacy oracle what its tests import.

On a machine where ``python`` (pyenv) and ``python3`` (Debian) differ, a legacy venv built from
``python3`` saw none of the main install: it fetched its own torch and had no sentencepiece. These
checks read the scripts (nothing is installed here).
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETUP = (REPO / "scripts" / "setup.sh").read_text()
LEGACY = (REPO / "scripts" / "setup_legacy_oracle.sh").read_text()
BROWSER = (REPO / "scripts" / "setup_browser.sh").read_text()

# transformers names whose 4.57 implementation needs a module beyond transformers' own requirements.
EXTRA_MODULES = {"MarianTokenizer": "sentencepiece", "T5Tokenizer": "sentencepiece", "pipeline": "numpy"}


def _commands(script: str) -> list[str]:
    return [line.strip() for line in script.splitlines() if line.strip() and not line.strip().startswith("#")]


def _bash_list(script: str, name: str) -> list[str]:
    match = re.search(rf"^{name}=\(([^)]*)\)", script, re.M)
    assert match, f"setup_legacy_oracle.sh has no {name}=(...) list"
    return match.group(1).split()


def test_no_script_calls_python3_or_a_bare_python():
    for name, script in (("setup.sh", SETUP), ("setup_legacy_oracle.sh", LEGACY), ("setup_browser.sh", BROWSER)):
        for line in _commands(script):
            assert not re.search(r"\bpython3\b", line), f'{name}: {line!r} names python3; use "$PYTHON"'
            assert not re.search(r"(^|[;&|(]\s*)python\s", line), f'{name}: {line!r} runs a bare python; use "$PYTHON"'


def test_setup_resolves_one_interpreter_and_hands_it_to_the_legacy_script():
    assert re.search(r'^PYTHON="\$\("\$\{PYTHON:-python\}" -c .*sys\.executable', SETUP, re.M)
    assert re.search(r"^export PYTHON$", SETUP, re.M)
    assert all('"$PYTHON" -m pip' in line for line in _commands(SETUP) if "pip install" in line)
    assert re.search(r'^PYTHON="\$\{PYTHON:-python\}"', LEGACY, re.M)
    assert re.search(r'"\$PYTHON" -m venv (--clear )?--system-site-packages', LEGACY)


def test_the_legacy_venv_path_can_be_pointed_elsewhere():
    assert re.search(r'^venv="\$\{LEGACY_VENV:-\.venv-legacy\}"', LEGACY, re.M)


def _legacy_scripts_and_sources() -> tuple[set[str], str]:
    """Modules the legacy-oracle scripts import, and the text of the test files that run them."""
    modules, text = set(), ""
    for path in (REPO / "tests").rglob("*.py"):
        source = path.read_text()
        if "run_legacy(" not in source or path.name == "conftest.py":
            continue
        text += source
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "import" in node.value:
                found = re.findall(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w., ]+))", node.value, re.M)
                for names in found:
                    for name in (names[0] or names[1]).split(","):
                        modules.add(name.strip().split(" ")[0].split(".")[0])
    return {m for m in modules if m and m not in sys.stdlib_module_names}, text


def test_the_legacy_script_installs_every_module_its_tests_import():
    modules, text = _legacy_scripts_and_sources()
    assert {"transformers", "torch"} <= modules, "the scan of the legacy scripts found too little"
    needed = modules | {module for name, module in EXTRA_MODULES.items() if re.search(rf"\b{name}\b", text)}
    listed = set(_bash_list(LEGACY, "LEGACY_MODULES"))
    assert needed <= listed, f"LEGACY_MODULES lacks {sorted(needed - listed)}"
    packages = {p.replace("-", "_") for p in _bash_list(LEGACY, "LEGACY_PACKAGES")}
    for module in listed - {"torch"}:  # torch comes from the main install, or is installed on its own
        assert module in packages, f"{module} is checked but never installed"
    assert re.search(r"pip install .*-c constraints-legacy\.txt .*torch==", LEGACY)
    pins = (REPO / "constraints-legacy.txt").read_text()
    for package in _bash_list(LEGACY, "LEGACY_PACKAGES"):
        assert re.search(rf"^{package}==", pins, re.M | re.I), f"{package} is not pinned in constraints-legacy.txt"


def test_a_ready_venv_is_checked_for_every_module_not_only_transformers():
    assert re.search(r"import \$\{?LEGACY_MODULES", LEGACY.replace('"', "")) or "${LEGACY_MODULES[*]}" in LEGACY
