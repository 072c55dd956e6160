"""TrainingArguments names/defaults/JSON/flags; schedules and AdamW groups equal transformers'."""

from __future__ import annotations

import argparse
import json

import pytest
import torch

from clearformer.training import TrainingArguments, get_scheduler
from clearformer.training.optimization import create_adamw, decay_parameter_names
from clearformer.training.training_args import add_dataclass_arguments, dataclass_from_namespace

from .tiny import tiny_model


def test_course_defaults_and_aliases(tmp_path):
    args = TrainingArguments(
        str(tmp_path),
        evaluation_strategy="epoch",
        save_strategy="epoch",
        load_best_model_at_end=True,
        overwrite_output_dir=True,
        logging_dir=str(tmp_path / "l"),
    )
    assert args.eval_strategy == args.evaluation_strategy == "epoch"
    assert (args.learning_rate, args.per_device_train_batch_size, args.num_train_epochs) == (5e-5, 8, 3.0)
    assert (args.weight_decay, args.logging_steps, args.save_steps) == (0.0, 500, 500)
    assert args.metric_for_best_model == "loss" and args.greater_is_better is False
    assert args.report_to == [] and TrainingArguments(str(tmp_path), report_to="all").report_to == [
        "csv",
        "tensorboard",
    ]
    assert TrainingArguments(str(tmp_path), metric_for_best_model="accuracy").greater_is_better is True


def test_json_round_trip_and_unknown_field(tmp_path):
    args = TrainingArguments(str(tmp_path), learning_rate=2e-5, report_to="csv", lr_scheduler_type="cosine")
    path = tmp_path / "args.json"
    path.write_text(args.to_json_string())
    again = TrainingArguments.from_json_file(path)
    assert again.to_dict() == args.to_dict()
    path.write_text(json.dumps({"output_dir": "x", "learnin_rate": 1}))
    with pytest.raises(ValueError, match="unknown TrainingArguments fields"):
        TrainingArguments.from_json_file(path)


def test_command_line_flags_override_json():
    parser = argparse.ArgumentParser()
    add_dataclass_arguments(parser, TrainingArguments)
    ns = parser.parse_args(
        [
            "--output_dir",
            "o",
            "--fp16",
            "false",
            "--learning_rate",
            "3e-5",
            "--evaluation_strategy",
            "epoch",
            "--report_to",
            "csv",
            "--save_total_limit",
            "2",
            "--load_best_model_at_end",
            "--save_strategy",
            "epoch",
        ]
    )
    args = dataclass_from_namespace(TrainingArguments, ns, base={"learning_rate": 1.0, "num_train_epochs": 5})
    assert (args.learning_rate, args.num_train_epochs, args.fp16, args.save_total_limit) == (3e-5, 5, False, 2)
    assert args.load_best_model_at_end is True and args.report_to == ["csv"] and args.eval_strategy == "epoch"


@pytest.mark.parametrize(
    "name", ["linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup"]
)
def test_schedules_equal_transformers(name):
    transformers = pytest.importorskip("transformers")

    def curve(factory):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        sched = factory(name, opt, num_warmup_steps=3, num_training_steps=20)
        values = []
        for _ in range(25):
            values.append(sched.get_last_lr()[0])
            opt.step()
            sched.step()
        return values

    assert curve(get_scheduler) == pytest.approx(curve(transformers.get_scheduler), abs=1e-12)


def test_adamw_groups_skip_biases_and_layernorm_like_transformers():
    transformers = pytest.importorskip("transformers")
    from transformers.trainer_pt_utils import get_parameter_names

    model = tiny_model()
    theirs = [n for n in get_parameter_names(model, [torch.nn.LayerNorm]) if "bias" not in n]
    assert decay_parameter_names(model) == theirs
    opt = create_adamw(model, lr=1e-3, weight_decay=0.01)
    assert [g["weight_decay"] for g in opt.param_groups] == [0.01, 0.0]
    assert sum(len(g["params"]) for g in opt.param_groups) == len(list(model.parameters()))
    assert transformers is not None
