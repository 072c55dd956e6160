"""Every model class of the package, built tiny, with inputs that run it (shared by the walks)."""

from __future__ import annotations

import importlib
import inspect

import torch

from clearformer.modeling_utils import PreTrainedModel

FAMILIES = ("bert", "distilbert", "roberta", "gpt2", "marian", "t5")

CONFIGS = {
    "bert": dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=37, vocab_size=50),
    "roberta": dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=37, vocab_size=50),
    "distilbert": dict(dim=32, n_layers=1, n_heads=4, hidden_dim=37, vocab_size=50),
    "gpt2": dict(n_embd=32, n_layer=1, n_head=4, vocab_size=50, n_positions=16, pad_token_id=0),
    "marian": dict(
        vocab_size=50,
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=37,
        decoder_ffn_dim=37,
        max_position_embeddings=16,
        pad_token_id=0,
        decoder_start_token_id=0,
    ),
    "t5": dict(
        vocab_size=50,
        d_model=32,
        d_kv=8,
        d_ff=37,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=4,
        decoder_start_token_id=0,
    ),
}


def model_classes() -> list[tuple[str, type]]:
    out = []
    for family in FAMILIES:
        module = importlib.import_module(f"clearformer.models.{family}.modeling_{family}")
        for name, cls in vars(module).items():
            if (
                inspect.isclass(cls)
                and issubclass(cls, PreTrainedModel)
                and cls.__module__ == module.__name__
                and not name.startswith("_")
                and not name.endswith("PreTrainedModel")
            ):
                out.append((family, cls))
    return out


def build(family: str, cls: type) -> torch.nn.Module:
    config_cls = cls.config_class
    extra = {"is_decoder": True} if cls.__name__ in ("BertLMHeadModel", "RobertaForCausalLM") else {}
    config = config_cls(**CONFIGS[family], **extra)
    torch.manual_seed(0)
    if cls.__name__ == "T5Stack":
        return cls(config, torch.nn.Embedding(config.vocab_size, config.d_model), is_decoder=False).eval()
    return cls(config).eval()


def inputs(cls: type) -> dict[str, torch.Tensor]:
    ids = torch.tensor([[5, 6, 7, 8], [9, 10, 11, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    name = cls.__name__
    if "MultipleChoice" in name or name == "GPT2DoubleHeadsModel":
        return {"input_ids": ids[None].repeat(2, 1, 1), "attention_mask": mask[None].repeat(2, 1, 1)}
    if name == "MarianDecoder":
        return {"input_ids": ids, "attention_mask": mask, "encoder_hidden_states": torch.randn(2, 4, 32)}
    if name in ("MarianModel", "MarianMTModel", "T5Model", "T5ForConditionalGeneration"):
        return {"input_ids": ids, "attention_mask": mask, "decoder_input_ids": ids[:, :3]}
    return {"input_ids": ids, "attention_mask": mask}
