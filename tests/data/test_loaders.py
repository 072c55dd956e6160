"""Local-format loaders: real course files load with the expected counts; bad rows name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("datasets")

from clearformer.data.glue import GLUE_TASKS, get_glue_task, glue_preprocess_function  # noqa: E402
from clearformer.data.loaders import DataFormatError, load_dataset  # noqa: E402

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared data not at {DATA}")


@needs_data
def test_cola_raw_tsv_without_header():
    cola = load_dataset(DATA / "cola")
    assert {k: len(v) for k, v in cola.items()} == {"train": 8551, "validation": 527, "test": 516}
    assert cola["train"].column_names == ["sentence", "label", "idx"]
    assert cola["train"].features["label"].names == ["unacceptable", "acceptable"]
    assert cola["train"][0] == {
        "sentence": "Our friends won't buy this analysis, let alone the next one we propose.",
        "label": 1,
        "idx": 0,
    }


@needs_data
def test_sst2_tsv_with_header():
    sst2 = load_dataset("glue", "sst2", data_files={"validation": DATA / "sst2" / "dev.tsv"})
    assert len(sst2["validation"]) == 872 and sst2["validation"][0]["label"] == 1


@needs_data
def test_conll_sentence_counts_and_tags():
    conll = load_dataset(DATA / "conll2003")
    assert {k: len(v) for k, v in conll.items()} == {"train": 14041, "validation": 3250, "test": 3453}
    first = conll["train"][0]
    assert first["tokens"] == ["EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "."]
    names = conll["train"].features["ner_tags"].feature.names
    assert [names[i] for i in first["ner_tags"]] == ["B-ORG", "O", "B-MISC", "O", "O", "O", "B-MISC", "O", "O"]


@needs_data
def test_squad_and_cmrc_json():
    squad = load_dataset(DATA / "squad")["validation"]
    assert len(squad) == 10570 and squad[0]["answers"]["text"][0] == "Denver Broncos"
    cmrc = load_dataset(DATA / "cmrc2018")
    assert len(cmrc["validation"]) == 3219 and len(cmrc["trial"]) == 1002
    with pytest.raises(
        DataFormatError, match=r"cmrc2018_trial.json, data\[\d+\].paragraphs\[\d+\].qas\[\d+\] \(question id"
    ):
        load_dataset("squad", data_files={"trial": DATA / "cmrc2018" / "cmrc2018_trial.json"})


@needs_data
def test_dream_and_c3_multiple_choice():
    dream = load_dataset(DATA / "dream")
    assert len(dream["train"]) == 6116
    row = dream["validation"][0]
    assert row["choices"][row["label"]] == "To change her job."
    c3 = load_dataset("c3", data_files={"validation": DATA / "c3" / "c3-d-dev.json"})["validation"]
    assert all(0 <= r["label"] < len(r["choices"]) for r in c3.select(range(50)))


@needs_data
def test_parallel_and_raw_text():
    from clearformer.data.loaders import load_parallel, load_parallel_tsv

    m30k = load_parallel(
        {"validation": DATA / "multi30k" / "val.en"}, {"validation": DATA / "multi30k" / "val.de"}, "en", "de"
    )
    assert len(m30k["validation"]) == 1014 and set(m30k["validation"][0]["translation"]) == {"en", "de"}
    tatoeba = load_parallel_tsv(DATA / "tatoeba-cmn-eng" / "cmn.txt", "en", "zh")
    assert tatoeba["train"][0]["translation"] == {"en": "Hi.", "zh": "嗨。"}
    wiki = load_dataset("text", data_files={"validation": DATA / "wikitext-2-raw" / "wiki.valid.raw"})
    assert len(wiki["validation"]) == 3760


def test_malformed_tsv_row_names_file_and_line_or_is_skipped(tmp_path, caplog):
    path = tmp_path / "train.tsv"
    path.write_text("src\t1\t\tgood sentence\nsrc\t0\tonly three\nsrc\t0\t*\tbad one\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"train.tsv, line 2: 3 tab-separated fields"):
        load_dataset("glue", "cola", data_files={"train": path})
    ds = load_dataset("glue", "cola", data_files={"train": path}, on_error="skip")["train"]
    assert len(ds) == 2 and "skipped 1 malformed rows" in caplog.text


def test_malformed_conll_line_and_bad_label(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("EU NNP B-NP B-ORG\nrejects VBZ B-VP\n\nok NN B-NP O\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"train.txt, line 2"):
        load_dataset("conll2003", data_files={"train": path})
    assert len(load_dataset("conll2003", data_files={"train": path}, on_error="skip")["train"]) == 1
    tsv = tmp_path / "sst.tsv"
    tsv.write_text("sentence\tlabel\nfine\t1\nbroken\tpositive\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"sst.tsv, line 3: label 'positive'"):
        load_dataset("glue", "sst2", data_files={"train": tsv})


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(FileNotFoundError, match="train file"):
        load_dataset("conll2003", data_files={"train": tmp_path / "nope.txt"})
    with pytest.raises(ValueError, match="unknown format"):
        load_dataset("parquetish", data_files={"train": __file__})


def test_glue_registry_and_missing_text_column():
    assert get_glue_task("mnli-mm").validation_split == "validation_mismatched"
    assert get_glue_task("stsb").num_labels == 1 and GLUE_TASKS["cola"].metric == "matthews_correlation"
    fn = glue_preprocess_function(lambda *a, **k: {"input_ids": [[1]]}, "mrpc")
    with pytest.raises(KeyError, match="reads the text column 'sentence1'"):
        fn({"text": ["a"]})
