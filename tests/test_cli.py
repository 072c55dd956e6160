"""The command-line tool: subcommand discovery and ``convert``."""

from __future__ import annotations

import pytest
import torch

import clearformer
from clearformer.cli import build_parser, main


def test_every_command_module_registers_a_subcommand():
    from clearformer.cli import _command_modules

    parser = build_parser()
    names = set(parser._subparsers._group_actions[0].choices)
    assert {"demo", "convert"} <= names
    assert len(names) >= 2 + len(_command_modules())


def test_convert_bin_to_safetensors(tmp_path, capsys):
    config = clearformer.BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=8)
    model = clearformer.BertForMaskedLM(config).eval()
    model.save_pretrained(tmp_path / "bin", safe_serialization=False)
    assert (tmp_path / "bin" / "pytorch_model.bin").exists()
    assert main(["convert", str(tmp_path / "bin"), "--output", str(tmp_path / "st")]) == 0
    assert (tmp_path / "st" / "model.safetensors").exists() and (tmp_path / "st" / "config.json").exists()
    back = clearformer.AutoModelForMaskedLM.from_pretrained(tmp_path / "st")
    ids = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        assert torch.equal(back(ids).logits, model(ids).logits)
    assert "model.safetensors" in capsys.readouterr().out


def test_unknown_command_exits_with_usage():
    with pytest.raises(SystemExit):
        main(["no-such-command"])


def _train(config, *extra: str) -> list[str]:
    return ["train", "--config", str(config), "--task", "cola", "--data", "nowhere", "--model", "nowhere", *extra]


@pytest.mark.parametrize(
    "content, problem",
    [
        (None, "no such file"),
        ("{oops", "not valid JSON"),
        ('{"learnin_rate": 1e-3}', "learnin_rate"),
        ("[1]", "object"),
    ],
)
def test_bad_train_config_is_one_line_naming_the_file(tmp_path, capsys, content, problem):
    config = tmp_path / "bad.json"
    if content is not None:
        config.write_text(content, encoding="utf-8")
    code = main(_train(config))
    err = capsys.readouterr().err
    assert code != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert str(config) in lines[0] and problem in lines[0]
    assert "Traceback" not in err


def test_bad_training_flag_value_is_one_line_not_a_traceback(tmp_path, capsys):
    code = main(["train", "--task", "cola", "--data", "x", "--model", "x", "--lr_scheduler_type", "wobbly"])
    err = capsys.readouterr().err
    assert code != 0 and "wobbly" in err and "Traceback" not in err


def test_verbose_cli_error_shows_the_traceback(tmp_path):
    with pytest.raises(OSError, match="bad.json"):
        main(["--verbose", *_train(tmp_path / "bad.json")])


def test_cli_error_exit_code_and_stderr_from_a_real_process(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "clearformer", *_train(tmp_path / "bad.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "bad.json" in done.stderr
    assert done.stdout == ""
