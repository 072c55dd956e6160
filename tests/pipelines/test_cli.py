"""``clearformer pipeline TASK TEXT... --model DIR``: one JSON result per input line."""

from __future__ import annotations

import io
import json

from clearformer.cli import main


def test_cli_prints_one_json_result_per_text(tiny, capsys):
    assert (
        main(
            [
                "pipeline",
                "ner",
                "Angela Merkel is in Paris.",
                "Hi",
                "--model",
                str(tiny("ner")),
                "--option",
                "aggregation_strategy=simple",
                "--batch-size",
                "2",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(isinstance(json.loads(line), list) for line in lines)


def test_cli_reads_stdin_and_answers_questions(tiny, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("Paris is the [MASK] of France.\n\n"))
    assert main(["pipeline", "fill-mask", "--model", str(tiny("mlm")), "--option", "top_k=2"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert [sorted(c) for c in json.loads(line)] == [["score", "sequence", "token", "token_str"]] * 2
    assert (
        main(
            [
                "pipeline",
                "question-answering",
                "--model",
                str(tiny("qa")),
                "--question",
                "Where?",
                "--context",
                "It is in Paris, France.",
            ]
        )
        == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert "It is in Paris, France."[answer["start"] : answer["end"]] == answer["answer"]
