"""PreTrainedModel: loading, saving, initialisation, embeddings and weight tying for every model.

``from_pretrained`` reads config.json, builds the model, loads the weights through the one loader
in weight_files/ (strict, with a report of newly initialised weights) and returns it in eval mode.
``save_pretrained`` writes files transformers 5.24 loads (safetensors by default, tied duplicates
left out as it expects).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from . import weight_files
from .configuration_utils import PretrainedConfig
from .hub import resolve_pretrained_dir
from .lazy_init import init_missing, parameters_on_meta, raise_if_meta
from .nn.attention import check_implementation
from .utils.arguments import ChecksForwardKwargs

logger = logging.getLogger(__name__)

_DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "half": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float64": torch.float64,
}


def resolve_dtype(dtype: Any, config: PretrainedConfig, state: dict[str, torch.Tensor] | None) -> torch.dtype:
    """``dtype``/``torch_dtype`` argument -> torch.dtype; "auto" takes config.json's, else the weights'."""
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        if config.dtype:
            return resolve_dtype(config.dtype, config, None)
        floats = [t.dtype for t in (state or {}).values() if t.is_floating_point()]
        return floats[0] if floats else torch.float32
    name = str(dtype).removeprefix("torch.")
    if name not in _DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPES)}, a torch.dtype or 'auto'")
    return _DTYPES[name]


def _assignable(state: dict[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """Tensors a model can own: contiguous, its own storage (a .bin may hold views of one buffer).

    On Windows every tensor is copied: a memory-mapped file cannot be replaced while mapped, and
    saving the fine-tuned model over the folder it came from is a common thing to do.
    """
    current = model.state_dict(keep_vars=True)
    out, seen = {}, set()
    copy_all = os.name == "nt"
    for key, value in state.items():
        ptr = value.untyped_storage().data_ptr() if value.numel() else None
        if copy_all or not value.is_contiguous() or ptr in seen or value.dtype != current[key].dtype:
            value = value.to(current[key].dtype).contiguous().clone()
        elif ptr is not None:
            seen.add(ptr)
        out[key] = value
    return out


class PreTrainedModel(ChecksForwardKwargs, nn.Module):
    """Base of every model. Subclasses set the class tables below (HF's names, so readers know them)."""

    config_class: ClassVar[type[PretrainedConfig]] = PretrainedConfig
    base_model_prefix: ClassVar[str] = ""
    main_input_name: ClassVar[str] = "input_ids"
    # Output weight name -> input weight name, tied when config.tie_word_embeddings.
    _tied_weights_keys: ClassVar[dict[str, str]] = {}
    # Regexes of keys a checkpoint may lack / may carry without it being an error.
    _keys_to_ignore_on_load_missing: ClassVar[list[str]] = []
    _keys_to_ignore_on_load_unexpected: ClassVar[list[str]] = []
    # Regexes of keys that may be missing and are then initialised and reported (not an error).
    _keys_initialized_when_missing: ClassVar[list[str]] = []
    # Names a ``forward(..., **kwargs)`` passes on (to the base model); any other keyword is an
    # error (utils/arguments.py). None: the class does not say, so its ``**kwargs`` are not checked.
    _forward_kwargs: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        if not isinstance(config, PretrainedConfig):
            raise TypeError(f"{type(self).__name__} needs a {self.config_class.__name__}, got {type(config)}")
        config.validate()  # again: attributes may have been edited since; fail before allocating
        self.config = config

    # --- initialisation and tying ---------------------------------------------------------------
    def post_init(self) -> None:
        self.apply(self._init_weights)
        self.tie_weights()

    def _init_weights(self, module: nn.Module) -> None:
        """BERT-style init: N(0, initializer_range) for matrices, zero biases, LayerNorm to identity."""
        std = getattr(self.config, "initializer_range", 0.02)
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=std)
            if module.padding_idx is not None:
                with torch.no_grad():
                    module.weight[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def init_weights(self) -> None:
        """The older name of ``post_init`` (chapter 3's classes call it): prune, initialise, tie.

        It goes through ``self._init_weights``, so a subclass's own rule is the one applied.
        """
        pruned = getattr(self.config, "pruned_heads", None)
        if pruned:
            self.prune_heads(pruned)
        self.post_init()

    # Checkpoints written by TensorFlow are not read (DESIGN: safetensors and torch files only); the
    # attribute exists because chapter 3's BertPreTrainedModel sets it.
    load_tf_weights: ClassVar[Any] = None

    def prune_heads(self, heads_to_prune: dict[int, list[int]]) -> None:
        """Remove attention heads: ``{layer: [head, ...]}``; the model's ``_prune_heads`` does the work."""
        if not hasattr(self.base_model, "_prune_heads"):
            raise NotImplementedError(
                f"{type(self).__name__} has no _prune_heads method; head pruning is available for "
                "models whose base class defines it (the course's own BertModel does)"
            )
        # Recorded on the config (as transformers does) so a saved, pruned model says what it lacks.
        record = dict(getattr(self.config, "pruned_heads", None) or {})
        for layer, heads in heads_to_prune.items():
            record[layer] = sorted(set(record.get(layer, [])) | set(heads))
        self.config.pruned_heads = record
        self.base_model._prune_heads(heads_to_prune)

    # --- masks in the pre-4.40 style (additive, broadcastable), as chapter 3 calls them ---------
    def get_extended_attention_mask(
        self,
        attention_mask: torch.Tensor,
        input_shape: tuple[int, ...],
        device: torch.device | None = None,
        dtype: torch.dtype | None = None,
    ) -> torch.Tensor:
        """1/0 mask -> additive (batch, 1, [q,] k) mask: 0 where attended, dtype's min where not.

        A (batch, k) mask of a decoder (``config.is_decoder``) also hides future positions. The
        minimum of the dtype, not -10000 as in the course's printout, is what transformers 4.57
        uses (tests/models/test_model_base_helpers.py compares the two).
        """
        dtype = self.dtype if dtype is None else dtype
        if attention_mask.dim() == 3:
            extended = attention_mask[:, None, :, :]
        elif attention_mask.dim() == 2 and getattr(self.config, "is_decoder", False):
            batch, length = input_shape
            past = attention_mask.shape[1] - length
            seen = torch.arange(attention_mask.shape[1], device=attention_mask.device)
            now = torch.arange(length, device=attention_mask.device) + past
            causal = (seen[None, :] <= now[:, None]).to(attention_mask.dtype)  # (q, k)
            extended = causal[None, None] * attention_mask[:, None, None, :]
        elif attention_mask.dim() == 2:
            extended = attention_mask[:, None, None, :]
        else:
            raise ValueError(
                f"attention_mask must be (batch, seq_len) or (batch, q_len, k_len), got shape "
                f"{tuple(attention_mask.shape)} for input of shape {tuple(input_shape)}"
            )
        extended = extended.to(dtype)
        return (1.0 - extended) * torch.finfo(dtype).min

    def invert_attention_mask(self, encoder_attention_mask: torch.Tensor) -> torch.Tensor:
        """Encoder 1/0 mask (batch, k) or (batch, q, k) -> additive mask for cross-attention."""
        if encoder_attention_mask.dim() not in (2, 3):
            raise ValueError(
                f"encoder_attention_mask must be (batch, seq_len) or (batch, q_len, k_len), got shape "
                f"{tuple(encoder_attention_mask.shape)}"
            )
        extended = encoder_attention_mask[:, None] if encoder_attention_mask.dim() == 3 else encoder_attention_mask
        extended = extended[:, None, None, :] if encoder_attention_mask.dim() == 2 else extended
        extended = extended.to(self.dtype)
        return (1.0 - extended) * torch.finfo(self.dtype).min

    def get_head_mask(
        self, head_mask: torch.Tensor | None, num_hidden_layers: int, is_attention_chunked: bool = False
    ) -> torch.Tensor | list[None]:
        """(H,) or (L, H) keep-mask -> (L, 1, H, 1, 1) multipliers in the model's dtype; None -> [None] * L."""
        if head_mask is None:
            return [None] * num_hidden_layers
        if head_mask.dim() == 1:
            head_mask = head_mask[None, None, :, None, None].expand(num_hidden_layers, -1, -1, -1, -1)
        elif head_mask.dim() == 2:
            head_mask = head_mask[:, None, :, None, None]
        else:
            raise ValueError(f"head_mask must be (num_heads,) or (num_layers, num_heads), got {tuple(head_mask.shape)}")
        if head_mask.shape[0] != num_hidden_layers:
            raise ValueError(f"head_mask has {head_mask.shape[0]} layers but the model has {num_hidden_layers}")
        head_mask = head_mask.to(self.dtype)
        return head_mask.unsqueeze(-1) if is_attention_chunked else head_mask

    @property
    def base_model(self) -> nn.Module:
        return getattr(self, self.base_model_prefix, self)

    def get_input_embeddings(self) -> nn.Embedding:
        base = self.base_model
        if base is self:
            raise NotImplementedError(f"{type(self).__name__} must define get_input_embeddings")
        return base.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        base = self.base_model
        if base is self:
            raise NotImplementedError(f"{type(self).__name__} must define set_input_embeddings")
        base.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Linear | None:
        return None

    def tie_weights(self) -> None:
        """Share the output projection with the input embedding (one matrix, one set of gradients)."""
        out = self.get_output_embeddings()
        if out is not None and getattr(self.config, "tie_word_embeddings", True):
            out.weight = self.get_input_embeddings().weight
        # The rest of the table (a decoder bias that is the head's own bias): loading with
        # assign=True puts a new Parameter under one name, so the other name must follow it.
        for out_key, in_key in self._tied_weights_keys.items():
            if out_key.endswith(".bias"):
                owner, _, name = out_key.rpartition(".")
                setattr(self.get_submodule(owner), name, self.get_parameter(in_key))

    def tied_weight_keys(self) -> list[str]:
        """Keys that share storage with another key; a checkpoint may omit them."""
        if not getattr(self.config, "tie_word_embeddings", True):
            return [k for k in self._tied_weights_keys if k.endswith(".bias")]
        return list(self._tied_weights_keys)

    def resize_token_embeddings(
        self, new_num_tokens: int | None = None, pad_to_multiple_of: int | None = None
    ) -> nn.Embedding:
        """Grow or shrink the vocabulary (e.g. after ``tokenizer.add_tokens``); new rows are initialised."""
        old = self.get_input_embeddings()
        if new_num_tokens is None:
            new_num_tokens = old.num_embeddings
        if pad_to_multiple_of:
            new_num_tokens = -(-new_num_tokens // pad_to_multiple_of) * pad_to_multiple_of
        new = nn.Embedding(
            new_num_tokens,
            old.embedding_dim,
            padding_idx=old.padding_idx,
            device=old.weight.device,
            dtype=old.weight.dtype,
        )
        self._init_weights(new)
        n = min(old.num_embeddings, new_num_tokens)
        with torch.no_grad():
            new.weight[:n] = old.weight[:n]
        self.set_input_embeddings(new)
        self._resize_output_bias(new_num_tokens)
        self.config.vocab_size = new_num_tokens
        self.tie_weights()
        return new

    def _resize_output_bias(self, new_num_tokens: int) -> None:
        out = self.get_output_embeddings()
        if out is None:
            return
        if not getattr(self.config, "tie_word_embeddings", True):
            old_w = out.weight
            new_w = torch.zeros(new_num_tokens, old_w.shape[1], dtype=old_w.dtype, device=old_w.device)
            nn.init.normal_(new_w, std=getattr(self.config, "initializer_range", 0.02))
            n = min(old_w.shape[0], new_num_tokens)
            new_w[:n] = old_w.detach()[:n]
            out.weight = nn.Parameter(new_w)
        if getattr(out, "bias", None) is not None:
            old_b = out.bias.detach()
            new_b = torch.zeros(new_num_tokens, dtype=old_b.dtype, device=old_b.device)
            n = min(old_b.shape[0], new_num_tokens)
            new_b[:n] = old_b[:n]
            self._set_output_bias(nn.Parameter(new_b))
        out.out_features = new_num_tokens

    def _set_output_bias(self, bias: nn.Parameter) -> None:
        self.get_output_embeddings().bias = bias

    def gradient_checkpointing_enable(self, **_: Any) -> None:
        """Recompute each layer in the backward pass instead of storing its activations.

        Trades ~30% more compute for much less memory (the course's OOM advice). Every layer stack
        that supports it carries a ``gradient_checkpointing`` flag; it acts only in training mode.
        """
        stacks = [m for m in self.modules() if hasattr(m, "gradient_checkpointing")]
        if not stacks:
            raise ValueError(f"{type(self).__name__} does not support gradient checkpointing")
        for m in stacks:
            m.gradient_checkpointing = True

    def gradient_checkpointing_disable(self) -> None:
        for m in self.modules():
            if hasattr(m, "gradient_checkpointing"):
                m.gradient_checkpointing = False

    @property
    def is_gradient_checkpointing(self) -> bool:
        return any(getattr(m, "gradient_checkpointing", False) for m in self.modules())

    def compiled_for_inference(self, freeze: bool = True, dynamic: bool | None = None, **options: Any):
        """Deprecated alias of ``clearformer.compile_for_inference(model, ...)`` (inference/ holds
        the speed paths; the model classes stay the reference)."""
        import warnings

        from .inference import compile_for_inference

        warnings.warn(
            "model.compiled_for_inference() is deprecated; use clearformer.compile_for_inference(model, ...)",
            DeprecationWarning,
            stacklevel=2,
        )
        return compile_for_inference(self, freeze=freeze, dynamic=dynamic, **options)

    def num_parameters(self, only_trainable: bool = False, exclude_embeddings: bool = False) -> int:
        """Parameters counted once even when tied (as HF counts them)."""
        skip = set()
        if exclude_embeddings:
            skip = {id(m.weight) for m in self.modules() if isinstance(m, nn.Embedding)}
        seen, total = set(), 0
        for p in self.parameters():
            if id(p) in seen or id(p) in skip or (only_trainable and not p.requires_grad):
                continue
            seen.add(id(p))
            total += p.numel()
        return total

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(p.dtype for p in self.parameters() if p.is_floating_point())

    # --- construction ------------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: PretrainedConfig, **kwargs: Any) -> PreTrainedModel:
        attn = kwargs.pop("attn_implementation", None)
        if attn:
            config._attn_implementation = check_implementation(attn)
        return cls(config, **kwargs)

    _from_config = from_config

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        *model_args: Any,
        config: PretrainedConfig | None = None,
        dtype: Any = None,
        torch_dtype: Any = None,
        device: str | torch.device | None = None,
        device_map: str | torch.device | None = None,
        ignore_mismatched_sizes: bool = False,
        output_loading_info: bool = False,
        attn_implementation: str | None = None,
        state_dict: dict[str, torch.Tensor] | None = None,
        strict: bool = False,
        quantize: str | None = None,
        **kwargs: Any,
    ) -> PreTrainedModel:
        """Load a model folder (or a hub id already in the local cache). Never downloads.

        Extra keyword arguments override config.json fields (``num_labels=3``); the rest go to the
        model's constructor (``add_pooling_layer=False``). Checkpoint weights the model has no place
        for (e.g. layers beyond ``num_hidden_layers``) are named in a warning; ``strict=True`` raises.
        ``dtype=torch.bfloat16`` on CPU and ``quantize="int8"`` also run
        ``clearformer.optimize_for_inference`` (see ``print(model)``).
        """
        folder = resolve_pretrained_dir(pretrained_model_name_or_path)
        if config is None:
            config, model_kwargs = cls.config_class.from_pretrained(folder, return_unused_kwargs=True, **kwargs)
        else:
            model_kwargs = kwargs
        if attn_implementation:
            config._attn_implementation = check_implementation(attn_implementation)
        config.name_or_path = str(pretrained_model_name_or_path)
        if state_dict is None:
            state_dict = weight_files.read_state_dict(folder)  # raises before anything is built
        # Parameters on meta: the checkpoint replaces them, drawing them costs seconds (lazy_init.py).
        with parameters_on_meta():
            model = cls(config, *model_args, **model_kwargs)
        loadable, info = weight_files.reconcile(model, state_dict, ignore_mismatched_sizes, strict)
        init_missing(model, loaded=loadable, tied=model.tied_weight_keys())
        target = resolve_dtype(dtype if dtype is not None else torch_dtype, config, state_dict)
        # assign=True: the parameters become the tensors just read, instead of a second copy of them.
        model.load_state_dict(_assignable(loadable, model), strict=False, assign=True)
        model.tie_weights()
        raise_if_meta(model)
        _report(type(model).__name__, str(pretrained_model_name_or_path), info)
        model.to(dtype=target)
        where = device if device is not None else device_map
        if where is not None and where != "auto":
            model.to(device=where)
        elif where == "auto" and torch.cuda.is_available():
            model.to(device="cuda")
        model.eval()
        if quantize is not None or (target == torch.bfloat16 and model.device.type == "cpu"):
            # The one call from the core up into inference/, made only on these explicit requests.
            from .inference import optimize_for_inference

            optimize_for_inference(model, quantize=quantize)
        return (model, info.as_dict()) if output_loading_info else model

    def save_pretrained(
        self,
        save_directory: str | os.PathLike,
        safe_serialization: bool = True,
        max_shard_size: int | str = "5GB",
        state_dict: dict[str, torch.Tensor] | None = None,
        **_: Any,
    ) -> None:
        """Write config.json and the weights (atomically per file) so transformers 5.24 loads them."""
        folder = Path(save_directory)
        if any(name.endswith("weight_int8") for name, _ in self.named_buffers()):
            raise ValueError(
                "this model was quantized to int8 for inference; its int8 layers are not the checkpoint "
                "format and cannot be turned back into it: save the model before optimize_for_inference"
                "(quantize='int8') (or load the checkpoint again without quantize=)"
            )
        if folder.is_file():
            raise ValueError(f"save_pretrained needs a directory, but {folder} is a file")
        folder.mkdir(parents=True, exist_ok=True)
        self.config.architectures = [type(self).__name__]
        if self.dtype != torch.float32:
            self.config.dtype = str(self.dtype).removeprefix("torch.")
        self.config.save_pretrained(folder)
        if state_dict is None:
            state_dict = self._state_dict_for_saving()
        weight_files.write_state_dict(state_dict, folder, safe_serialization, max_shard_size)

    def _state_dict_for_saving(self) -> dict[str, torch.Tensor]:
        # safetensors refuses shared storage; tied copies are rebuilt on load, so leave them out.
        state = self.state_dict()
        for key in self.tied_weight_keys():
            if key in state:
                del state[key]
        seen: dict[int, str] = {}
        for key in list(state):
            ptr = state[key].untyped_storage().data_ptr()
            if state[key].numel() and ptr in seen:
                del state[key]
            else:
                seen[ptr] = key
        return state


def _report(model_name: str, source: str, info: weight_files.LoadingInfo) -> None:
    if info.newly_initialized:
        logger.warning(
            "%s: these weights are not in %s and were newly initialised: %s. This is expected when a "
            "new head is put on a base checkpoint; train the model before using its predictions.",
            model_name,
            source,
            ", ".join(info.newly_initialized),
        )
    if info.unused_own:
        logger.warning(
            "%s: %d weights of %s have no place in this model and were NOT loaded: %s. If the config "
            "was changed on purpose (fewer layers) this is expected; otherwise check config.json against "
            "the checkpoint. Pass strict=True to make this an error.",
            model_name,
            len(info.unused_own),
            source,
            ", ".join(info.unused_own),
        )
    if info.unused:
        logger.info(
            "%s: %d weights of %s belong to a head this model does not have and were not used: %s",
            model_name,
            len(info.unused),
            source,
            ", ".join(info.unused),
        )


def validate_input_ids(input_ids: torch.Tensor, vocab_size: int) -> None:
    """Raise a clear error for ids outside the embedding instead of an opaque index error."""
    if input_ids.numel() == 0 or torch.compiler.is_compiling():
        return  # a compiled graph cannot branch on values: it would break the graph on every call
    hi, lo = int(input_ids.max()), int(input_ids.min())
    if hi >= vocab_size or lo < 0:
        bad = hi if hi >= vocab_size else lo
        raise IndexError(
            f"input_ids contains {bad} but the embedding has {vocab_size} rows (ids 0..{vocab_size - 1}); "
            "did you add tokens without model.resize_token_embeddings(len(tokenizer))?"
        )


def validate_attention_mask(input_shape: tuple[int, ...], attention_mask: torch.Tensor | None, past: int = 0) -> None:
    if attention_mask is None:
        return
    want = (input_shape[0], input_shape[1] + past)
    if tuple(attention_mask.shape) != want:
        raise ValueError(
            f"attention_mask has shape {tuple(attention_mask.shape)} but input_ids is {tuple(input_shape)}"
            + (f" after {past} cached positions" if past else "")
            + f"; expected {want} (1 for real tokens, 0 for padding)"
        )
