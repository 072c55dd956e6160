"""Output classes: declared dataclasses in Hugging Face's field order, read by attribute, key and index.

The field order is what ``outputs[i]`` and ``return_dict=False`` tuples mean, so it is compared
with transformers 5.24's class of the same name. transformers 5.x calls the cache field ``cache``;
here it is ``past_key_values`` (``.cache`` reads it), so the two names are treated as one.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pickle
import typing

import pytest
import torch

from clearformer import modeling_outputs
from clearformer.file_utils import ModelOutput as FileUtilsModelOutput
from clearformer.modeling_outputs import (
    BaseModelOutputWithPoolingAndCrossAttentions,
    ModelOutput,
    SequenceClassifierOutput,
)

# Every module that declares output classes, and transformers' modules to look the same name up in.
OUR_MODULES = (
    "clearformer.modeling_outputs",
    "clearformer.models.seq2seq",
    "clearformer.models.gpt2.modeling_gpt2",
    "clearformer.generation.outputs",
)
HF_MODULES = (
    "transformers.modeling_outputs",
    "transformers.models.bert.modeling_bert",
    "transformers.models.gpt2.modeling_gpt2",
    "transformers.generation.utils",
)
# generate() here returns only these fields; the reference's others (per-step logits, attentions,
# hidden states, beam indices) are not produced, and are therefore left out rather than always None.
NOT_PRODUCED = {
    "GenerateDecoderOnlyOutput": {"logits", "attentions", "hidden_states"},
    "GenerateEncoderDecoderOutput": {
        "logits",
        "encoder_attentions",
        "encoder_hidden_states",
        "decoder_attentions",
        "cross_attentions",
        "decoder_hidden_states",
    },
    "GenerateBeamDecoderOnlyOutput": {"logits", "beam_indices", "attentions", "hidden_states"},
    "GenerateBeamEncoderDecoderOutput": {
        "logits",
        "beam_indices",
        "encoder_attentions",
        "encoder_hidden_states",
        "decoder_attentions",
        "cross_attentions",
        "decoder_hidden_states",
    },
}


def _our_output_classes() -> dict[str, type]:
    found = {}
    for name in OUR_MODULES:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, ModelOutput) and value is not ModelOutput:
                found[attr] = value
    return found


CLASSES = _our_output_classes()


def _hf_class(name: str):
    for module_name in HF_MODULES:
        cls = getattr(importlib.import_module(module_name), name, None)
        if isinstance(cls, type) and dataclasses.is_dataclass(cls):
            return cls
    return None


def _hf_field_names(cls) -> list[str]:
    return ["past_key_values" if f.name == "cache" else f.name for f in dataclasses.fields(cls)]


def test_every_expected_output_class_is_found():
    expected = {
        "BaseModelOutput",
        "BaseModelOutputWithPoolingAndCrossAttentions",
        "BaseModelOutputWithPastAndCrossAttentions",
        "CausalLMOutputWithCrossAttentions",
        "Seq2SeqModelOutput",
        "Seq2SeqLMOutput",
        "SequenceClassifierOutputWithPast",
        "GPT2DoubleHeadsModelOutput",
        "GenerateDecoderOnlyOutput",
        "GenerateEncoderDecoderOutput",
        "GenerateBeamDecoderOnlyOutput",
        "GenerateBeamEncoderDecoderOutput",
    }
    assert expected <= set(CLASSES)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_field_order_matches_transformers(name):
    pytest.importorskip("transformers")
    reference = _hf_class(name)
    if reference is None:
        assert name == "DecoderOutput", f"{name} has no transformers counterpart to compare with"
        return
    want = [f for f in _hf_field_names(reference) if f not in NOT_PRODUCED.get(name, set())]
    if name == "BaseModelOutputWithPoolingAndCrossAttentions":
        # Declared (hidden_states, cache) but BertModel returns (cache, hidden_states); the
        # returned order wins (test_pooled_output_order_is_what_transformers_bert_model_returns).
        i, j = want.index("hidden_states"), want.index("past_key_values")
        assert j == i + 1
        want[i], want[j] = want[j], want[i]
    assert [f.name for f in dataclasses.fields(CLASSES[name])] == want


def test_decoder_output_is_the_reference_decoder_stack_output():
    from clearformer.models.seq2seq import DecoderOutput

    # transformers' Marian and T5 decoders return BaseModelOutputWithPastAndCrossAttentions.
    assert issubclass(DecoderOutput, modeling_outputs.BaseModelOutputWithPastAndCrossAttentions)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_class_is_declared_in_source_with_typed_fields_and_a_docstring(name):
    cls = CLASSES[name]
    tree = ast.parse(inspect.getsource(inspect.getmodule(cls)))
    declared = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    assert name in declared, f"{name} is not written out as a class in {cls.__module__}"
    node = declared[name]
    assert any(isinstance(d, ast.Name) and d.id == "dataclass" for d in node.decorator_list)
    own = [s.target.id for s in node.body if isinstance(s, ast.AnnAssign)]
    inherited = [f.name for f in dataclasses.fields(cls) if f.name not in own]
    assert own or inherited, f"{name} declares no fields"
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        assert hints[field.name] is not typing.Any, f"{name}.{field.name} is typed Any"
        assert field.default is None
    doc = inspect.getdoc(cls) or ""
    assert doc and not doc.startswith(f"{name}("), f"{name} has no docstring of its own"


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_help_shows_the_fields(name):
    cls = CLASSES[name]
    names = [f.name for f in dataclasses.fields(cls)]
    assert names
    assert list(inspect.signature(cls).parameters) == names


def test_public_names_stay_importable_where_they_were():
    from clearformer.generation import GenerateOutput
    from clearformer.models.gpt2.modeling_gpt2 import GPT2DoubleHeadsModelOutput, SequenceClassifierOutputWithPast
    from clearformer.models.seq2seq import DecoderOutput, Seq2SeqLMOutput, Seq2SeqModelOutput

    assert FileUtilsModelOutput is ModelOutput
    assert SequenceClassifierOutputWithPast is modeling_outputs.SequenceClassifierOutputWithPast
    assert Seq2SeqLMOutput is modeling_outputs.Seq2SeqLMOutput
    assert Seq2SeqModelOutput is modeling_outputs.Seq2SeqModelOutput
    assert issubclass(GPT2DoubleHeadsModelOutput, ModelOutput) and issubclass(DecoderOutput, ModelOutput)
    from clearformer.generation.outputs import GenerateBeamDecoderOnlyOutput, GenerateDecoderOnlyOutput

    assert isinstance(GenerateDecoderOnlyOutput(sequences=torch.ones(1, 2)), GenerateOutput)
    assert isinstance(GenerateBeamDecoderOnlyOutput(sequences=torch.ones(1, 2)), GenerateOutput)


def _example() -> SequenceClassifierOutput:
    return SequenceClassifierOutput(logits=torch.tensor([1.0, 2.0]), attentions=(torch.tensor([3.0]),))


def test_attribute_key_and_index_access_read_the_same_values():
    out = _example()
    assert out.logits is out["logits"] is out[0]
    assert out.attentions is out["attentions"] is out[1]
    assert out.loss is None and out.hidden_states is None
    assert out[-1] is out.attentions and out[:1] == (out.logits,)


def test_none_fields_are_left_out_of_keys_tuple_and_dict():
    out = _example()
    assert list(out.keys()) == ["logits", "attentions"]
    assert out.to_tuple() == (out.logits, out.attentions)
    assert list(out) == ["logits", "attentions"]
    assert dict(out) == {"logits": out.logits, "attentions": out.attentions}
    with pytest.raises(KeyError):
        out["loss"]


def test_setting_a_set_field_updates_every_view():
    out = _example()
    new = torch.tensor([5.0])
    out.logits = new
    assert out["logits"] is new and out[0] is new
    out["logits"] = torch.tensor([6.0])
    assert out.logits.item() == 6.0


def test_output_round_trips_through_pickle():
    out = _example()
    back = pickle.loads(pickle.dumps(out))
    assert type(back) is SequenceClassifierOutput
    assert list(back.keys()) == ["logits", "attentions"]
    assert torch.equal(back.logits, out.logits) and torch.equal(back[1][0], out.attentions[0])
    assert back.loss is None


def test_cache_reads_past_key_values():
    cache = object()
    out = BaseModelOutputWithPoolingAndCrossAttentions(last_hidden_state=torch.zeros(1), past_key_values=cache)
    assert out.cache is cache and out["past_key_values"] is cache


def _reference_bert_decoder(tmp_path):
    """transformers 5.24's BertModel as a decoder with cross-attention, tiny and random."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.BertConfig(
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=20,
        vocab_size=30,
        is_decoder=True,
        add_cross_attention=True,
        attn_implementation="eager",
    )
    transformers.BertModel(config).save_pretrained(tmp_path)
    return transformers.BertModel.from_pretrained(tmp_path, attn_implementation="eager").eval()


def test_pooled_output_order_is_what_transformers_bert_model_returns(tmp_path):
    # 5.24 declares hidden_states before the cache but its BertModel returns them after it.
    ref = _reference_bert_decoder(tmp_path)
    ids, memory = torch.tensor([[2, 5, 7, 9]]), torch.randn(1, 3, 16)
    with torch.no_grad():
        out = ref(ids, encoder_hidden_states=memory, use_cache=True, output_hidden_states=True, output_attentions=True)
    want = ["past_key_values" if k == "cache" else k for k in out]
    assert [f.name for f in dataclasses.fields(BaseModelOutputWithPoolingAndCrossAttentions)] == want


def test_bert_decoder_tuple_indexes_like_transformers(tmp_path):
    from clearformer.models.bert.modeling_bert import BertModel
    from clearformer.nn.cache import Cache

    ref = _reference_bert_decoder(tmp_path)
    ours = BertModel.from_pretrained(tmp_path).eval()
    ids, memory = torch.tensor([[2, 5, 7, 9], [3, 4, 6, 8]]), torch.randn(2, 3, 16)
    kwargs = dict(encoder_hidden_states=memory, use_cache=True, output_hidden_states=True, return_dict=False)
    with torch.no_grad():
        want, got = ref(ids, **kwargs), ours(ids, **kwargs)
    assert len(got) == len(want) == 4
    assert isinstance(got[2], Cache) and type(want[2]).__name__ == type(got[2]).__name__
    assert len(got[3]) == len(want[3]) == 2
    for mine, theirs in zip((got[0], got[1], *got[3]), (want[0], want[1], *want[3])):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-5)
