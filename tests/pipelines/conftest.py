"""Tiny random models saved by transformers 5.24 with the real MiniLM WordPiece vocabulary.

Each folder holds one head with a real-looking label map, so both libraries load the same
weights and tokenize the same text; their predictions are arbitrary but must agree exactly.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

transformers = pytest.importorskip("transformers", reason="transformers 5.24 is the oracle for these tests")

CONLL = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
SENTIMENT = ["NEGATIVE", "POSITIVE"]
NLI = ["contradiction", "neutral", "entailment"]
TINY_BERT = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=512,
)


def copy_tokenizer(src: Path, dst: Path) -> None:
    """MiniLM's tokenizer files, minus the fixed 128-token padding/truncation in its tokenizer.json."""
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(src / name, dst / name)
    spec = json.loads((src / "tokenizer.json").read_text())
    spec["truncation"] = spec["padding"] = None
    (dst / "tokenizer.json").write_text(json.dumps(spec))


def build_bert(folder: Path, head: str, minilm: Path, labels: list[str] | None = None, seed: int = 0, **extra) -> Path:
    torch.manual_seed(seed)
    vocab_size = len((minilm / "vocab.txt").read_text(encoding="utf-8").splitlines())
    kwargs = dict(TINY_BERT, vocab_size=vocab_size, initializer_range=0.2, **extra)
    if labels is not None:
        kwargs["id2label"] = dict(enumerate(labels))
        kwargs["label2id"] = {label: i for i, label in enumerate(labels)}
    model = getattr(transformers, head)(transformers.BertConfig(**kwargs))
    model.save_pretrained(folder)
    copy_tokenizer(minilm, folder)
    return folder


@pytest.fixture(scope="session")
def tiny(tmp_path_factory, minilm_dir):
    """tiny(kind) -> folder; built once per session."""
    specs = {
        "sentiment": ("BertForSequenceClassification", SENTIMENT),
        "nli": ("BertForSequenceClassification", NLI),
        "ner": ("BertForTokenClassification", CONLL),
        "mlm": ("BertForMaskedLM", None),
        "base": ("BertModel", None),
        "qa": ("BertForQuestionAnswering", None),
    }
    built: dict[str, Path] = {}

    def get(kind: str) -> Path:
        if kind not in built:
            head, labels = specs[kind]
            built[kind] = build_bert(tmp_path_factory.mktemp(f"tiny_{kind}"), head, minilm_dir, labels, seed=len(built))
        return built[kind]

    return get


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory, gpt2_vocab_dir) -> Path:
    """A tiny random GPT-2 with the real 50257-token byte-level BPE vocabulary."""
    folder = tmp_path_factory.mktemp("tiny_gpt2")
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        n_embd=32, n_layer=2, n_head=4, n_positions=128, vocab_size=50257, initializer_range=0.3
    )
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    shutil.copy(gpt2_vocab_dir / "encoder.json", folder / "vocab.json")
    shutil.copy(gpt2_vocab_dir / "vocab.bpe", folder / "merges.txt")
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "GPT2Tokenizer"}))
    return folder


def spread_weights(model: torch.nn.Module, std: float = 0.3) -> None:
    """Wider random weights so that tiny generators do not repeat one token."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1 and "embed_positions" not in name:  # Marian's sinusoid table stays fixed
                p.normal_(0, std)


@pytest.fixture(scope="session")
def tiny_seq2seq(tmp_path_factory, minilm_dir):
    """{"marian": folder, "t5": folder}: tiny random encoder-decoders sharing MiniLM's tokenizer.

    The T5 carries task_specific_params (prefix and generation settings per task) as t5-base does.
    """
    ids = dict(vocab_size=30522, pad_token_id=0, decoder_start_token_id=0, eos_token_id=102)
    marian = transformers.MarianConfig(
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=37,
        decoder_ffn_dim=37,
        max_position_embeddings=128,
        forced_eos_token_id=102,
        **ids,
    )
    tasks = {
        "summarization": {"prefix": "summarize: ", "num_beams": 2, "max_length": 12, "early_stopping": True},
        "translation_en_to_de": {"prefix": "translate English to German: ", "num_beams": 3, "max_length": 10},
    }
    t5 = transformers.T5Config(
        d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4, task_specific_params=tasks, **ids
    )
    folders = {}
    for name, model_class, config in (("marian", "MarianMTModel", marian), ("t5", "T5ForConditionalGeneration", t5)):
        torch.manual_seed(0)
        model = getattr(transformers, model_class)(config)
        spread_weights(model)
        folders[name] = tmp_path_factory.mktemp(f"tiny_{name}")
        model.save_pretrained(folders[name])
        copy_tokenizer(minilm_dir, folders[name])
    return folders


@pytest.fixture(scope="session")
def tiny_roberta_ner(tmp_path_factory, gpt2_vocab_dir) -> Path:
    """A tiny RoBERTa token classifier: byte-level BPE, where words are guessed from spaces."""
    folder = tmp_path_factory.mktemp("tiny_roberta_ner")
    gpt2 = json.loads((gpt2_vocab_dir / "encoder.json").read_text(encoding="utf-8"))
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for token, _ in sorted(gpt2.items(), key=lambda kv: kv[1]):
        vocab.setdefault(token, len(vocab))
    vocab["<mask>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.copy(gpt2_vocab_dir / "vocab.bpe", folder / "merges.txt")
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "RobertaTokenizer"}))
    torch.manual_seed(0)
    config = transformers.RobertaConfig(
        **{k: v for k, v in TINY_BERT.items() if k != "max_position_embeddings"},
        vocab_size=len(vocab),
        initializer_range=0.2,
        id2label=dict(enumerate(CONLL)),
        label2id={label: i for i, label in enumerate(CONLL)},
    )
    transformers.RobertaForTokenClassification(config).save_pretrained(folder)
    return folder


def assert_close(ours, ref, atol: float = 1e-5, path: str = "result") -> None:
    """Equal structure and strings/ints exactly; floats within atol."""
    if isinstance(ref, dict):
        assert isinstance(ours, dict), f"{path}: {ours!r} is not a dict"
        assert sorted(ours) == sorted(ref), f"{path}: keys {sorted(ours)} != {sorted(ref)}"
        for key in ref:
            assert_close(ours[key], ref[key], atol, f"{path}[{key!r}]")
    elif isinstance(ref, (list, tuple)):
        assert isinstance(ours, (list, tuple)), f"{path}: {ours!r} is not a list"
        assert len(ours) == len(ref), f"{path}: {len(ours)} items != {len(ref)}\nours {ours}\nref  {ref}"
        for i, (a, b) in enumerate(zip(ours, ref)):
            assert_close(a, b, atol, f"{path}[{i}]")
    elif isinstance(ref, float) or type(ref).__module__ == "numpy" and "float" in type(ref).__name__:
        assert abs(float(ours) - float(ref)) <= atol, f"{path}: {ours} != {ref}"
    else:
        if type(ref).__module__ == "numpy":
            ref = ref.item()
        assert ours == ref, f"{path}: {ours!r} != {ref!r}"
