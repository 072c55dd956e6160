"""pipeline(): task table, model/tokenizer/device resolution, batching and input kinds, clear errors."""

from __future__ import annotations

import pytest
import torch

from clearformer.models.auto import MODEL_MAPPINGS, AutoModelForSequenceClassification
from clearformer.pipelines import SUPPORTED_TASKS, check_task, pipeline
from clearformer.tokenization import AutoTokenizer

from .conftest import assert_close

TEXTS = [
    "Hugging Face Inc. is a company based in New York City.",
    "short",
    "Its headquarters are in DUMBO, therefore very close to the Manhattan Bridge, they say.",
    "Paris!",
    "A fifth text for an uneven last batch.",
]


@pytest.mark.parametrize(
    "task, kind, options",
    [
        ("sentiment-analysis", "sentiment", {"top_k": None}),
        ("ner", "ner", {"aggregation_strategy": "average"}),
        ("zero-shot-classification", "nli", {"candidate_labels": ["a", "b", "c"]}),
        ("feature-extraction", "base", {}),
        ("fill-mask", "mlm", {"top_k": 2}),
    ],
)
def test_results_do_not_depend_on_batch_size(tiny, task, kind, options):
    pipe = pipeline(task, model=tiny(kind))
    texts = [t + " [MASK]" for t in TEXTS] if task == "fill-mask" else TEXTS
    one_by_one = pipe(texts, **options)
    assert_close(pipe(texts, batch_size=2, **options), one_by_one)
    assert_close(pipeline(task, model=tiny(kind), batch_size=3)(texts, **options), one_by_one)


def test_generators_and_datasets_stream_one_result_per_item(tiny):
    pipe = pipeline("sentiment-analysis", model=tiny("sentiment"), batch_size=2)
    expected = pipe(TEXTS)
    stream = pipe(text for text in TEXTS)
    assert not isinstance(stream, list)
    assert list(stream) == expected

    class Texts(torch.utils.data.Dataset):
        def __len__(self):
            return len(TEXTS)

        def __getitem__(self, i):
            if i >= len(TEXTS):
                raise IndexError(i)
            return TEXTS[i]

    assert list(pipe(Texts())) == expected
    datasets = pytest.importorskip("datasets")
    column = datasets.Dataset.from_dict({"text": TEXTS})["text"]
    assert list(pipe(column)) == expected
    assert list(pipe(iter([]))) == []


def test_model_and_tokenizer_objects_and_devices(tiny):
    folder = tiny("sentiment")
    model = AutoModelForSequenceClassification.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    expected = pipeline("text-classification", model=folder)(TEXTS)
    for device in (-1, "cpu", torch.device("cpu"), None):
        pipe = pipeline("text-classification", model=model, tokenizer=tokenizer, device=device)
        assert pipe.device == torch.device("cpu")
        assert_close(pipe(TEXTS), expected)
    assert "TextClassificationPipeline" in repr(pipe)


def test_task_is_inferred_from_the_folder(tiny):
    assert pipeline(model=tiny("ner")).task == "token-classification"
    assert pipeline(model=tiny("mlm")).task == "fill-mask"


def test_unknown_task_lists_the_known_ones():
    with pytest.raises(
        ValueError, match=r"unknown task 'sentiment'.*fill-mask.*question-answering.*sentiment-analysis"
    ):
        pipeline("sentiment", model="unused")
    assert check_task("translation_en_to_fr")[0] == "translation_en_to_fr"
    assert set(SUPPORTED_TASKS) >= {"text-classification", "token-classification", "question-answering", "fill-mask"}


def test_missing_model_names_local_paths_and_never_downloads(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    with pytest.raises(
        OSError, match=r"never downloads.*model='path/to/folder'.*distilbert-base-uncased-finetuned"
    ) as err:
        pipeline("sentiment-analysis")
    assert str(tmp_path) in str(err.value)
    with pytest.raises(OSError, match="cannot find a local model folder"):
        pipeline("ner", model=str(tmp_path / "no-such-model"))


def test_empty_input_list_is_a_clear_error(tiny):
    pipe = pipeline("sentiment-analysis", model=tiny("sentiment"))
    with pytest.raises(ValueError, match="empty list of inputs"):
        pipe([])


def test_wrong_model_for_the_task_and_bad_options_are_named(tiny):
    model = AutoModelForSequenceClassification.from_pretrained(tiny("sentiment"))
    with pytest.raises(TypeError, match="needs a token-classification model; BertForSequenceClassification"):
        pipeline("ner", model=model, tokenizer=tiny("sentiment"))
    with pytest.raises(TypeError, match="unknown options"):
        pipeline("sentiment-analysis", model=tiny("sentiment"), top_p=3)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        pipeline("sentiment-analysis", model=tiny("sentiment"), batch_size=0)
    with pytest.raises(TypeError, match="device must be"):
        pipeline("sentiment-analysis", model=tiny("sentiment"), device=1.5)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cuda_device_without_gpu_is_refused(tiny):
    with pytest.raises(ValueError, match="no GPU"):
        pipeline("sentiment-analysis", model=tiny("sentiment"), device=0)


def test_seq2seq_tasks_need_an_encoder_decoder_model(tiny):
    model = AutoModelForSequenceClassification.from_pretrained(tiny("sentiment"))
    with pytest.raises(TypeError, match="needs an encoder-decoder model"):
        pipeline("translation_en_to_fr", model=model, tokenizer=tiny("sentiment"))
    if not MODEL_MAPPINGS["seq2seq_lm"]:
        with pytest.raises(ValueError, match="needs an encoder-decoder model .* no such model family"):
            pipeline("summarization", model=tiny("sentiment"))


def test_dtype_loads_the_model_in_that_precision(tiny):
    pipe = pipeline("ner", model=tiny("ner"), dtype=torch.bfloat16)
    assert pipe.model.dtype == torch.bfloat16
    entities = pipe(TEXTS[0], ignore_labels=[])
    assert entities and all(isinstance(e["score"], float) for e in entities)
    assert pipeline("ner", model=tiny("ner"), torch_dtype="float32").model.dtype == torch.float32


def test_no_model_uses_transformers_default_from_the_local_cache(tiny, tmp_path, monkeypatch):
    # the course's pipeline("sentiment-analysis") works offline once its default is in the HF cache
    import shutil

    snapshot = tmp_path / "hub" / "models--distilbert-base-uncased-finetuned-sst-2-english" / "snapshots" / "abc"
    shutil.copytree(tiny("sentiment"), snapshot)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("abc")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    classifier = pipeline("sentiment-analysis")
    assert_close(classifier(TEXTS), pipeline("sentiment-analysis", model=tiny("sentiment"))(TEXTS))


def test_backend_tokenizers_gives_the_rust_twin_and_use_fast_is_ignored(tiny):
    from clearformer.tokenization import TokenizersBackend

    rust = pipeline("sentiment-analysis", model=tiny("sentiment"), backend="tokenizers")
    assert isinstance(rust.tokenizer, TokenizersBackend)
    for use_fast in (True, False):  # accepted and ignored, as in transformers 5.24
        plain = pipeline("sentiment-analysis", model=tiny("sentiment"), use_fast=use_fast)
        assert not isinstance(plain.tokenizer, TokenizersBackend)
        assert_close(plain(TEXTS, top_k=None), rust(TEXTS, top_k=None))
    with pytest.raises(ValueError, match="backend='rust'"):
        pipeline("sentiment-analysis", model=tiny("sentiment"), backend="rust")


def test_backend_with_a_built_tokenizer_is_refused_not_ignored(tiny):
    tokenizer = AutoTokenizer.from_pretrained(tiny("sentiment"))
    with pytest.raises(ValueError, match="already built BertTokenizer"):
        pipeline("sentiment-analysis", model=tiny("sentiment"), tokenizer=tokenizer, backend="tokenizers")
