"""Print the results table rows of docs/results-tasks.md from the JSON lines the recipes append."""

import json
import sys
from pathlib import Path

METRICS = {
    "conll2003": ("eval_f1",),
    "squad": ("eval_exact_match", "eval_f1"),
    "dream": ("eval_accuracy",),
    "chnsenticorp": ("eval_accuracy",),
}


def metric_text(result: dict | None, keys: tuple[str, ...]) -> str:
    return " / ".join(f"{result[k]:.4g}" for k in keys) if result else "not run"


def loss_text(result: dict | None) -> str:
    if result is None:
        return "not run"
    return f"train {result['train_loss']:.4f}, eval {result.get('eval_loss', float('nan')):.4f}"


if __name__ == "__main__":
    rows = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines() if line.strip()]
    pairs: dict[str, dict] = {}
    for r in rows:
        pairs.setdefault(r["task"], {})[r["implementation"]] = r
    for task, runs in pairs.items():
        ours, oracle = runs["clearformer"], runs.get("transformers")
        keys = METRICS.get(task, ())
        print(
            f"| {task} | {ours['train_examples']} train features / {ours['eval_examples']} eval examples "
            f"| {ours['global_step']} | {ours['train_s']:.0f} s train, {ours['wall_s']:.0f} s total "
            f"(load {ours['load_avg']:.1f}) | {loss_text(ours)} | {metric_text(ours, keys)} "
            f"| {loss_text(oracle)} | {metric_text(oracle, keys)} |"
        )
