"""Print the rows of the results table in docs/results-tasks.md from the recipes' JSON lines.

python recipes/tasks/summarize.py results.jsonl [oracle_full.jsonl]
"""

import json
import sys
from pathlib import Path

METRICS = {
    "conll2003": ("eval_f1",),
    "squad": ("eval_exact_match", "eval_f1"),
    "dream": ("eval_accuracy",),
    "chnsenticorp": ("eval_accuracy",),
    "thucnews": ("eval_accuracy",),
    "wikitext-clm": ("eval_perplexity",),
    "wikitext-mlm": ("eval_perplexity",),
    "chnsenticorp-mlm": ("eval_perplexity",),
    "thucnews-mlm": ("eval_perplexity",),
}


def read(path: str) -> dict[tuple[str, str], dict]:
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    return {(r["task"], r["implementation"]): r for r in rows}


def metric(result: dict | None, task: str) -> str:
    if result is None or METRICS[task][0] not in result:
        return "not run"
    return " / ".join(f"{result[k]:.4f}" if result[k] < 1.5 else f"{result[k]:.2f}" for k in METRICS[task])


def match(result: dict | None) -> str:
    if result is None:
        return "not run"
    diff = result["max_abs_loss_diff_vs_clearformer"]
    return f"{result['steps_compared']} steps, max abs loss diff {diff:.4f}, {result['train_s']:.0f} s train"


if __name__ == "__main__":
    short = read(sys.argv[1])
    full = read(sys.argv[2]) if len(sys.argv) > 2 and Path(sys.argv[2]).exists() else {}
    for task in METRICS:
        ours = short.get((task, "clearformer"))
        if ours is None:
            continue
        oracle_full = full.get((task, "transformers"))
        print(
            f"| {task} | {ours['train_examples']} / {ours['eval_examples']} | {ours['global_step']} "
            f"| {ours['train_s']:.0f} s train, {ours['wall_s']:.0f} s total | {ours['train_loss']:.4f} "
            f"| **{metric(ours, task)}** | {metric(oracle_full, task)} "
            f"| {match(oracle_full or short.get((task, 'transformers')))} |"
        )
