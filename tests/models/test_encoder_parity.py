"""Every BERT / DistilBERT / RoBERTa class equals transformers 5.24 at 1e-5 (fp32), both directions.

A tiny random model is built by the oracle, saved, loaded by clearformer's Auto classes and run
on a batch with padding inside it, token types and labels; attentions are compared against the
oracle's eager path. Then clearformer saves and the oracle loads.
"""

from __future__ import annotations

import pytest
import torch

import clearformer
from tests.models._oracle import compare_outputs, oracle_config

transformers = pytest.importorskip("transformers", reason="transformers is the test oracle (pip install transformers)")

HEADS = {
    "Model": "AutoModel",
    "ForPreTraining": "AutoModelForPreTraining",
    "ForMaskedLM": "AutoModelForMaskedLM",
    "ForNextSentencePrediction": "AutoModelForNextSentencePrediction",
    "ForSequenceClassification": "AutoModelForSequenceClassification",
    "ForTokenClassification": "AutoModelForTokenClassification",
    "ForQuestionAnswering": "AutoModelForQuestionAnswering",
    "ForMultipleChoice": "AutoModelForMultipleChoice",
}
FAMILIES = {"bert": "Bert", "distilbert": "DistilBert", "roberta": "Roberta"}
CASES = [
    (family, head) for family, prefix in FAMILIES.items() for head in HEADS if hasattr(transformers, prefix + head)
]


def make_inputs(family: str, head: str, config, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, config.vocab_size, (3, 9), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0  # right padding in one row
    mask[2, 8:] = 0
    ids[mask == 0] = config.pad_token_id
    inputs = {"input_ids": ids, "attention_mask": mask}
    if family == "bert":
        types = torch.zeros_like(ids)
        types[:, 5:] = 1
        inputs["token_type_ids"] = types
    labels = _labels(head, config, ids, g)
    if head == "ForMultipleChoice":
        inputs = {k: torch.stack([v, v.roll(1, 0), v.roll(2, 0)], 1) for k, v in inputs.items()}
    inputs.update(labels)
    return inputs


def _labels(head: str, config, ids: torch.Tensor, g: torch.Generator) -> dict:
    b = ids.shape[0]
    if head in ("ForMaskedLM", "ForPreTraining"):
        labels = torch.full_like(ids, -100)
        labels[:, 2] = ids[:, 2]
        extra = {"next_sentence_label": torch.tensor([0, 1, 0])} if head == "ForPreTraining" else {}
        return {"labels": labels, **extra}
    if head in ("ForSequenceClassification", "ForNextSentencePrediction"):
        return {"labels": torch.randint(0, 2, (b,), generator=g)}
    if head == "ForTokenClassification":
        labels = torch.randint(0, 2, ids.shape, generator=g)
        labels[:, 0] = -100
        return {"labels": labels}
    if head == "ForQuestionAnswering":
        return {"start_positions": torch.tensor([1, 2, 30]), "end_positions": torch.tensor([3, 4, 5])}
    if head == "ForMultipleChoice":
        return {"labels": torch.tensor([0, 2, 1])}
    return {}


def oracle_model(family: str, head: str, **config_kwargs):
    torch.manual_seed(0)
    cls = getattr(transformers, FAMILIES[family] + head)
    return cls(oracle_config(family, **config_kwargs)).eval()


def run_both(ref, ours, inputs):
    with torch.no_grad():
        a = ref(**inputs, output_attentions=True, output_hidden_states=True)
        b = ours(**inputs, output_attentions=True, output_hidden_states=True)
    return a, b


@pytest.mark.parametrize("family,head", CASES)
def test_oracle_checkpoint_loads_and_matches(family, head, tmp_path):
    ref = oracle_model(family, head)
    ref.save_pretrained(tmp_path)
    ours = getattr(clearformer, HEADS[head]).from_pretrained(tmp_path)
    assert type(ours).__name__ == type(ref).__name__
    assert not ours.training, "from_pretrained must return the model in eval mode"
    a, b = run_both(ref, ours, make_inputs(family, head, ref.config))
    diffs = compare_outputs(a, b)
    if getattr(a, "loss", None) is not None:
        assert "loss" in diffs


@pytest.mark.parametrize("family,head", CASES)
def test_clearformer_checkpoint_loads_in_oracle(family, head, tmp_path):
    ref = oracle_model(family, head)
    ref.save_pretrained(tmp_path / "oracle")
    ours = getattr(clearformer, HEADS[head]).from_pretrained(tmp_path / "oracle")
    with torch.no_grad():  # make our weights differ from the oracle's so the round trip is visible
        for p in ours.parameters():
            p.add_(0.01 * torch.randn_like(p))
    ours.save_pretrained(tmp_path / "ours")
    back = type(ref).from_pretrained(tmp_path / "ours", attn_implementation="eager").eval()
    a, b = run_both(back, ours, make_inputs(family, head, ref.config, seed=1))
    compare_outputs(a, b)


@pytest.mark.parametrize("family", FAMILIES)
def test_inputs_embeds_equal_input_ids(family, tmp_path):
    ref = oracle_model(family, "Model")
    ref.save_pretrained(tmp_path)
    ours = clearformer.AutoModel.from_pretrained(tmp_path)
    inputs = make_inputs(family, "Model", ref.config)
    embeds = ours.get_input_embeddings()(inputs["input_ids"])
    rest = {k: v for k, v in inputs.items() if k != "input_ids"}
    with torch.no_grad():
        a = ref(inputs_embeds=embeds, **rest)
        b = ours(inputs_embeds=embeds, **rest)
    compare_outputs(a, b)


@pytest.mark.parametrize("family", FAMILIES)
def test_eager_and_sdpa_paths_agree(family, tmp_path):
    oracle_model(family, "Model").save_pretrained(tmp_path)
    eager = clearformer.AutoModel.from_pretrained(tmp_path, attn_implementation="eager")
    sdpa = clearformer.AutoModel.from_pretrained(tmp_path, attn_implementation="sdpa")
    inputs = make_inputs(family, "Model", eager.config)
    with torch.no_grad():
        a, b = eager(**inputs).last_hidden_state, sdpa(**inputs).last_hidden_state
    assert (a - b).abs().max() < 1e-5


@pytest.mark.parametrize("family", FAMILIES)
def test_batched_rows_equal_single_row_forwards(family, tmp_path):
    oracle_model(family, "Model").save_pretrained(tmp_path)
    model = clearformer.AutoModel.from_pretrained(tmp_path)
    inputs = make_inputs(family, "Model", model.config)
    with torch.no_grad():
        batched = model(**inputs).last_hidden_state
        for i in range(inputs["input_ids"].shape[0]):
            n = int(inputs["attention_mask"][i].sum())
            row = {k: v[i : i + 1, :n] for k, v in inputs.items()}
            single = model(**row).last_hidden_state
            assert (batched[i, :n] - single[0]).abs().max() < 1e-5


def test_eval_mode_is_deterministic_and_train_mode_is_not(tmp_path):
    oracle_model("bert", "Model").save_pretrained(tmp_path)
    model = clearformer.AutoModel.from_pretrained(tmp_path)
    inputs = make_inputs("bert", "Model", model.config)
    with torch.no_grad():
        assert torch.equal(model(**inputs).last_hidden_state, model(**inputs).last_hidden_state)
        model.train()
        assert not torch.equal(model(**inputs).last_hidden_state, model(**inputs).last_hidden_state)


@pytest.mark.parametrize(
    "problem_type,labels",
    [
        ("regression", torch.tensor([0.5, -1.0, 2.0])),
        ("multi_label_classification", torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]])),
    ],
)
def test_sequence_classification_problem_types(problem_type, labels, tmp_path):
    num_labels = 1 if problem_type == "regression" else 3
    torch.manual_seed(0)
    ref = transformers.BertForSequenceClassification(
        oracle_config("bert", num_labels=num_labels, problem_type=problem_type)
    ).eval()
    ref.save_pretrained(tmp_path)
    ours = clearformer.AutoModelForSequenceClassification.from_pretrained(tmp_path)
    inputs = make_inputs("bert", "Model", ref.config)
    with torch.no_grad():
        a, b = ref(**inputs, labels=labels), ours(**inputs, labels=labels)
    assert abs(a.loss.item() - b.loss.item()) < 1e-5
    compare_outputs(a, b)


def test_return_dict_false_gives_tuples(tmp_path):
    oracle_model("bert", "Model").save_pretrained(tmp_path)
    model = clearformer.AutoModel.from_pretrained(tmp_path)
    inputs = make_inputs("bert", "Model", model.config)
    out = model(**inputs, return_dict=False)
    assert isinstance(out, tuple) and out[0].shape == (3, 9, 32) and out[1].shape == (3, 32)
    named = model(**inputs)
    assert torch.equal(named[0], named["last_hidden_state"]) and torch.equal(named[1], named.pooler_output)
