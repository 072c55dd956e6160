#!/usr/bin/env bash
# Build the legacy oracle: transformers 4.57 in its own virtualenv (.venv-legacy), for what
# transformers 5.x removed (BERT relative positions and head_mask, the Python GPT-2 tokenizer,
# the QA/translation pipelines, as_target_tokenizer). Tests call it as a subprocess.
# It is built from $PYTHON, the interpreter setup.sh installed clearformer with (default `python`),
# and reuses that interpreter's torch (--system-site-packages) so nothing large is downloaded; every
# other module its tests import is named below and installed (pinned by constraints-legacy.txt)
# rather than assumed to be on the system. LEGACY_VENV=/some/path builds it elsewhere (for a trial).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
venv="${LEGACY_VENV:-.venv-legacy}"
# Every module the legacy-oracle tests import there (tests/test_setup_scripts.py checks the list
# against the tests): their own imports, plus sentencepiece for 4.57's Marian/T5 tokenizers and
# numpy for its pipelines.
LEGACY_MODULES=(transformers tokenizers huggingface_hub sentencepiece numpy regex safetensors torch)
LEGACY_PACKAGES=(transformers tokenizers huggingface-hub sentencepiece numpy regex safetensors)
check="import sys, transformers; sys.exit(0 if transformers.__version__.startswith('4.57') else 1)"
same_base="import sys; print(sys.base_prefix)"
if [ -x "$venv/bin/python" ] && [ "$("$venv/bin/python" -c "$same_base")" != "$("$PYTHON" -c "$same_base")" ]; then
  # Built from another interpreter (e.g. python3 where setup used python): it cannot see this install.
  echo "rebuilding $venv: it was built from $("$venv/bin/python" -c "$same_base"), not from $PYTHON ($("$PYTHON" -c "$same_base"))"
  "$PYTHON" -m venv --clear --system-site-packages "$venv"
fi
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" 2>/dev/null \
  && "$venv/bin/python" -c "import ${LEGACY_MODULES[*]}" 2>/dev/null; then
  echo "legacy oracle ready: $venv (transformers $("$venv/bin/python" -c 'import transformers; print(transformers.__version__)'))"
  exit 0
fi
[ -x "$venv/bin/python" ] || "$PYTHON" -m venv --system-site-packages "$venv"
"$venv/bin/python" -m pip install -q -c constraints-legacy.txt "${LEGACY_PACKAGES[@]}"
# When the main install lives in a virtualenv, --system-site-packages does not see its torch.
"$venv/bin/python" -c "import torch" 2>/dev/null \
  || "$venv/bin/python" -m pip install -q -c constraints-legacy.txt torch==2.13.0
missing=$("$venv/bin/python" -c "
import importlib.util, sys
print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))" "${LEGACY_MODULES[@]}")
if [ -n "$missing" ]; then
  echo "legacy oracle incomplete: $venv cannot import: $missing" >&2
  exit 1
fi
"$venv/bin/python" -c "import transformers, torch; print('legacy oracle ready: transformers', transformers.__version__, 'torch', torch.__version__)"
