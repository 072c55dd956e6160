"""HB-28 Q17: how ``AutoModelForQuestionAnswering.from_pretrained(folder)`` builds a
``BertForQuestionAnswering``, traced step by step through clearformer's tables.

The folder's config.json says ``"model_type": "bert"`` (-> BertConfig via CONFIG_MAPPING) and
``"architectures": ["BertForQuestionAnswering"]``; the question-answering table maps "bert" to
BertForQuestionAnswering. The checkpoint here is a tiny one written for the trace, with the
BERT-large QA config of the handbook shrunk to 2 layers.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

# The handbook's bert-large QA config.json, with the sizes shrunk so the trace runs in a blink.
HANDBOOK_CONFIG = {
    "architectures": ["BertForQuestionAnswering"],
    "attention_probs_dropout_prob": 0.1,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 1024,
    "initializer_range": 0.02,
    "intermediate_size": 4096,
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": 512,
    "model_type": "bert",
    "num_attention_heads": 16,
    "num_hidden_layers": 24,
    "pad_token_id": 0,
    "type_vocab_size": 2,
    "vocab_size": 30522,
}
TINY = {"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 100}


def trace(folder: Path) -> tuple[list[dict], object]:
    from ..configuration_utils import PretrainedConfig
    from ..models import auto

    steps = []
    data, where = PretrainedConfig.read_config_file(folder)
    steps.append(
        {
            "step": "read config.json",
            "found": f"model_type={data['model_type']!r}, architectures={data.get('architectures')}",
        }
    )
    steps.append({"step": "CONFIG_MAPPING[model_type]", "found": auto.CONFIG_MAPPING[data["model_type"]]})
    config = auto.AutoConfig.from_pretrained(folder)
    steps.append({"step": "AutoConfig.from_pretrained", "found": type(config).__name__})
    task = auto.AutoModelForQuestionAnswering.task
    steps.append(
        {
            "step": f"MODEL_MAPPINGS[{task!r}][{config.model_type!r}]",
            "found": auto.MODEL_MAPPINGS[task][config.model_type],
        }
    )
    cls = auto.AutoModelForQuestionAnswering.model_class_for(config)
    steps.append(
        {
            "step": "architectures check",
            "found": f"{cls.__name__} in {config.architectures}: {cls.__name__ in (config.architectures or [])}",
        }
    )
    model = auto.AutoModelForQuestionAnswering.from_pretrained(folder)
    steps.append(
        {
            "step": "BertForQuestionAnswering.from_pretrained",
            "found": f"{type(model).__name__}, "
            f"{model.num_parameters()} parameters, head qa_outputs {list(model.qa_outputs.weight.shape)}",
        }
    )
    return steps, model


def run() -> dict:
    from ..models import auto
    from ..models.bert.configuration_bert import BertConfig
    from ..models.bert.modeling_bert import BertForQuestionAnswering

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        BertForQuestionAnswering(BertConfig(**TINY)).save_pretrained(folder)  # writes architectures too
        steps, model = trace(folder)
        (folder / "config.json").write_text(json.dumps({"model_type": "unicorn"}))
        try:
            auto.AutoConfig.from_pretrained(folder)
            unknown_error = None
        except ValueError as err:
            unknown_error = str(err).replace(str(folder), "<folder>")
    return {
        "handbook_config_json": {
            k: HANDBOOK_CONFIG[k] for k in ("model_type", "architectures", "hidden_size", "num_hidden_layers")
        },
        "traced_with": f"the same config shrunk to {TINY}",
        "steps": steps,
        "resolved_class": type(model).__name__,
        "unknown_model_type_error": unknown_error,
        "takeaway": (
            "Auto classes never guess from the folder name: config.json's model_type picks the config class "
            "and, per task, the model class (the question-answering table maps 'bert' to "
            "BertForQuestionAnswering); architectures confirms which head the checkpoint was saved from"
        ),
    }
