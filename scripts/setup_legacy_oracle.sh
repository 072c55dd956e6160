#!/usr/bin/env bash
# Build the legacy oracle: transformers 4.57 in its own virtualenv (.venv-legacy), for what
# transformers 5.x removed (BERT relative positions and head_mask, the Python GPT-2 tokenizer,
# the QA/translation pipelines, as_target_tokenizer). Tests call it as a subprocess.
# It reuses the main interpreter's torch (--system-site-packages) so nothing large is downloaded;
# transformers, tokenizers and huggingface-hub of the 4.57 line shadow the newer ones inside it.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-legacy
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import transformers, sys; sys.exit(0 if transformers.__version__.startswith('4.57') else 1)" 2>/dev/null; then
  echo "legacy oracle ready: $venv (transformers $("$venv/bin/python" -c 'import transformers; print(transformers.__version__)'))"
  exit 0
fi
python3 -m venv --system-site-packages "$venv"
"$venv/bin/pip" install -q -c constraints-legacy.txt "transformers==4.57.6" "tokenizers<0.23" "huggingface-hub<1.0"
# When the main install lives in a virtualenv, --system-site-packages does not see its torch.
"$venv/bin/python" -c "import torch" 2>/dev/null || "$venv/bin/pip" install -q -c constraints-legacy.txt torch==2.13.0
"$venv/bin/python" -c "import transformers, torch; print('legacy oracle ready: transformers', transformers.__version__, 'torch', torch.__version__)"
