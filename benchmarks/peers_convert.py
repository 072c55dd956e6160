"""Convert bench_peers.py's random-init folders for the peer engines (run under .venv-peers).

    .venv-peers/bin/python benchmarks/peers_convert.py --gpt2 DIR --bert DIR --out DIR

Writes ct2_gpt2/ and ct2_bert/ (CTranslate2 float32; int8 is chosen at load time with
compute_type="int8", CTranslate2's documented way), and for ONNX Runtime bert_fp32.onnx (torch.onnx
export of transformers' BertModel, then ONNX Runtime's own BERT graph fusions: attention,
skip-LayerNorm, bias-GELU, embedding-LayerNorm) and bert_int8.onnx (quantize_dynamic of the fused
graph: int8 weights, activations quantized per tensor at run time). Prints the paths as one JSON line.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def convert_ct2(folder: str, out: Path) -> None:
    from ctranslate2.converters import TransformersConverter

    TransformersConverter(folder).convert(str(out), quantization=None, force=True)


def export_bert_onnx(folder: str, out: Path, seq: int = 32) -> Path:
    import torch
    import transformers

    model = transformers.BertModel.from_pretrained(folder).eval()
    ids = torch.randint(1000, 2000, (2, seq))
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dynamic = {name: {0: "batch", 1: "sequence"} for name in names}
    dynamic["last_hidden_state"] = {0: "batch", 1: "sequence"}
    with torch.inference_mode():
        # the TorchScript exporter: its graph is the one ONNX Runtime's BERT fusions are written for
        torch.onnx.export(
            model,
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            str(out),
            input_names=names,
            output_names=["last_hidden_state", "pooler_output"],
            dynamic_axes=dynamic,
            opset_version=17,
            dynamo=False,
        )
    return out


def fuse_bert(raw: Path, out: Path, config: dict) -> Path:
    from onnxruntime.transformers.optimizer import optimize_model

    fused = optimize_model(
        str(raw), model_type="bert", num_heads=config["num_attention_heads"], hidden_size=config["hidden_size"]
    )
    print("onnxruntime fusions:", json.dumps(fused.get_fused_operator_statistics()))
    fused.save_model_to_file(str(out))
    return out


def quantize_int8(fp32: Path, out: Path) -> Path:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # the fused ops (Attention, SkipLayerNormalization) are in ONNX Runtime's own domain, where the
    # quantizer's shape inference cannot type their outputs: they are fp32, say so
    extra = {"DefaultTensorType": onnx.TensorProto.FLOAT}
    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, extra_options=extra)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--gpt2", required=True)
    p.add_argument("--bert", required=True)
    p.add_argument("--out", required=True, type=Path)
    args = p.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    config = json.loads((Path(args.bert) / "config.json").read_text())
    # each step is skipped when its output exists: bench_peers.py --workdir reuses a conversion (the
    # folders are seeded, so the same --workdir always holds the same weights)
    ct2_gpt2, ct2_bert = out / "ct2_gpt2", out / "ct2_bert"
    raw, fp32, int8 = out / "bert_raw.onnx", out / "bert_fp32.onnx", out / "bert_int8.onnx"
    if not (ct2_gpt2 / "model.bin").is_file():
        convert_ct2(args.gpt2, ct2_gpt2)
    if not (ct2_bert / "model.bin").is_file():
        convert_ct2(args.bert, ct2_bert)
    if not fp32.is_file():
        fuse_bert(export_bert_onnx(args.bert, raw), fp32, config)
        raw.unlink()  # 440 MB the fused graph replaces
    if not int8.is_file():
        quantize_int8(fp32, int8)
    paths = {
        "ct2_gpt2": str(ct2_gpt2),
        "ct2_bert": str(ct2_bert),
        "onnx_bert_fp32": str(fp32),
        "onnx_bert_int8": str(int8),
    }
    print(json.dumps({"paths": paths}))


if __name__ == "__main__":
    main()
