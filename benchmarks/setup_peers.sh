#!/usr/bin/env bash
# Build .venv-peers: the peer engines that benchmarks/bench_peers.py compares clearformer against.
#
#     bash benchmarks/setup_peers.sh            # PYTHON=/path/to/python to pick the interpreter
#
# CTranslate2 and ONNX Runtime are benchmark peers, never dependencies of the package: they live in
# their own virtualenv (git-ignored by .venv*/). transformers + torch are here only to convert the
# random-init folders (CTranslate2's converter and torch.onnx both read transformers' models).
# torch is pinned to the release already on this machine's disk (the CPU wheel): an unpinned torch
# would pull a multi-GB CUDA build from the registry. Idempotent: a venv that imports every
# package is left as it is.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv-peers}"
PYTHON="${PYTHON:-python}"
TORCH_PIN="${TORCH_PIN:-torch==2.13.0}"
# CTranslate2 4.x's converter reads transformers 4.x configs (5.x dropped BertConfig's
# position_embedding_type, which the BERT converter asserts on): the converters need a 4.x transformers.
TRANSFORMERS_PIN="${TRANSFORMERS_PIN:-transformers>=4.57,<5}"
PACKAGES=(ctranslate2 onnxruntime onnx onnxscript "$TRANSFORMERS_PIN" safetensors numpy "$TORCH_PIN")
IMPORTS="import ctranslate2, onnxruntime, onnx, onnxscript, transformers, safetensors, numpy, torch
assert transformers.__version__.startswith('4.'), transformers.__version__"

# the same interpreter as the main environment, so both sides run one Python version
BASE="$("$PYTHON" -c 'import sys; print(sys.executable)')"
same_base="import sys; print(sys.base_prefix)"
if [ -x "$VENV/bin/python" ] && [ "$("$VENV/bin/python" -c "$same_base")" != "$("$PYTHON" -c "$same_base")" ]; then
    echo "setup_peers: $VENV was built from another Python; rebuilding it from $BASE"
    "$BASE" -m venv --clear "$VENV"
fi
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "$IMPORTS" 2>/dev/null; then
    echo "setup_peers: $VENV already has every peer package; nothing to do"
    exit 0
fi

echo "setup_peers: creating $VENV from $BASE"
"$BASE" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# the CPU wheel first, so nothing below can choose a CUDA torch to satisfy its own requirement
"$VENV/bin/python" -m pip install --quiet "$TORCH_PIN"
"$VENV/bin/python" -m pip install --quiet "${PACKAGES[@]}"
"$VENV/bin/python" -c "$IMPORTS
print('setup_peers: ready:', 'torch', torch.__version__, 'ctranslate2', ctranslate2.__version__,
      'onnxruntime', onnxruntime.__version__, 'transformers', transformers.__version__)"
