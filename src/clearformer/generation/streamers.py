"""Streaming: see tokens as they are generated, as a callback or as an iterator.

``generate(..., streamer=s)`` calls ``s.put(ids)`` once with the prompt and then once per new
token, and ``s.end()`` at the end. Text is released up to the last space or newline so a word
split over several BPE tokens is never shown half-decoded; the rest is flushed at ``end``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from queue import Queue
from typing import Any

import torch


class BaseStreamer:
    def put(self, value: torch.Tensor) -> None:
        raise NotImplementedError

    def end(self) -> None:
        raise NotImplementedError


class TextStreamer(BaseStreamer):
    """Decode as tokens arrive and hand finished text to ``on_finalized_text`` (prints by default).

    ``callback(text, stream_end)`` replaces printing, e.g. to feed a UI. Batch size 1 only.
    """

    def __init__(
        self,
        tokenizer: Any,
        skip_prompt: bool = False,
        callback: Callable[[str, bool], None] | None = None,
        **decode_kwargs: Any,
    ) -> None:
        self.tokenizer = tokenizer
        self.skip_prompt = skip_prompt
        self.callback = callback
        self.decode_kwargs = decode_kwargs
        self.token_cache: list[int] = []
        self.print_len = 0
        self.next_tokens_are_prompt = True

    def put(self, value: torch.Tensor) -> None:
        if value.dim() > 1 and value.shape[0] > 1:
            raise ValueError(f"streamers handle one sequence at a time, got a batch of {value.shape[0]}")
        ids = value.reshape(-1).tolist()
        if self.skip_prompt and self.next_tokens_are_prompt:
            self.next_tokens_are_prompt = False
            return
        self.next_tokens_are_prompt = False
        self.token_cache.extend(ids)
        text = self.tokenizer.decode(self.token_cache, **self.decode_kwargs)
        if text.endswith("\n"):
            printable = text[self.print_len :]
            self.token_cache, self.print_len = [], 0
        elif text.endswith("\ufffd"):
            printable = ""  # an incomplete UTF-8 character: wait for the next byte token
        else:
            cut = max(text.rfind(" "), self.print_len - 1) + 1
            printable = text[self.print_len : cut]
            self.print_len = cut if cut > self.print_len else self.print_len
        if printable:
            self.on_finalized_text(printable)

    def end(self) -> None:
        text = ""
        if self.token_cache:
            text = self.tokenizer.decode(self.token_cache, **self.decode_kwargs)[self.print_len :]
        self.token_cache, self.print_len = [], 0
        self.next_tokens_are_prompt = True
        self.on_finalized_text(text, stream_end=True)

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        if self.callback is not None:
            self.callback(text, stream_end)
            return
        sys.stdout.write(text + ("\n" if stream_end else ""))
        sys.stdout.flush()


class TextIteratorStreamer(TextStreamer):
    """Text chunks through a queue: run ``generate`` in a thread and iterate in the caller.

    ``for text in streamer: ...`` ends when generation ends; ``timeout`` (seconds) raises
    ``queue.Empty`` if no text arrives in time.
    """

    def __init__(
        self, tokenizer: Any, skip_prompt: bool = False, timeout: float | None = None, **decode_kwargs: Any
    ) -> None:
        super().__init__(tokenizer, skip_prompt, **decode_kwargs)
        self.text_queue: Queue = Queue()
        self.stop_signal = None
        self.timeout = timeout

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        if text:
            self.text_queue.put(text, timeout=self.timeout)
        if stream_end:
            self.text_queue.put(self.stop_signal, timeout=self.timeout)

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        value = self.text_queue.get(timeout=self.timeout)
        if value is self.stop_signal:
            raise StopIteration
        return value
