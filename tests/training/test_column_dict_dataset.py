"""A dict of columns (``lm_datasets["train"][:1000]``, notebook 4.5) is accepted as a dataset.

transformers fails on it with ``KeyError: 0``; clearformer turns equal-length columns into rows.
"""

from __future__ import annotations

import pytest

from clearformer.training.data_utils import rows_from_columns


def test_dict_of_equal_length_columns_becomes_rows():
    columns = {"input_ids": [[1, 2], [3, 4], [5, 6]], "labels": [[1, 2], [3, 4], [5, 6]]}
    rows = rows_from_columns(columns)
    assert len(rows) == 3
    assert rows[1] == {"input_ids": [3, 4], "labels": [3, 4]}


def test_datasets_slice_becomes_its_rows():
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"input_ids": [[i, i + 1] for i in range(5)], "attention_mask": [[1, 1]] * 5})
    assert rows_from_columns(ds[:3]) == [ds[i] for i in range(3)]


def test_unequal_columns_name_each_length():
    with pytest.raises(ValueError, match=r"'input_ids': 3.*'labels': 2"):
        rows_from_columns({"input_ids": [[1], [2], [3]], "labels": [[1], [2]]})


def test_column_without_a_length_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="'labels'"):
        rows_from_columns({"input_ids": [[1], [2]], "labels": 7})


def test_other_datasets_pass_through_unchanged():
    rows = [{"input_ids": [1]}]
    assert rows_from_columns(rows) is rows


def test_trainer_trains_and_evaluates_on_a_dict_of_columns(tmp_path):
    from clearformer.training import Trainer, TrainingArguments

    from .tiny import tiny_model, tiny_rows

    rows = tiny_rows(n=8)
    columns = {k: [r[k] for r in rows] for k in rows[0]}
    args = TrainingArguments(str(tmp_path), per_device_train_batch_size=4, num_train_epochs=1, report_to="none")
    trainer = Trainer(model=tiny_model(), args=args, train_dataset=columns, eval_dataset=columns)
    assert trainer.train().global_step == 2
    assert "eval_loss" in trainer.evaluate()
