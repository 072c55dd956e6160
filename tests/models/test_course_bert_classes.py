"""Chapter 3's own BERT classes, written on clearformer's base classes, equal clearformer's BertModel.

Course 3.1 / 3.2 re-type BERT module by module after ``from ...modeling_bert import *`` and
build on ``BertPreTrainedModel``: ``init_weights``, ``get_extended_attention_mask``,
``get_head_mask``, ``invert_attention_mask``, ``apply_chunking_to_forward``, the pruning helpers,
ACT2FN, the loss and output classes and the docstring decorators. The classes below follow that
structure (same module names, so the checkpoint keys match) and must load the real MiniLM weights
and give our BertModel's numbers at 1e-5.
"""
# ruff: noqa: F403, F405 - the star import is the point: it is what the course does

from __future__ import annotations

import pytest

from clearformer import BertForSequenceClassification as LibraryClassifier
from clearformer import BertModel as LibraryBertModel
from clearformer.models.bert.modeling_bert import *


class BertEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.position_embedding_type = getattr(config, "position_embedding_type", "absolute")
        self.register_buffer("position_ids", torch.arange(config.max_position_embeddings).expand((1, -1)))
        if version.parse(torch.__version__) > version.parse("1.6.0"):
            zeros = torch.zeros(self.position_ids.size(), dtype=torch.long)
            self.register_buffer("token_type_ids", zeros, persistent=False)

    def forward(self, input_ids=None, token_type_ids=None, position_ids=None, inputs_embeds=None, past_len=0):
        shape = input_ids.size() if input_ids is not None else inputs_embeds.size()[:-1]
        length = shape[1]
        if position_ids is None:
            position_ids = self.position_ids[:, past_len : past_len + length]
        if token_type_ids is None:
            token_type_ids = self.token_type_ids[:, :length].expand(shape[0], length)
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)
        out = inputs_embeds + self.token_type_embeddings(token_type_ids)
        if self.position_embedding_type == "absolute":
            out = out + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(out))


class BertSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = int(config.hidden_size / config.num_attention_heads)
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.query = nn.Linear(config.hidden_size, self.all_head_size)
        self.key = nn.Linear(config.hidden_size, self.all_head_size)
        self.value = nn.Linear(config.hidden_size, self.all_head_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def transpose_for_scores(self, x):
        x = x.view(*x.size()[:-1], self.num_attention_heads, self.attention_head_size)
        return x.permute(0, 2, 1, 3)

    def forward(self, hidden_states, attention_mask=None, head_mask=None, output_attentions=False):
        q = self.transpose_for_scores(self.query(hidden_states))
        k = self.transpose_for_scores(self.key(hidden_states))
        v = self.transpose_for_scores(self.value(hidden_states))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.attention_head_size)
        if attention_mask is not None:
            scores = scores + attention_mask  # additive: 0 or the dtype's minimum
        probs = self.dropout(nn.Softmax(dim=-1)(scores))
        if head_mask is not None:
            probs = probs * head_mask
        context = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        context = context.view(*context.size()[:-2], self.all_head_size)
        return (context, probs) if output_attentions else (context,)


class BertSelfOutput(nn.Module):
    def __init__(self, config, width=None):
        super().__init__()
        self.dense = nn.Linear(width or config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config)
        self.pruned_heads = set()

    def prune_heads(self, heads):
        if not heads:
            return
        heads, index = find_pruneable_heads_and_indices(
            heads, self.self.num_attention_heads, self.self.attention_head_size, self.pruned_heads
        )
        self.self.query = prune_linear_layer(self.self.query, index)
        self.self.key = prune_linear_layer(self.self.key, index)
        self.self.value = prune_linear_layer(self.self.value, index)
        self.output.dense = prune_linear_layer(self.output.dense, index, dim=1)
        self.self.num_attention_heads -= len(heads)
        self.self.all_head_size = self.self.attention_head_size * self.self.num_attention_heads
        self.pruned_heads |= heads

    def forward(self, hidden_states, attention_mask=None, head_mask=None, output_attentions=False):
        outputs = self.self(hidden_states, attention_mask, head_mask, output_attentions)
        return (self.output(outputs[0], hidden_states),) + outputs[1:]


class BertIntermediate(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        act = config.hidden_act
        self.intermediate_act_fn = ACT2FN[act] if isinstance(act, str) else act

    def forward(self, hidden_states):
        return self.intermediate_act_fn(self.dense(hidden_states))


class BertOutput(BertSelfOutput):
    def __init__(self, config):
        super().__init__(config, width=config.intermediate_size)


class BertLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.chunk_size_feed_forward = config.chunk_size_feed_forward
        self.seq_len_dim = 1
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, hidden_states, attention_mask=None, head_mask=None, output_attentions=False):
        outputs = self.attention(hidden_states, attention_mask, head_mask, output_attentions)
        layer_output = apply_chunking_to_forward(
            self.feed_forward_chunk, self.chunk_size_feed_forward, self.seq_len_dim, outputs[0]
        )
        return (layer_output,) + outputs[1:]

    def feed_forward_chunk(self, attention_output):
        return self.output(self.intermediate(attention_output), attention_output)


class BertEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.layer = nn.ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, hidden_states, attention_mask=None, head_mask=None, output_hidden_states=False):
        all_hidden = (hidden_states,) if output_hidden_states else None
        for i, layer in enumerate(self.layer):
            hidden_states = layer(hidden_states, attention_mask, head_mask[i])[0]
            if output_hidden_states:
                all_hidden = all_hidden + (hidden_states,)
        return BaseModelOutputWithPastAndCrossAttentions(last_hidden_state=hidden_states, hidden_states=all_hidden)


class BertPooler(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden_states):
        return self.activation(self.dense(hidden_states[:, 0]))


@add_start_docstrings("The course's BertModel, on clearformer's BertPreTrainedModel.", BERT_START_DOCSTRING)
class BertModel(BertPreTrainedModel):
    def __init__(self, config, add_pooling_layer=True):
        super().__init__(config)
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        self.init_weights()

    def get_input_embeddings(self):
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value):
        self.embeddings.word_embeddings = value

    def _prune_heads(self, heads_to_prune):
        for layer, heads in heads_to_prune.items():
            self.encoder.layer[layer].attention.prune_heads(heads)

    @add_start_docstrings_to_model_forward(BERT_INPUTS_DOCSTRING.format("batch_size, sequence_length"))
    @add_code_sample_docstrings(
        tokenizer_class="BertTokenizer",
        checkpoint="bert-base-uncased",
        output_type=BaseModelOutputWithPoolingAndCrossAttentions,
        config_class="BertConfig",
    )
    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        head_mask=None,
        output_hidden_states=None,
        return_dict=None,
    ):
        return_dict = return_dict if return_dict is not None else self.config.use_return_dict
        shape = input_ids.size()
        if attention_mask is None:
            attention_mask = torch.ones(shape, device=input_ids.device)
        extended = self.get_extended_attention_mask(attention_mask, shape, input_ids.device)
        head_mask = self.get_head_mask(head_mask, self.config.num_hidden_layers)
        embedding_output = self.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        encoded = self.encoder(embedding_output, extended, head_mask, output_hidden_states=bool(output_hidden_states))
        sequence_output = encoded.last_hidden_state
        pooled = self.pooler(sequence_output) if self.pooler is not None else None
        if not return_dict:
            return (sequence_output, pooled) + encoded[1:]
        return BaseModelOutputWithPoolingAndCrossAttentions(
            last_hidden_state=sequence_output, pooler_output=pooled, hidden_states=encoded.hidden_states
        )


class CourseBertForSequenceClassification(BertPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.init_weights()

    @replace_return_docstrings(output_type=SequenceClassifierOutput, config_class="BertConfig")
    def forward(self, input_ids=None, attention_mask=None, labels=None, return_dict=None):
        """Returns:"""
        outputs = self.bert(input_ids, attention_mask=attention_mask, return_dict=True)
        logits = self.classifier(self.dropout(outputs[1]))
        loss = None
        if labels is not None:
            if self.num_labels == 1:
                loss = MSELoss()(logits.squeeze(), labels.squeeze())
            elif labels.dtype in (torch.long, torch.int):
                loss = CrossEntropyLoss()(logits.view(-1, self.num_labels), labels.view(-1))
            else:
                loss = BCEWithLogitsLoss()(logits, labels)
        return SequenceClassifierOutput(loss=loss, logits=logits)


def _batch():
    ids = torch.tensor([[101, 7592, 2088, 2003, 1037, 3231, 102], [101, 2460, 102, 0, 0, 0, 0]])
    mask = (ids != 0).long()
    return ids, mask


def test_course_bert_model_loads_minilm_and_equals_ours(minilm_dir):
    course = BertModel.from_pretrained(minilm_dir)
    ours = LibraryBertModel.from_pretrained(minilm_dir)
    ids, mask = _batch()
    with torch.no_grad():
        got = course(ids, attention_mask=mask, output_hidden_states=True)
        want = ours(ids, attention_mask=mask, output_hidden_states=True)
        as_tuple = course(ids, attention_mask=mask, return_dict=False)
    real = mask.bool()  # padded positions carry no meaning; their values differ by rounding (2e-5)
    assert torch.allclose(got.last_hidden_state[real], want.last_hidden_state[real], atol=1e-5, rtol=0)
    assert torch.allclose(got.pooler_output, want.pooler_output, atol=1e-5, rtol=0)
    for a, b in zip(got.hidden_states, want.hidden_states, strict=True):
        assert torch.allclose(a[real], b[real], atol=1e-5, rtol=0)
    assert torch.equal(as_tuple[0], got.last_hidden_state)
    assert "BertModel" in (BertModel.__doc__ or "") and "Example checkpoint" in BertModel.forward.__doc__


def test_course_head_mask_and_chunked_feed_forward_equal_ours(minilm_dir):
    course = BertModel.from_pretrained(minilm_dir, chunk_size_feed_forward=1)
    ours = LibraryBertModel.from_pretrained(minilm_dir)
    ids, mask = _batch()
    heads = torch.ones(course.config.num_hidden_layers, course.config.num_attention_heads)
    heads[0, 1] = heads[3, 0] = 0.0
    with torch.no_grad():
        got = course(ids, attention_mask=mask, head_mask=heads).last_hidden_state
        want = ours(ids, attention_mask=mask, head_mask=heads).last_hidden_state
    assert torch.allclose(got[mask.bool()], want[mask.bool()], atol=1e-5, rtol=0)


def test_course_pruning_removes_heads_and_keeps_running(minilm_dir):
    course = BertModel.from_pretrained(minilm_dir)
    ids, mask = _batch()
    course.prune_heads({0: [0, 2]})
    attention = course.encoder.layer[0].attention
    assert attention.self.num_attention_heads == course.config.num_attention_heads - 2
    assert attention.self.query.out_features == attention.output.dense.in_features
    assert course.config.pruned_heads == {0: [0, 2]}
    with torch.no_grad():
        assert course(ids, attention_mask=mask).last_hidden_state.shape == (2, 7, course.config.hidden_size)


@pytest.mark.parametrize("num_labels", [1, 3])
def test_course_classifier_equals_ours_given_the_same_weights(num_labels):
    config = BertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        vocab_size=99,
    )
    config.num_labels = num_labels  # BertConfig(num_labels=...) is refused by the constructor (reported)
    torch.manual_seed(0)
    ours = LibraryClassifier(config).eval()
    course = CourseBertForSequenceClassification(config).eval()
    course.load_state_dict(ours.state_dict(), strict=False)
    ids = torch.tensor([[2, 5, 6, 7], [2, 8, 9, 0]])
    mask = (ids != 0).long()
    labels = torch.tensor([0.5, -1.0]) if num_labels == 1 else torch.tensor([2, 0])
    with torch.no_grad():
        got = course(ids, attention_mask=mask, labels=labels)
        want = ours(ids, attention_mask=mask, labels=labels)
    assert torch.allclose(got.logits, want.logits, atol=1e-5, rtol=0)
    assert abs(got.loss.item() - want.loss.item()) < 1e-5
    assert "SequenceClassifierOutput" in CourseBertForSequenceClassification.forward.__doc__
