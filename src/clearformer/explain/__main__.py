"""``python -m clearformer.explain [TOPIC] [--out DIR] [--model DIR] [--all]``: the same as ``clearformer explain``."""

import sys

from ..commands.explain import main

sys.exit(main())
