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
