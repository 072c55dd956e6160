"""clearformer is its own implementation: src/ never imports transformers."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "clearformer"


def test_no_module_under_src_imports_transformers():
    offenders = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.relative_to(SRC)}: {n}" for n in names if n.split(".")[0] == "transformers"]
    assert not offenders, offenders


def test_loading_and_running_a_model_leaves_transformers_unimported(tmp_path):
    script = f"""
import sys, torch, clearformer
config = clearformer.BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=8)
clearformer.BertForMaskedLM(config).save_pretrained({str(tmp_path)!r})
model = clearformer.AutoModelForMaskedLM.from_pretrained({str(tmp_path)!r})
model(torch.tensor([[1, 2, 3]]))
assert "transformers" not in sys.modules, "transformers was imported"
print("clean")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "clean"


def test_every_public_name_resolves():
    import clearformer

    missing = []
    for name in clearformer.__all__:
        try:
            getattr(clearformer, name)
        except (AttributeError, ImportError) as e:
            missing.append(f"{name}: {e}")
    assert not missing, missing
    assert clearformer.Pipeline.__module__.startswith("clearformer.pipelines")  # not the tokenizer's
