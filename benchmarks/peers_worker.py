"""One engine of bench_peers.py in its own long-lived process: loads a model, then times runs on command.

    python peers_worker.py --engine clearformer --threads 1 --spec '{"precision": "fp32", "optimize": {}}'
    .venv-peers/bin/python peers_worker.py --engine ctranslate2 --threads 1 --spec '{"compute_type": "int8"}'

Commands arrive as JSON lines on stdin and each gets one JSON line back: ``load`` (model + workload,
one warm-up run whose output is returned for the cross-engine checks), ``run`` (seconds per call,
timed here so the pipe is not in the number), ``quit``. clearformer engines run in the main
interpreter; CTranslate2 and ONNX Runtime run under .venv-peers, which has no clearformer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


class Engine:
    """Loads one model for one workload; ``call()`` runs the workload once; ``output()`` its result."""

    def __init__(self, spec: dict, threads: int) -> None:
        self.spec, self.threads = spec, threads
        self.loaded: str | None = None

    def load(self, paths: dict, workload: dict) -> None:
        self.workload = workload
        model = workload["model"]
        if self.loaded != model:
            self.model = None  # free the previous model before loading the next
            self.model = self.load_model(paths, model)
            self.loaded = model
        self.prepare_inputs()


class Clearformer(Engine):
    def __init__(self, spec: dict, threads: int) -> None:
        super().__init__(spec, threads)
        import torch

        torch.set_num_threads(threads)
        self.torch = torch

    def load_model(self, paths: dict, model: str):
        import clearformer

        kwargs = dict(self.spec.get("optimize", {}))
        if "dtype" in kwargs:
            kwargs["dtype"] = getattr(self.torch, kwargs["dtype"])
        cls = clearformer.GPT2LMHeadModel if model == "gpt2" else clearformer.AutoModel
        return clearformer.optimize_for_inference(cls.from_pretrained(paths[model]), **kwargs)

    def prepare_inputs(self) -> None:
        w = self.workload
        self.ids = self.torch.tensor(w["ids"])
        self.forward = self.model
        if w["kind"] == "generate" and self.spec.get("compiled"):
            from clearformer.inference import compile_decoding

            # this workload's batch and length; replaces the step of an earlier workload
            length, batch = self.ids.shape[1] + w["new_tokens"], self.ids.shape[0]
            backend = self.spec.get("backend", "dynamo")
            compile_decoding(self.model, max_length=length, batch_size=batch, backend=backend)
        if w["kind"] == "encode":
            self.mask = self.torch.ones_like(self.ids)
            self.types = self.torch.zeros_like(self.ids)
            if self.spec.get("compiled"):
                from clearformer.inference import compile_for_inference

                # one graph for this shape (the warm-up call in load() compiles it, untimed)
                self.forward = compile_for_inference(self.model, dynamic=False, cpp_wrapper=True)

    def call(self):
        w = self.workload
        with self.torch.inference_mode():
            if w["kind"] == "generate":
                out = self.model.generate(self.ids, max_new_tokens=w["new_tokens"], do_sample=False)
                return out[:, self.ids.shape[1] :].tolist()
            out = self.forward(input_ids=self.ids, attention_mask=self.mask, token_type_ids=self.types)
            return out.last_hidden_state

    def hidden_numpy(self, out):
        return out.float().numpy()


class CTranslate2(Engine):
    def load_model(self, paths: dict, model: str):
        import ctranslate2

        kind = ctranslate2.Generator if model == "gpt2" else ctranslate2.Encoder
        folder = paths[f"ct2_{model}"]
        self.vocab = json.loads((Path(folder) / "vocabulary.json").read_text(encoding="utf-8"))
        return kind(
            folder, device="cpu", compute_type=self.spec["compute_type"], intra_threads=self.threads, inter_threads=1
        )

    def prepare_inputs(self) -> None:
        # CTranslate2's generator takes token strings: the same ids, spelled by the converted vocabulary
        self.tokens = [[self.vocab[i] for i in row] for row in self.workload["ids"]]

    def call(self):
        w = self.workload
        if w["kind"] == "generate":
            n = w["new_tokens"]
            # min_length == max_length: the end token cannot stop a row early, so every row makes n tokens
            results = self.model.generate_batch(
                self.tokens,
                max_length=n,
                min_length=n,
                sampling_topk=1,
                beam_size=1,
                include_prompt_in_result=False,
            )
            return [r.sequences_ids[0] for r in results]
        return self.model.forward_batch(self.workload["ids"]).last_hidden_state

    def hidden_numpy(self, out):
        import numpy as np

        return np.array(out)


class OnnxRuntime(Engine):
    def load_model(self, paths: dict, model: str):
        import onnxruntime as ort

        if model != "bert":
            raise ValueError(f"onnxruntime engine runs the BERT workloads only, got model {model!r}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        path = paths[f"onnx_bert_{self.spec['precision']}"]
        return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    def prepare_inputs(self) -> None:
        import numpy as np

        ids = np.array(self.workload["ids"], dtype=np.int64)
        self.feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}

    def call(self):
        return self.model.run(["last_hidden_state"], self.feed)[0]

    def hidden_numpy(self, out):
        return out


ENGINES = {"clearformer": Clearformer, "ctranslate2": CTranslate2, "onnxruntime": OnnxRuntime}


def serve(engine: Engine, commands, reply) -> None:
    for line in commands:
        msg = json.loads(line)
        if msg["cmd"] == "quit":
            return
        try:
            if msg["cmd"] == "load":
                engine.load(msg["paths"], msg["workload"])
                out = engine.call()  # warm-up: allocations, kernel selection, thread pools
                if msg["workload"]["kind"] == "generate":
                    reply({"tokens": [list(map(int, row)) for row in out]})
                else:
                    import numpy as np

                    np.save(msg["hidden_path"], engine.hidden_numpy(out))
                    reply({"hidden_path": msg["hidden_path"]})
            elif msg["cmd"] == "run":
                calls = msg.get("calls", 1)
                start = time.perf_counter()
                for _ in range(calls):
                    engine.call()
                reply({"seconds": (time.perf_counter() - start) / calls})
            else:
                reply({"error": f"unknown command {msg['cmd']!r}; expected load, run or quit"})
        except Exception as e:  # the driver prints it and stops: the engine name is added there
            reply({"error": f"{type(e).__name__}: {e}"})


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--engine", required=True, choices=sorted(ENGINES))
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--spec", default="{}", help="JSON: the engine's configuration")
    args = p.parse_args()
    # the protocol owns the real stdout; anything a library prints goes to stderr instead
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def reply(obj: dict) -> None:
        channel.write(json.dumps(obj) + "\n")
        channel.flush()

    try:
        engine = ENGINES[args.engine](json.loads(args.spec), args.threads)
    except Exception as e:
        reply({"error": f"{type(e).__name__}: {e}"})
        return
    reply({"ready": True, "pid": os.getpid()})
    serve(engine, sys.stdin, reply)


if __name__ == "__main__":
    main()
