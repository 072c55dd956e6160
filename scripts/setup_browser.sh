#!/usr/bin/env bash
# Headless Chromium and its driver from Debian's packages, plus the pinned Python driver, for the
# browser test of the attention viewer (tests/explain/test_attention_viewer_browser.py).
# Never downloads a browser build: Debian's chromium and chromium-driver only.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    SUDO=""
    if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-dejavu-core
fi
"${PYTHON:-python}" -m pip install -q -c constraints.txt selenium
