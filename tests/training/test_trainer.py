"""The Trainer loop: exact resume after SIGKILL, atomic checkpoints, best model, accumulation."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from clearformer.models.bert.modeling_bert import BertForSequenceClassification, BertForTokenClassification
from clearformer.training import Trainer, TrainerCallback, TrainingArguments, get_last_checkpoint

from .tiny import tiny_config, tiny_model, tiny_rows

HERE = Path(__file__).parent
RUNNER = HERE / "run_tiny.py"


def run_tiny(out: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RUNNER), str(out), *flags], capture_output=True, text=True, timeout=300)


def weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, torch.Tensor]:
    out = tmp_path_factory.mktemp("uninterrupted")
    done = run_tiny(out)
    assert done.returncode == 0, done.stderr
    return weights(out / "final")


def test_resume_after_sigkill_mid_epoch_equals_uninterrupted_run(tmp_path, uninterrupted):
    killed = run_tiny(tmp_path, "--kill-at-step", "11")  # 8 steps per epoch: mid second epoch
    assert killed.returncode == -9, killed.stderr
    assert get_last_checkpoint(tmp_path).endswith("checkpoint-9")
    resumed = run_tiny(tmp_path, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    final = weights(tmp_path / "final")
    assert final.keys() == uninterrupted.keys()
    for key in final:
        assert torch.equal(final[key], uninterrupted[key]), key


def test_kill_during_save_leaves_previous_checkpoint_loadable(tmp_path, uninterrupted):
    killed = run_tiny(tmp_path, "--kill-in-save", "2")  # dies while writing checkpoint-6
    assert killed.returncode == -9, killed.stderr
    assert not (tmp_path / "checkpoint-6").exists()
    assert any(p.name.startswith(".tmp-checkpoint-6") for p in tmp_path.iterdir())
    last = Path(get_last_checkpoint(tmp_path))
    assert last.name == "checkpoint-3"
    BertForSequenceClassification.from_pretrained(last)  # complete and loadable
    resumed = run_tiny(tmp_path, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert not any(p.name.startswith(".tmp-") for p in tmp_path.iterdir())
    final = weights(tmp_path / "final")
    assert all(torch.equal(final[k], uninterrupted[k]) for k in final)


def test_checkpoint_loads_in_transformers(tmp_path):
    transformers = pytest.importorskip("transformers")
    args = TrainingArguments(tmp_path, max_steps=2, save_steps=2, per_device_train_batch_size=4, log_level="error")
    trainer = Trainer(tiny_model(), args, train_dataset=tiny_rows(16))
    trainer.train()
    folder = tmp_path / "checkpoint-2"
    theirs = transformers.BertForSequenceClassification.from_pretrained(folder).eval()
    ours = trainer.model.eval()
    ids = torch.tensor([tiny_rows(2)[0]["input_ids"]])
    assert torch.allclose(theirs(input_ids=ids).logits, ours(input_ids=ids).logits, atol=1e-5)
    state = transformers.TrainerState.load_from_json(str(folder / "trainer_state.json"))
    assert state.global_step == 2
    assert set(torch.load(folder / "rng_state.pth", weights_only=False)) >= {"python", "numpy", "cpu"}


class ScriptedMetric:
    """compute_metrics returning a fixed sequence, so the best evaluation is known in advance."""

    def __init__(self, values: list[float]) -> None:
        self.values = list(values)

    def __call__(self, eval_pred):
        return {"score": self.values.pop(0)}


def test_load_best_model_at_end_picks_the_best_step_and_keeps_it(tmp_path):
    args = TrainingArguments(
        tmp_path,
        evaluation_strategy="steps",
        eval_steps=2,
        save_strategy="steps",
        save_steps=2,
        max_steps=8,
        per_device_train_batch_size=4,
        learning_rate=1e-2,
        load_best_model_at_end=True,
        metric_for_best_model="score",
        save_total_limit=1,
        log_level="error",
    )
    trainer = Trainer(
        tiny_model(),
        args,
        train_dataset=tiny_rows(32),
        eval_dataset=tiny_rows(8, seed=1),
        compute_metrics=ScriptedMetric([0.1, 0.9, 0.5, 0.3]),
    )
    trainer.train()
    assert trainer.state.best_global_step == 4
    assert trainer.state.best_model_checkpoint == str(tmp_path / "checkpoint-4")
    assert sorted(p.name for p in tmp_path.glob("checkpoint-*")) == ["checkpoint-4", "checkpoint-8"]
    best = weights(tmp_path / "checkpoint-4")
    last = weights(tmp_path / "checkpoint-8")
    state = trainer.model.state_dict()
    assert all(torch.equal(state[k], best[k]) for k in best)
    assert not all(torch.equal(state[k], last[k]) for k in last)


def test_metric_name_without_eval_prefix_and_lower_is_better(tmp_path):
    args = TrainingArguments(
        tmp_path,
        evaluation_strategy="epoch",
        save_strategy="epoch",
        num_train_epochs=3,
        per_device_train_batch_size=8,
        load_best_model_at_end=True,
        metric_for_best_model="eval_score",
        greater_is_better=False,
        log_level="error",
    )
    trainer = Trainer(
        tiny_model(),
        args,
        train_dataset=tiny_rows(16),
        eval_dataset=tiny_rows(8),
        compute_metrics=ScriptedMetric([0.5, 0.2, 0.4]),
    )
    trainer.train()
    assert trainer.state.best_global_step == 4


def test_tensorboard_missing_trains_with_one_warning(tmp_path, caplog, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # make the import fail even where installed
    monkeypatch.delitem(sys.modules, "torch.utils.tensorboard", raising=False)
    args = TrainingArguments(
        tmp_path,
        max_steps=4,
        per_device_train_batch_size=4,
        report_to="tensorboard",
        logging_steps=1,
        log_level="warning",
    )
    with caplog.at_level(logging.WARNING, logger="clearformer.training"):
        out = Trainer(tiny_model(), args, train_dataset=tiny_rows(16)).train()
    assert out.global_step == 4
    warnings = [r for r in caplog.records if "tensorboard" in r.getMessage()]
    assert len(warnings) == 1


def test_csv_report_writes_log_history(tmp_path):
    args = TrainingArguments(
        tmp_path, max_steps=4, per_device_train_batch_size=4, report_to="csv", logging_steps=2, log_level="error"
    )
    Trainer(tiny_model(), args, train_dataset=tiny_rows(16)).train()
    lines = (tmp_path / "runs" / "log_history.csv").read_text().splitlines()
    assert lines[0].startswith("step,epoch,loss") and len(lines) >= 3


def _train_params(model, rows, batch, accum, tmp_path):
    args = TrainingArguments(
        tmp_path,
        per_device_train_batch_size=batch,
        gradient_accumulation_steps=accum,
        num_train_epochs=1,
        learning_rate=1e-3,
        save_strategy="no",
        log_level="error",
    )
    Trainer(model, args, train_dataset=rows).train()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_gradient_accumulation_equals_the_big_batch(tmp_path):
    rows = tiny_rows(32)
    big = _train_params(tiny_model(hidden_dropout_prob=0, attention_probs_dropout_prob=0), rows, 8, 1, tmp_path)
    acc = _train_params(tiny_model(hidden_dropout_prob=0, attention_probs_dropout_prob=0), rows, 2, 4, tmp_path)
    for k in big:
        torch.testing.assert_close(acc[k], big[k], atol=1e-5, rtol=0)


def _token_rows(n: int) -> list[dict]:
    """Token labels with a different number of -100s per row, so batch means differ from item means."""
    g = torch.Generator().manual_seed(3)
    rows = []
    for i in range(n):
        length = 3 + i % 6
        ids = torch.randint(3, 50, (length,), generator=g).tolist()
        labels = [t % 3 for t in ids]
        labels[: i % 4] = [-100] * min(i % 4, length)
        rows.append({"input_ids": ids, "attention_mask": [1] * length, "labels": labels})
    return rows


class _Pad:
    """The two tokenizer attributes DataCollatorForTokenClassification uses, for tokenizer-free tests."""

    padding_side = "right"
    pad_token_id = 0

    def pad(self, rows, padding=True, max_length=None, pad_to_multiple_of=None, return_tensors="pt"):
        width = max(len(r["input_ids"]) for r in rows)
        return {k: torch.tensor([list(r[k]) + [0] * (width - len(r[k])) for r in rows]) for k in rows[0]}


def test_gradient_accumulation_normalises_over_all_items_of_the_accumulated_batch(tmp_path):
    from clearformer.data import DataCollatorForTokenClassification

    rows = _token_rows(32)
    cfg = dict(hidden_dropout_prob=0, attention_probs_dropout_prob=0, num_labels=3)
    results = []
    for batch, accum in ((8, 1), (2, 4)):
        torch.manual_seed(0)
        model = BertForTokenClassification.from_config(tiny_config(**cfg))
        args = TrainingArguments(
            tmp_path,
            per_device_train_batch_size=batch,
            gradient_accumulation_steps=accum,
            num_train_epochs=1,
            learning_rate=1e-3,
            save_strategy="no",
            log_level="error",
        )
        Trainer(model, args, train_dataset=rows, data_collator=DataCollatorForTokenClassification(_Pad())).train()
        results.append(model.state_dict())
    for k in results[0]:
        torch.testing.assert_close(results[1][k], results[0][k], atol=1e-5, rtol=0)


def test_unused_columns_are_logged_once_and_user_dataset_untouched(tmp_path, caplog):
    datasets = pytest.importorskip("datasets")
    rows = [{**r, "sentence": "some text", "idx": i} for i, r in enumerate(tiny_rows(16))]
    ds = datasets.Dataset.from_list(rows)
    args = TrainingArguments(tmp_path, max_steps=2, per_device_train_batch_size=4, log_level="info")
    with caplog.at_level(logging.INFO, logger="clearformer.training"):
        Trainer(tiny_model(), args, train_dataset=ds).train()
        Trainer(tiny_model(), args, train_dataset=rows).train()
    lines = [r.getMessage() for r in caplog.records if "have been ignored" in r.getMessage()]
    assert len(lines) == 2 and all("sentence, idx" in line for line in lines)
    assert ds.column_names == ["input_ids", "attention_mask", "label", "sentence", "idx"]
    assert "sentence" in rows[0]


def test_evaluate_and_predict_prefixes_and_shapes(tmp_path):
    args = TrainingArguments(tmp_path, per_device_eval_batch_size=3, log_level="error")

    def accuracy(p):
        preds, labels = p
        return {"accuracy": float((preds.argmax(-1) == labels).mean())}

    trainer = Trainer(tiny_model(), args, eval_dataset=tiny_rows(10), compute_metrics=accuracy)
    metrics = trainer.evaluate()
    assert {"eval_loss", "eval_accuracy", "eval_runtime"} <= set(metrics)
    preds, labels, test_metrics = trainer.predict(tiny_rows(7, seed=4))
    assert preds.shape == (7, 2) and labels.shape == (7,)
    assert "test_accuracy" in test_metrics
    model = trainer.model.eval()
    with torch.no_grad():
        direct = model(input_ids=torch.tensor([r["input_ids"] for r in tiny_rows(7, seed=4)])).logits
    np.testing.assert_allclose(preds, direct.numpy(), atol=1e-5)


def test_train_output_and_logged_header(tmp_path, caplog):
    args = TrainingArguments(
        tmp_path,
        num_train_epochs=2,
        per_device_train_batch_size=8,
        logging_steps=1,
        save_strategy="no",
        evaluation_strategy="epoch",
        log_level="info",
    )
    with caplog.at_level(logging.INFO, logger="clearformer.training"):
        out = Trainer(tiny_model(), args, train_dataset=tiny_rows(16), eval_dataset=tiny_rows(8)).train()
    assert out.global_step == 4 and out.metrics["epoch"] == 2.0
    assert out.training_loss == pytest.approx(out.metrics["train_loss"])
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "***** Running training *****" in text and "Total optimization steps = 4" in text
    assert "Epoch | Step | Training Loss | Validation Loss" in text


def test_callbacks_see_hooks_in_order_and_can_stop_training(tmp_path):
    seen = []

    class Stopper(TrainerCallback):
        def on_train_begin(self, args, state, control, **kw):
            seen.append("train_begin")

        def on_step_end(self, args, state, control, **kw):
            seen.append(f"step{state.global_step}")
            if state.global_step == 3:
                control.should_training_stop = True

        def on_train_end(self, args, state, control, **kw):
            seen.append("train_end")

    args = TrainingArguments(
        tmp_path, max_steps=10, per_device_train_batch_size=4, save_strategy="no", log_level="error"
    )
    out = Trainer(tiny_model(), args, train_dataset=tiny_rows(64), callbacks=[Stopper()]).train()
    assert out.global_step == 3
    assert seen == ["train_begin", "step1", "step2", "step3", "train_end"]


def test_early_stopping_stops_after_patience(tmp_path):
    from clearformer.training import EarlyStoppingCallback

    args = TrainingArguments(
        tmp_path,
        evaluation_strategy="epoch",
        save_strategy="epoch",
        num_train_epochs=10,
        per_device_train_batch_size=8,
        metric_for_best_model="score",
        load_best_model_at_end=True,
        log_level="error",
    )
    trainer = Trainer(
        tiny_model(),
        args,
        train_dataset=tiny_rows(8),
        eval_dataset=tiny_rows(8),
        compute_metrics=ScriptedMetric([0.5, 0.6, 0.6, 0.55, 0.4, 0.9, 0.9, 0.9, 0.9, 0.9]),
        callbacks=[EarlyStoppingCallback(early_stopping_patience=2)],
    )
    out = trainer.train()
    assert out.global_step == 4


def test_model_init_gives_identical_runs(tmp_path):
    args = TrainingArguments(
        tmp_path, max_steps=3, per_device_train_batch_size=4, save_strategy="no", log_level="error"
    )
    results = []
    for _ in range(2):
        trainer = Trainer(
            args=args, model_init=lambda: BertForSequenceClassification(tiny_config()), train_dataset=tiny_rows(16)
        )
        results.append(trainer.train().training_loss)
    assert results[0] == results[1]


def test_save_model_writes_a_from_pretrained_folder(tmp_path):
    trainer = Trainer(tiny_model(), TrainingArguments(tmp_path, log_level="error"))
    trainer.save_model(tmp_path / "saved")
    loaded = BertForSequenceClassification.from_pretrained(tmp_path / "saved")
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), trainer.model.state_dict().values()))
    assert json.loads((tmp_path / "saved" / "training_args.json").read_text())["output_dir"] == str(tmp_path)


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_bf16_on_cpu_trains(tmp_path):
    args = TrainingArguments(
        tmp_path, max_steps=2, per_device_train_batch_size=4, bf16=True, save_strategy="no", log_level="error"
    )
    out = Trainer(tiny_model(), args, train_dataset=tiny_rows(8)).train()
    assert np.isfinite(out.training_loss)


def test_saving_a_step_again_replaces_the_folder_atomically(tmp_path):
    from clearformer.training.trainer_checkpoints import write_checkpoint

    write_checkpoint(tmp_path, 5, lambda d: (d / "a.txt").write_text("first"))
    write_checkpoint(tmp_path, 5, lambda d: (d / "b.txt").write_text("second"))  # rename over an existing folder
    assert sorted(p.name for p in (tmp_path / "checkpoint-5").iterdir()) == ["b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint-5"]


def test_torch_dataset_and_datasets_dataset_train_like_lists(tmp_path):
    datasets = pytest.importorskip("datasets")
    rows = tiny_rows(16)

    class Rows(torch.utils.data.Dataset):
        def __len__(self):
            return len(rows)

        def __getitem__(self, i):
            return {k: torch.tensor(v) for k, v in rows[i].items()}

    losses = []
    for data in (rows, Rows(), datasets.Dataset.from_list(rows)):
        args = TrainingArguments(
            tmp_path, max_steps=3, per_device_train_batch_size=4, save_strategy="no", log_level="error"
        )
        losses.append(Trainer(tiny_model(), args, train_dataset=data).train().training_loss)
    assert losses[0] == pytest.approx(losses[1], abs=1e-6) and losses[0] == pytest.approx(losses[2], abs=1e-6)
