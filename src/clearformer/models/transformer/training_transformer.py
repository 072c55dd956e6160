"""Training and decoding pieces for the paper's Transformer: batches, label smoothing, Noam, decoding.

Names follow the course's annotated Transformer (``Batch``, ``LabelSmoothing``, ``NoamOpt``,
``greedy_decode``, ``data_gen``) with current torch APIs (``reduction="sum"``, no ``Variable``).
``beam_search`` is added: the course only decodes greedily.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import torch
from torch import nn

from .modeling_transformer import EncoderDecoder, subsequent_mask


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
    import logging

    log = logging.getLogger(__name__)
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


@torch.no_grad()
def greedy_decode(
    model: EncoderDecoder, src, src_mask, max_len: int, start_symbol: int, end_symbol=None, use_cache: bool = True
):
    """Most likely next token at each step, batched; stops early once every row has produced ``end_symbol``.

    With ``use_cache`` (default) each step feeds only the newest token and reuses the cached keys and
    values of the earlier ones (the course recomputes the whole prefix every step: same result, slower).
    """
    memory = model.encode(src, src_mask)
    ys = torch.full((src.size(0), 1), start_symbol, dtype=src.dtype, device=src.device)
    done = torch.zeros(src.size(0), dtype=torch.bool, device=src.device)
    cache = model.new_cache() if use_cache else None
    for _ in range(max_len - 1):
        if cache is not None:
            out = model.decode(memory, src_mask, ys[:, -1:], None, cache)
        else:
            out = model.decode(memory, src_mask, ys, subsequent_mask(ys.size(1)).to(src.device))
        next_word = model.generator(out[:, -1]).argmax(dim=-1)
        if end_symbol is not None:
            next_word = next_word.masked_fill(done, end_symbol)
            done |= next_word == end_symbol
        ys = torch.cat([ys, next_word[:, None].to(ys.dtype)], dim=1)
        if end_symbol is not None and bool(done.all()):
            break
    return ys


@torch.no_grad()
def beam_search(
    model: EncoderDecoder,
    src: torch.Tensor,
    src_mask: torch.Tensor,
    max_len: int,
    start_symbol: int,
    end_symbol: int,
    beam_size: int = 4,
    length_penalty: float = 1.0,
    early_stopping: bool | str = False,
    use_cache: bool = True,
) -> list[list[int]]:
    """Batched beam search with transformers' bookkeeping; per sentence the ids after the start symbol.

    The same decisions as ``generate(num_beams=...)`` (clearformer's and transformers 5.24's): keep
    2 x beam_size candidates per step, the best ``beam_size`` that did not end keep running, ended
    ones among the top ``beam_size`` join the finished set scored sum-log-prob / length**length_penalty
    (length = generated tokens, eos included), and a sentence stops once no running beam can beat
    its worst finished hypothesis (``early_stopping=False``), once ``beam_size`` are finished
    (``True``), or at ``max_len`` tokens (start included). A test pins it token for token against
    MarianMTModel.generate on a Marian model carrying this model's weights.
    """
    batch, k = src.size(0), beam_size
    dev = src.device
    memory = model.encode(src, src_mask).repeat_interleave(k, dim=0)
    mask = src_mask.repeat_interleave(k, dim=0)
    cache = model.new_cache() if use_cache else None
    running = torch.full((batch, k, max_len), end_symbol, dtype=src.dtype, device=dev)
    running[:, :, 0] = start_symbol
    finished = running.clone()
    running_scores = torch.zeros(batch, k, device=dev)
    running_scores[:, 1:] = -1e9  # all beams start identical: only the first may expand
    finished_scores = torch.full((batch, k), -1e9, device=dev)
    finished_len = torch.zeros(batch, k, dtype=torch.long, device=dev)
    is_finished = torch.zeros(batch, k, dtype=torch.bool, device=dev)
    can_improve = torch.ones(batch, 1, dtype=torch.bool, device=dev)
    keep = 2 * k
    top_k = torch.arange(keep, device=dev) < k
    batch_offset = torch.arange(batch, device=dev)[:, None] * k
    cur = 1  # tokens so far, start symbol included
    while True:
        flat = running.view(batch * k, max_len)
        if cache is not None:
            out = model.decode(memory, mask, flat[:, cur - 1 : cur], None, cache)
        else:
            out = model.decode(memory, mask, flat[:, :cur], subsequent_mask(cur).to(dev))
        log_probs = model.generator(out[:, -1]).float()  # (batch * k, vocab)
        vocab = log_probs.size(-1)
        total = (log_probs.view(batch, k, vocab) + running_scores[:, :, None]).view(batch, k * vocab)
        cand_scores, idx = torch.topk(total, keep)
        cand_beam, cand_token = idx // vocab, idx % vocab
        cand = running.gather(1, cand_beam[:, :, None].expand(-1, -1, max_len)).clone()
        cand[:, :, cur] = cand_token.to(cand.dtype)
        hits = (cand_token == end_symbol) | (cur + 1 >= max_len)
        # Next running beams: the best k candidates that did not end.
        run_scores = cand_scores + hits.float() * -1e9
        sel = torch.topk(run_scores, k)[1]
        running = cand.gather(1, sel[:, :, None].expand(-1, -1, max_len))
        running_scores = run_scores.gather(1, sel)
        source_beam = cand_beam.gather(1, sel)
        # Finished: ended candidates among the top k, length-normalised, while they can still improve.
        fin = cand_scores / (cur**length_penalty)
        full = is_finished.all(dim=-1, keepdim=True) & (early_stopping is True)
        blocked = full | ~can_improve | ~(hits & top_k[None, :])
        fin = fin + blocked.float() * -1e9
        merged = torch.cat([finished_scores, fin], dim=1)
        sel = torch.topk(merged, k)[1]
        finished = torch.cat([finished, cand], dim=1).gather(1, sel[:, :, None].expand(-1, -1, max_len))
        finished_scores = merged.gather(1, sel)
        finished_len = torch.cat([finished_len, torch.full_like(cand_token, cur)], dim=1).gather(1, sel)
        is_finished = torch.cat([is_finished, hits & top_k[None, :]], dim=1).gather(1, sel)
        cur += 1
        best_length = max_len - 1 if early_stopping == "never" and length_penalty > 0.0 else cur - 1
        best_running = running_scores[:, :1] / (best_length**length_penalty)
        worst = torch.where(is_finished, finished_scores.min(dim=1, keepdim=True)[0], -1.0e9)
        can_improve = can_improve & (best_running > worst).any(dim=-1, keepdim=True)
        if not bool(can_improve.any()) or (bool(is_finished.all()) and early_stopping is True) or bool(hits.all()):
            break
        if cache is not None:
            model.reorder_cache(cache, (source_beam + batch_offset).view(-1))
    return [finished[b, 0, 1 : 1 + int(finished_len[b, 0])].tolist() for b in range(batch)]
