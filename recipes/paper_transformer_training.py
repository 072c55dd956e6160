"""Training pieces for the paper's Transformer, as chapter 2.2.1 (The Annotated Transformer) writes them.

``Batch``, ``LabelSmoothing``, ``NoamOpt``/``rate``/``get_std_opt``, ``SimpleLossCompute``,
``run_epoch`` and the copy task's ``data_gen``, with current torch APIs (``reduction="sum"``, no
``Variable``). They are the course's training loop for one model, not a library API, so they live
with the recipes (translate_multi30k.py imports them); clearformer's own loop is ``training/``.
Import from a recipe (its folder is on sys.path) or a test: ``from paper_transformer_training import ...``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import torch
from torch import nn

from clearformer.models.transformer.modeling_transformer import EncoderDecoder, subsequent_mask

log = logging.getLogger(__name__)


class Batch:
    """Source/target ids with masks; the target is split into decoder input (``tgt``) and labels (``tgt_y``)."""

    def __init__(self, src: torch.Tensor, tgt: torch.Tensor | None = None, pad: int = 0) -> None:
        self.src = src
        self.src_mask = (src != pad).unsqueeze(-2)  # (B, 1, S)
        if tgt is not None:
            self.tgt = tgt[:, :-1]
            self.tgt_y = tgt[:, 1:]
            self.tgt_mask = self.make_std_mask(self.tgt, pad)  # (B, T, T)
            self.ntokens = int((self.tgt_y != pad).sum())

    @staticmethod
    def make_std_mask(tgt: torch.Tensor, pad: int) -> torch.Tensor:
        """Hide padding and future words."""
        return (tgt != pad).unsqueeze(-2) & subsequent_mask(tgt.size(-1)).to(tgt.device)


class LabelSmoothing(nn.Module):
    """KL divergence to a smoothed target: 1-ε on the true token, ε spread over the rest except padding."""

    def __init__(self, size: int, padding_idx: int, smoothing: float = 0.0) -> None:
        super().__init__()
        self.criterion = nn.KLDivLoss(reduction="sum")
        self.padding_idx = padding_idx
        self.confidence = 1.0 - smoothing
        self.smoothing = smoothing
        self.size = size
        self.true_dist: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """x: (N, size) log-probabilities; target: (N,) ids. Returns the summed loss."""
        if x.size(1) != self.size:
            raise ValueError(f"log-probabilities have {x.size(1)} classes but LabelSmoothing was built for {self.size}")
        true_dist = torch.full_like(x, self.smoothing / (self.size - 2))  # minus the true token and padding
        true_dist.scatter_(1, target.unsqueeze(1), self.confidence)
        true_dist[:, self.padding_idx] = 0
        true_dist.masked_fill_((target == self.padding_idx).unsqueeze(1), 0.0)
        self.true_dist = true_dist
        return self.criterion(x, true_dist.detach())


def rate(step: int, model_size: int, factor: float, warmup: int) -> float:
    """Noam schedule: factor · d^-0.5 · min(step^-0.5, step · warmup^-1.5) — linear warm-up, then 1/sqrt decay."""
    step = max(step, 1)  # step 0 would divide by zero
    return factor * model_size**-0.5 * min(step**-0.5, step * warmup**-1.5)


class NoamOpt:
    """Optimizer wrapper that sets the learning rate from ``rate`` before every step."""

    def __init__(self, model_size: int, factor: float, warmup: int, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer
        self._step = 0
        self.warmup = warmup
        self.factor = factor
        self.model_size = model_size
        self._rate = 0.0

    def step(self) -> None:
        self._step += 1
        self._rate = self.rate()
        for p in self.optimizer.param_groups:
            p["lr"] = self._rate
        self.optimizer.step()

    def zero_grad(self) -> None:
        self.optimizer.zero_grad()

    def rate(self, step: int | None = None) -> float:
        return rate(self._step if step is None else step, self.model_size, self.factor, self.warmup)


def get_std_opt(model: EncoderDecoder, factor: float = 2.0, warmup: int = 4000) -> NoamOpt:
    """The paper's optimiser: Adam(β=(0.9, 0.98), ε=1e-9) under the Noam schedule."""
    d_model = model.src_embed[0].d_model
    adam = torch.optim.Adam(model.parameters(), lr=0, betas=(0.9, 0.98), eps=1e-9)
    return NoamOpt(d_model, factor, warmup, adam)


class SimpleLossCompute:
    """Generator + criterion; backward and an optimiser step when training. Returns the summed loss."""

    def __init__(self, generator: nn.Module, criterion: nn.Module, opt: NoamOpt | None = None) -> None:
        self.generator, self.criterion, self.opt = generator, criterion, opt

    def __call__(self, x: torch.Tensor, y: torch.Tensor, norm: int) -> float:
        x = self.generator(x)
        loss = self.criterion(x.reshape(-1, x.size(-1)), y.reshape(-1)) / max(norm, 1)
        if self.opt is not None:
            loss.backward()
            self.opt.step()
            self.opt.zero_grad()
        return loss.item() * norm


def run_epoch(data_iter, model: EncoderDecoder, loss_compute: SimpleLossCompute, log_every: int = 50) -> float:
    """One pass; returns the loss per target token. Logs tokens/second like the course (every 50 steps)."""
    start, total_tokens, total_loss, tokens = time.time(), 0, 0.0, 0
    for i, batch in enumerate(data_iter):
        out = model(batch.src, batch.tgt, batch.src_mask, batch.tgt_mask)
        loss = loss_compute(out, batch.tgt_y, batch.ntokens)
        total_loss += loss
        total_tokens += batch.ntokens
        tokens += batch.ntokens
        if i % log_every == 1:
            elapsed = max(time.time() - start, 1e-9)
            log.info("Epoch Step: %d Loss: %f Tokens per Sec: %f", i, loss / max(batch.ntokens, 1), tokens / elapsed)
            start, tokens = time.time(), 0
    return total_loss / max(total_tokens, 1)


def data_gen(vocab: int, batch: int, nbatches: int, length: int = 10, generator=None) -> Iterator[Batch]:
    """The copy task: random ids 1..vocab-1 of ``length``, the first set to 1 (start symbol); tgt == src."""
    for _ in range(nbatches):
        data = torch.randint(1, vocab, (batch, length), generator=generator)
        data[:, 0] = 1
        yield Batch(data, data.clone(), pad=0)
