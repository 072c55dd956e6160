"""Loaders give what the hub's ``datasets.load_dataset`` gives: CoNLL-2003's fixed POS/chunk id
tables, and the builder inferred from data_files extensions when the path is a folder (issue 15)."""

from __future__ import annotations

import pytest

pytest.importorskip("datasets")

from clearformer.data.loaders import (  # noqa: E402
    CONLL_CHUNK_TAGS,
    CONLL_POS_TAGS,
    DataFormatError,
    load_dataset,
)

# The first training sentence of CoNLL-2003, as in the file and as the hub dataset numbers it.
EU_REJECTS = (
    "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\ncall NN I-NP O\nto TO B-VP O\n"
    "boycott VB I-VP O\nBritish JJ B-NP B-MISC\nlamb NN I-NP O\n. . O O\n"
)


def test_conll_pos_and_chunk_ids_are_the_hub_tables_not_the_tags_seen(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(EU_REJECTS, encoding="utf-8")
    train = load_dataset("conll2003", data_files={"train": path})["train"]
    # Sorting the 6 POS tags seen would number NNP 3; the hub's table gives 22.
    assert train[0]["pos_tags"] == [22, 42, 16, 21, 35, 37, 16, 21, 7]
    assert train[0]["chunk_tags"] == [11, 21, 11, 12, 21, 22, 11, 12, 0]
    assert train.features["pos_tags"].feature.names == list(CONLL_POS_TAGS)
    assert train.features["chunk_tags"].feature.names == list(CONLL_CHUNK_TAGS)
    assert len(CONLL_POS_TAGS) == 47 and len(CONLL_CHUNK_TAGS) == 23


@pytest.mark.parametrize(("line", "tag"), [("lamb NNX I-NP O", "NNX"), ("lamb NN I-XP O", "I-XP")])
def test_conll_tag_outside_the_table_names_file_line_and_tag(tmp_path, line, tag):
    path = tmp_path / "train.txt"
    path.write_text(EU_REJECTS.replace("lamb NN I-NP O", line), encoding="utf-8")
    with pytest.raises(DataFormatError, match=rf"train.txt, line 8: .*{tag}"):
        load_dataset("conll2003", data_files={"train": path})


def _write_csv(path, rows):
    path.write_text("sent1,label\n" + "".join(f"{s},{label}\n" for s, label in rows), encoding="utf-8")


def test_folder_path_with_csv_data_files_infers_the_csv_builder(tmp_path):
    folder = tmp_path / "swag"
    folder.mkdir()
    _write_csv(folder / "x.csv", [("a", 0), ("b", 1)])
    _write_csv(folder / "y.csv", [("c", 2)])
    files = {"train": str(folder / "x.csv"), "val": str(folder / "y.csv")}
    # The notebook passes a config name ('regular') and a cache_dir; a generic builder ignores the name.
    ds = load_dataset(str(folder) + "/", "regular", data_files=files, cache_dir=str(tmp_path / "cache"))
    assert set(ds) == {"train", "val"}
    assert ds["train"]["sent1"] == ["a", "b"] and ds["val"]["label"] == [2]


def test_folder_path_with_relative_data_files_reads_them_inside_the_folder(tmp_path):
    folder = tmp_path / "swag"
    folder.mkdir()
    _write_csv(folder / "x.csv", [("a", 0)])
    ds = load_dataset(folder, data_files={"train": "x.csv"})
    assert ds["train"]["sent1"] == ["a"]


def test_json_and_text_extensions_pick_their_builders(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"x": 1}\n{"x": 2}\n', encoding="utf-8")
    (tmp_path / "b.txt").write_text("one\ntwo\n", encoding="utf-8")
    assert load_dataset(str(tmp_path), data_files={"train": str(tmp_path / "a.jsonl")})["train"]["x"] == [1, 2]
    assert load_dataset(str(tmp_path), data_files={"train": str(tmp_path / "b.txt")})["train"]["text"] == [
        "one",
        "two",
    ]


def test_mixed_or_unknown_extensions_under_a_folder_say_which_files(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
    (tmp_path / "b.json").write_text('{"x": 1}\n', encoding="utf-8")
    (tmp_path / "c.xyz").write_text("?", encoding="utf-8")
    mixed = {"train": str(tmp_path / "a.csv"), "val": str(tmp_path / "b.json")}
    with pytest.raises(ValueError, match=r"a\.csv.*b\.json|b\.json.*a\.csv"):
        load_dataset(str(tmp_path), data_files=mixed)
    with pytest.raises(ValueError, match=r"unknown format.*c\.xyz"):
        load_dataset(str(tmp_path), data_files={"train": str(tmp_path / "c.xyz")})
