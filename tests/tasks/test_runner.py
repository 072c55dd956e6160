"""run_task end to end on a tiny random BERT (2 steps) for each task family, and the CLI table."""

from __future__ import annotations

import math

import pytest

from clearformer.tasks import TaskRun, get_task, run_task


@pytest.mark.parametrize(
    ("task", "folder", "metric", "options"),
    [
        ("conll2003", "conll2003", "eval_f1", {}),
        ("squad", "squad", "eval_f1", {"max_length": 128, "stride": 32}),
        ("dream", "dream", "eval_accuracy", {"max_length": 64}),
        ("sst2", "sst2", "eval_accuracy", {}),
    ],
)
def test_run_task_trains_and_reports_the_metric(tiny_bert_dir, shared_data, tmp_path, task, folder, metric, options):
    run = TaskRun(
        task=task,
        data_dir=str(shared_data / folder),
        model_dir=str(tiny_bert_dir),
        output_dir=str(tmp_path),
        max_train_samples=8,
        max_eval_samples=6,
        max_steps=2,
        batch_size=4,
        preprocess_options=options,
    )
    result = run_task(run)
    assert result["global_step"] == 2 and math.isfinite(result["train_loss"])
    assert metric in result and 0.0 <= result[metric] <= 100.0
    assert result["eval_examples"] == 6


def test_run_task_masked_lm_reports_perplexity_per_masked_token(tiny_bert_dir, shared_data, tmp_path):
    run = TaskRun(
        task="wikitext-mlm",
        data_dir=str(shared_data / "wikitext-2-raw"),
        model_dir=str(tiny_bert_dir),
        output_dir=str(tmp_path),
        max_train_samples=20,
        max_eval_samples=10,
        max_steps=2,
        batch_size=4,
        preprocess_options={"block_size": 32},
    )
    result = run_task(run)
    assert result["global_step"] == 2
    assert 0 < result["eval_tokens"] < 0.3 * result["eval_features"] * 32  # the masked tokens only
    assert result["eval_perplexity"] == math.exp(result["eval_loss"])
    assert run_task(run)["eval_loss"] == result["eval_loss"]  # the eval masks are seeded


def test_unknown_task_lists_the_known_ones():
    with pytest.raises(KeyError, match="known tasks: c3, chnsenticorp, cmrc2018, cola, conll2003"):
        get_task("ner")


def test_cli_lists_the_tasks(capsys):
    from clearformer.cli import main

    assert main(["task", "--list"]) == 0
    out = capsys.readouterr().out
    assert "squad" in out and "AutoModelForQuestionAnswering" in out
