"""Trains the tiny model in its own process, for the kill/resume and torchrun tests.

python run_tiny.py OUT [--kill-at-step N] [--kill-in-save N] [--resume] [--batch B] [--accum A]
Writes the final weights to OUT/final via save_model.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(__file__))

from tiny import tiny_model, tiny_rows  # noqa: E402

from clearformer.training import (  # noqa: E402
    Trainer,
    TrainerCallback,
    TrainingArguments,
    trainer_checkpoints,  # noqa: E402
)


class KillAt(TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def kill_on_nth_save(n: int) -> None:
    """SIGKILL in the middle of writing the n-th checkpoint (after the model, before the optimizer)."""
    real = trainer_checkpoints.save_training_state
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    trainer_checkpoints.save_training_state = dying


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--kill-at-step", type=int)
    p.add_argument("--kill-in-save", type=int)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--accum", type=int, default=2)
    p.add_argument("--epochs", type=float, default=2)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--save-steps", type=int, default=3)
    a = p.parse_args()
    if a.kill_in_save:
        kill_on_nth_save(a.kill_in_save)
    args = TrainingArguments(
        a.out,
        per_device_train_batch_size=a.batch,
        gradient_accumulation_steps=a.accum,
        num_train_epochs=a.epochs,
        learning_rate=1e-3,
        warmup_steps=2,
        save_steps=a.save_steps,
        logging_steps=2,
        seed=7,
        log_level="warning",
    )
    model = tiny_model(hidden_dropout_prob=a.dropout, attention_probs_dropout_prob=a.dropout)
    callbacks = [KillAt(a.kill_at_step)] if a.kill_at_step else []
    trainer = Trainer(model, args, train_dataset=tiny_rows(64), callbacks=callbacks)
    trainer.train(resume_from_checkpoint=True if a.resume else None)
    trainer.save_model(os.path.join(a.out, "final"))


if __name__ == "__main__":
    main()
