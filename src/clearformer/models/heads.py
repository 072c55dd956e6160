"""Losses and helpers every encoder family shares (BERT, DistilBERT, RoBERTa)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..configuration_utils import PretrainedConfig


def classification_loss(
    config: PretrainedConfig, logits: torch.Tensor, labels: torch.Tensor | None
) -> torch.Tensor | None:
    """Regression (MSE), single-label (CE) or multi-label (BCE) by ``config.problem_type``.

    When problem_type is unset it is inferred as the reference does — num_labels == 1 is
    regression, integer labels are single-label, float labels multi-label — and stored.
    """
    if labels is None:
        return None
    n = config.num_labels
    if config.problem_type is None:
        if n == 1:
            config.problem_type = "regression"
        elif labels.dtype in (torch.long, torch.int):
            config.problem_type = "single_label_classification"
        else:
            config.problem_type = "multi_label_classification"
    if config.problem_type == "regression":
        return F.mse_loss(logits.squeeze(), labels.squeeze().to(logits.dtype)) if n == 1 else F.mse_loss(logits, labels)
    if config.problem_type == "single_label_classification":
        if labels.numel() and int(labels.max()) >= n:
            raise ValueError(f"label {int(labels.max())} is outside num_labels={n} (labels 0..{n - 1})")
        return F.cross_entropy(logits.view(-1, n), labels.view(-1))
    if config.problem_type == "multi_label_classification":
        return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
    raise ValueError(
        f"unknown problem_type {config.problem_type!r}; use regression, single_label_classification "
        "or multi_label_classification"
    )


def token_loss(logits: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor | None:
    """Cross-entropy per token over the last dimension (masked LM, token classification), in fp32.

    Labels of -100 mark positions that carry no label (sub-words, specials, unmasked tokens).
    """
    if labels is None:
        return None
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)


def causal_lm_loss(logits: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor | None:
    """Next-token cross-entropy: position t predicts label t+1, so ``labels=input_ids`` is the usual call."""
    if labels is None:
        return None
    # Shift the labels, not the logits: the last position gets -100 (nothing follows it). This
    # averages over the same rows in the same order as the reference (bit-equal losses) and never
    # copies the (batch, length, vocab) logits, which a slice of them would.
    return token_loss(logits, F.pad(labels[:, 1:], (0, 1), value=-100))


def qa_loss(
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    start_positions: torch.Tensor | None,
    end_positions: torch.Tensor | None,
) -> torch.Tensor | None:
    """Mean of start and end cross-entropy; positions past the sequence are clamped and ignored."""
    if start_positions is None or end_positions is None:
        return None
    length = start_logits.shape[1]
    start = start_positions.view(-1).clamp(0, length)
    end = end_positions.view(-1).clamp(0, length)
    return (
        F.cross_entropy(start_logits, start, ignore_index=length)
        + F.cross_entropy(end_logits, end, ignore_index=length)
    ) / 2


def expand_head_mask(head_mask: torch.Tensor | None, num_layers: int, dtype: torch.dtype) -> list[torch.Tensor] | None:
    """(H,) or (L, H) with 1 = keep -> a per-layer (1, H, 1, 1) multiplier on attention weights."""
    if head_mask is None:
        return None
    if head_mask.dim() == 1:
        head_mask = head_mask[None].expand(num_layers, -1)
    if head_mask.dim() != 2 or head_mask.shape[0] != num_layers:
        raise ValueError(f"head_mask must be (num_heads,) or ({num_layers}, num_heads), got {tuple(head_mask.shape)}")
    return [m.to(dtype)[None, :, None, None] for m in head_mask]


def want_dict(model, return_dict: bool | None) -> bool:
    """The per-call ``return_dict`` if given, else the config's (HF's precedence)."""
    return model.config.return_dict if return_dict is None else return_dict


def flatten_choices(input_ids, kwargs: dict) -> tuple[int, object, dict]:
    """(batch, num_choices, seq[, hidden]) inputs -> (num_choices, flat input_ids, flat kwargs).

    Every choice becomes its own sequence, so a batch costs batch x num_choices forwards.
    """
    source = input_ids if input_ids is not None else kwargs.get("inputs_embeds")
    if source is None or source.dim() < 3:
        shape = None if source is None else tuple(source.shape)
        raise ValueError(f"multiple-choice inputs must be (batch, num_choices, seq_len), got {shape}")
    flat = {k: (v.flatten(0, 1) if isinstance(v, torch.Tensor) and k != "head_mask" else v) for k, v in kwargs.items()}
    return source.shape[1], (input_ids.flatten(0, 1) if input_ids is not None else None), flat
