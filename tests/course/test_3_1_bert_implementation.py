"""Course notebook 3.1 (how BERT is implemented), walked cell by cell on clearformer.

The notebook re-declares the reference's BertTokenizer (with BasicTokenizer and WordpieceTokenizer)
on ``tokenization_utils.PreTrainedTokenizer`` and its private character tests, runs it once, then
re-declares BertModel and its parts on ``from ...modeling_bert import *``. Changes: the import
line and local paths (the real MiniLM BERT, whose vocab.txt is bert-base-uncased's). The notebook
never runs its BertModel; here it is also loaded from MiniLM and must give clearformer's BertModel
output on the same weights, which exercises every base-class helper it calls.
"""

from __future__ import annotations

import collections
import os
import unicodedata
from pathlib import Path

import torch

from clearformer.models.bert.modeling_bert import *  # noqa: F403 - the notebook's own import

# Printed by the notebook for bt("I like natural language progressing!") with bert-base-uncased.
PRINTED = {
    "input_ids": [101, 1045, 2066, 3019, 2653, 27673, 999, 102],
    "token_type_ids": [0, 0, 0, 0, 0, 0, 0, 0],
    "attention_mask": [1, 1, 1, 1, 1, 1, 1, 1],
}


def declare_notebook_tokenizer():
    """The notebook's tokenizer cell: its imports, then the three classes."""
    from clearformer.tokenization_utils import PreTrainedTokenizer, _is_control, _is_punctuation, _is_whitespace
    from clearformer.utils import logging

    logger = logging.get_logger(__name__)
    VOCAB_FILES_NAMES = {"vocab_file": "vocab.txt"}

    def load_vocab(vocab_file):
        vocab = collections.OrderedDict()
        with open(vocab_file, encoding="utf-8") as reader:
            for index, token in enumerate(reader.readlines()):
                vocab[token.rstrip("\n")] = index
        return vocab

    def whitespace_tokenize(text):
        text = text.strip()
        return text.split() if text else []

    class BertTokenizer(PreTrainedTokenizer):
        vocab_files_names = VOCAB_FILES_NAMES
        pretrained_vocab_files_map = {"vocab_file": {}}
        pretrained_init_configuration = {"bert-base-uncased": {"do_lower_case": True}}
        max_model_input_sizes = {"bert-base-uncased": 512}

        def __init__(
            self,
            vocab_file,
            do_lower_case=True,
            do_basic_tokenize=True,
            never_split=None,
            unk_token="[UNK]",
            sep_token="[SEP]",
            pad_token="[PAD]",
            cls_token="[CLS]",
            mask_token="[MASK]",
            tokenize_chinese_chars=True,
            strip_accents=None,
            **kwargs,
        ):
            # As in the reference 4.4: the base class is set up before the vocabulary exists.
            super().__init__(
                do_lower_case=do_lower_case,
                do_basic_tokenize=do_basic_tokenize,
                never_split=never_split,
                unk_token=unk_token,
                sep_token=sep_token,
                pad_token=pad_token,
                cls_token=cls_token,
                mask_token=mask_token,
                tokenize_chinese_chars=tokenize_chinese_chars,
                strip_accents=strip_accents,
                **kwargs,
            )
            if not os.path.isfile(vocab_file):
                raise ValueError(f"Can't find a vocabulary file at path '{vocab_file}'.")
            self.vocab = load_vocab(vocab_file)
            self.ids_to_tokens = collections.OrderedDict([(ids, tok) for tok, ids in self.vocab.items()])
            self.do_basic_tokenize = do_basic_tokenize
            if do_basic_tokenize:
                self.basic_tokenizer = BasicTokenizer(
                    do_lower_case=do_lower_case,
                    never_split=never_split,
                    tokenize_chinese_chars=tokenize_chinese_chars,
                    strip_accents=strip_accents,
                )
            self.wordpiece_tokenizer = WordpieceTokenizer(vocab=self.vocab, unk_token=self.unk_token)

        @property
        def do_lower_case(self):
            return self.basic_tokenizer.do_lower_case

        @property
        def vocab_size(self):
            return len(self.vocab)

        def get_vocab(self):
            return dict(self.vocab, **self.added_tokens_encoder)

        def _tokenize(self, text):
            if not self.do_basic_tokenize:
                return self.wordpiece_tokenizer.tokenize(text)
            split_tokens = []
            for token in self.basic_tokenizer.tokenize(text, never_split=self.all_special_tokens):
                if token in self.basic_tokenizer.never_split:
                    split_tokens.append(token)
                else:
                    split_tokens += self.wordpiece_tokenizer.tokenize(token)
            return split_tokens

        def _convert_token_to_id(self, token):
            return self.vocab.get(token, self.vocab.get(self.unk_token))

        def _convert_id_to_token(self, index):
            return self.ids_to_tokens.get(index, self.unk_token)

        def convert_tokens_to_string(self, tokens):
            return " ".join(tokens).replace(" ##", "").strip()

        def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
            if token_ids_1 is None:
                return [self.cls_token_id] + token_ids_0 + [self.sep_token_id]
            return [self.cls_token_id] + token_ids_0 + [self.sep_token_id] + token_ids_1 + [self.sep_token_id]

        def get_special_tokens_mask(self, token_ids_0, token_ids_1=None, already_has_special_tokens=False):
            if already_has_special_tokens:
                return super().get_special_tokens_mask(
                    token_ids_0=token_ids_0, token_ids_1=token_ids_1, already_has_special_tokens=True
                )
            if token_ids_1 is not None:
                return [1] + ([0] * len(token_ids_0)) + [1] + ([0] * len(token_ids_1)) + [1]
            return [1] + ([0] * len(token_ids_0)) + [1]

        def create_token_type_ids_from_sequences(self, token_ids_0, token_ids_1=None):
            first = len(token_ids_0) + 2
            return first * [0] if token_ids_1 is None else first * [0] + (len(token_ids_1) + 1) * [1]

        def save_vocabulary(self, save_directory, filename_prefix=None):
            prefix = filename_prefix + "-" if filename_prefix else ""
            if os.path.isdir(save_directory):
                vocab_file = os.path.join(save_directory, prefix + VOCAB_FILES_NAMES["vocab_file"])
            else:
                vocab_file = prefix + save_directory
            index = 0
            with open(vocab_file, "w", encoding="utf-8") as writer:
                for token, token_index in sorted(self.vocab.items(), key=lambda kv: kv[1]):
                    if index != token_index:
                        logger.warning(f"Saving vocabulary to {vocab_file}: vocabulary indices are not consecutive.")
                        index = token_index
                    writer.write(token + "\n")
                    index += 1
            return (vocab_file,)

    class BasicTokenizer:
        def __init__(self, do_lower_case=True, never_split=None, tokenize_chinese_chars=True, strip_accents=None):
            self.do_lower_case = do_lower_case
            self.never_split = set(never_split or [])
            self.tokenize_chinese_chars = tokenize_chinese_chars
            self.strip_accents = strip_accents

        def tokenize(self, text, never_split=None):
            never_split = self.never_split.union(set(never_split)) if never_split else self.never_split
            text = self._clean_text(text)
            if self.tokenize_chinese_chars:
                text = self._tokenize_chinese_chars(text)
            split_tokens = []
            for token in whitespace_tokenize(text):
                if token not in never_split:
                    if self.do_lower_case:
                        token = token.lower()
                        if self.strip_accents is not False:
                            token = self._run_strip_accents(token)
                    elif self.strip_accents:
                        token = self._run_strip_accents(token)
                split_tokens.extend(self._run_split_on_punc(token, never_split))
            return whitespace_tokenize(" ".join(split_tokens))

        def _run_strip_accents(self, text):
            return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")

        def _run_split_on_punc(self, text, never_split=None):
            if never_split is not None and text in never_split:
                return [text]
            output, start_new_word = [], True
            for char in text:
                if _is_punctuation(char):
                    output.append([char])
                    start_new_word = True
                else:
                    if start_new_word:
                        output.append([])
                    start_new_word = False
                    output[-1].append(char)
            return ["".join(x) for x in output]

        def _tokenize_chinese_chars(self, text):
            return "".join(f" {c} " if self._is_chinese_char(ord(c)) else c for c in text)

        def _is_chinese_char(self, cp):
            blocks = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F)]
            blocks += [(0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]
            return any(lo <= cp <= hi for lo, hi in blocks)

        def _clean_text(self, text):
            output = []
            for char in text:
                cp = ord(char)
                if cp == 0 or cp == 0xFFFD or _is_control(char):
                    continue
                output.append(" " if _is_whitespace(char) else char)
            return "".join(output)

    class WordpieceTokenizer:
        def __init__(self, vocab, unk_token, max_input_chars_per_word=100):
            self.vocab = vocab
            self.unk_token = unk_token
            self.max_input_chars_per_word = max_input_chars_per_word

        def tokenize(self, text):
            output_tokens = []
            for token in whitespace_tokenize(text):
                chars = list(token)
                if len(chars) > self.max_input_chars_per_word:
                    output_tokens.append(self.unk_token)
                    continue
                sub_tokens, start = [], 0
                while start < len(chars):  # greedy longest match first
                    end, cur_substr = len(chars), None
                    while start < end:
                        substr = ("##" if start > 0 else "") + "".join(chars[start:end])
                        if substr in self.vocab:
                            cur_substr = substr
                            break
                        end -= 1
                    if cur_substr is None:
                        sub_tokens = None
                        break
                    sub_tokens.append(cur_substr)
                    start = end
                output_tokens.extend(sub_tokens if sub_tokens is not None else [self.unk_token])
            return output_tokens

    return BertTokenizer


def test_notebook_bert_tokenizer_encodes_what_the_notebook_printed(minilm_dir):
    BertTokenizer = declare_notebook_tokenizer()
    bt = BertTokenizer.from_pretrained(str(minilm_dir))  # was 'bert-base-uncased'
    assert dict(bt("I like natural language progressing!")) == PRINTED


def test_notebook_bert_tokenizer_agrees_with_clearformers_bert_tokenizer(minilm_dir, tmp_path):
    from clearformer import BertTokenizer as LibraryBertTokenizer

    NotebookBertTokenizer = declare_notebook_tokenizer()
    ours = NotebookBertTokenizer.from_pretrained(str(minilm_dir))
    library = LibraryBertTokenizer.from_pretrained(minilm_dir)
    texts = ["Héllo, wörld!  Tabs\tand\nnewlines", "中文字符 mixed with English", "unaffable [MASK] tokenizer"]
    for text in texts:
        assert ours.tokenize(text) == library.tokenize(text)
        assert ours(text, "a second sentence")["input_ids"] == library(text, "a second sentence")["input_ids"]
    ids = ours("I like natural language progressing!")["input_ids"]
    assert ours.decode(ids, skip_special_tokens=True) == "i like natural language progressing!"
    (vocab_file,) = ours.save_vocabulary(str(tmp_path))
    assert Path(vocab_file).read_text(encoding="utf-8") == (minilm_dir / "vocab.txt").read_text(encoding="utf-8")


def declare_notebook_model():
    """The notebook's model cells (BertModel first, its parts after), on the star import's names."""

    class BertModel(BertPreTrainedModel):  # noqa: F405
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

        def forward(
            self,
            input_ids=None,
            attention_mask=None,
            token_type_ids=None,
            position_ids=None,
            head_mask=None,
            inputs_embeds=None,
            encoder_hidden_states=None,
            encoder_attention_mask=None,
            past_key_values=None,
            use_cache=None,
            output_attentions=None,
            output_hidden_states=None,
            return_dict=None,
        ):
            output_attentions = output_attentions if output_attentions is not None else self.config.output_attentions
            output_hidden_states = (
                output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
            )
            return_dict = return_dict if return_dict is not None else self.config.use_return_dict
            use_cache = (
                (use_cache if use_cache is not None else self.config.use_cache) if self.config.is_decoder else False
            )
            if input_ids is not None and inputs_embeds is not None:
                raise ValueError("You cannot specify both input_ids and inputs_embeds at the same time")
            input_shape = input_ids.size() if input_ids is not None else inputs_embeds.size()[:-1]
            batch_size, seq_length = input_shape
            device = input_ids.device if input_ids is not None else inputs_embeds.device
            past_key_values_length = past_key_values[0][0].shape[2] if past_key_values is not None else 0
            if attention_mask is None:
                attention_mask = torch.ones(((batch_size, seq_length + past_key_values_length)), device=device)
            if token_type_ids is None:
                token_type_ids = self.embeddings.token_type_ids[:, :seq_length].expand(batch_size, seq_length)
            extended_attention_mask = self.get_extended_attention_mask(attention_mask, input_shape, device)
            encoder_extended_attention_mask = None
            if self.config.is_decoder and encoder_hidden_states is not None:
                if encoder_attention_mask is None:
                    encoder_attention_mask = torch.ones(encoder_hidden_states.shape[:2], device=device)
                encoder_extended_attention_mask = self.invert_attention_mask(encoder_attention_mask)
            head_mask = self.get_head_mask(head_mask, self.config.num_hidden_layers)
            embedding_output = self.embeddings(
                input_ids=input_ids,
                position_ids=position_ids,
                token_type_ids=token_type_ids,
                inputs_embeds=inputs_embeds,
                past_key_values_length=past_key_values_length,
            )
            encoder_outputs = self.encoder(
                embedding_output,
                attention_mask=extended_attention_mask,
                head_mask=head_mask,
                encoder_hidden_states=encoder_hidden_states,
                encoder_attention_mask=encoder_extended_attention_mask,
                past_key_values=past_key_values,
                use_cache=use_cache,
                output_attentions=output_attentions,
                output_hidden_states=output_hidden_states,
                return_dict=return_dict,
            )
            sequence_output = encoder_outputs[0]
            pooled_output = self.pooler(sequence_output) if self.pooler is not None else None
            if not return_dict:
                return (sequence_output, pooled_output) + encoder_outputs[1:]
            return BaseModelOutputWithPoolingAndCrossAttentions(  # noqa: F405
                last_hidden_state=sequence_output,
                pooler_output=pooled_output,
                past_key_values=encoder_outputs.past_key_values,
                hidden_states=encoder_outputs.hidden_states,
                attentions=encoder_outputs.attentions,
                cross_attentions=encoder_outputs.cross_attentions,
            )

    class BertEmbeddings(nn.Module):  # noqa: F405
        def __init__(self, config):
            super().__init__()
            self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)  # noqa: F405
            self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)  # noqa: F405
            self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)  # noqa: F405
            self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)  # noqa: F405
            self.dropout = nn.Dropout(config.hidden_dropout_prob)  # noqa: F405
            self.position_embedding_type = getattr(config, "position_embedding_type", "absolute")
            self.register_buffer("position_ids", torch.arange(config.max_position_embeddings).expand((1, -1)))
            if version.parse(torch.__version__) > version.parse("1.6.0"):  # noqa: F405
                self.register_buffer(
                    "token_type_ids", torch.zeros(self.position_ids.size(), dtype=torch.long), persistent=False
                )

        def forward(
            self, input_ids=None, token_type_ids=None, position_ids=None, inputs_embeds=None, past_key_values_length=0
        ):
            input_shape = input_ids.size() if input_ids is not None else inputs_embeds.size()[:-1]
            seq_length = input_shape[1]
            if position_ids is None:
                position_ids = self.position_ids[:, past_key_values_length : seq_length + past_key_values_length]
            if token_type_ids is None:
                token_type_ids = self.token_type_ids[:, :seq_length].expand(input_shape[0], seq_length)
            if inputs_embeds is None:
                inputs_embeds = self.word_embeddings(input_ids)
            embeddings = inputs_embeds + self.token_type_embeddings(token_type_ids)
            if self.position_embedding_type == "absolute":
                embeddings += self.position_embeddings(position_ids)
            return self.dropout(self.LayerNorm(embeddings))

    class BertEncoder(nn.Module):  # noqa: F405
        def __init__(self, config):
            super().__init__()
            self.config = config
            self.layer = nn.ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])  # noqa: F405

        def forward(
            self,
            hidden_states,
            attention_mask=None,
            head_mask=None,
            encoder_hidden_states=None,
            encoder_attention_mask=None,
            past_key_values=None,
            use_cache=None,
            output_attentions=False,
            output_hidden_states=False,
            return_dict=True,
        ):
            all_hidden_states = () if output_hidden_states else None
            all_self_attentions = () if output_attentions else None
            all_cross_attentions = () if output_attentions and self.config.add_cross_attention else None
            next_decoder_cache = () if use_cache else None
            for i, layer_module in enumerate(self.layer):
                if output_hidden_states:
                    all_hidden_states = all_hidden_states + (hidden_states,)
                layer_head_mask = head_mask[i] if head_mask is not None else None
                past_key_value = past_key_values[i] if past_key_values is not None else None
                if getattr(self.config, "gradient_checkpointing", False) and self.training:
                    if use_cache:
                        logger.warning("`use_cache=True` is incompatible with gradient checkpointing")  # noqa: F405
                        use_cache = False

                    def create_custom_forward(module):
                        def custom_forward(*inputs):
                            return module(*inputs, past_key_value, output_attentions)  # noqa: B023 - as in the reference

                        return custom_forward

                    layer_outputs = torch.utils.checkpoint.checkpoint(
                        create_custom_forward(layer_module),
                        hidden_states,
                        attention_mask,
                        layer_head_mask,
                        encoder_hidden_states,
                        encoder_attention_mask,
                    )
                else:
                    layer_outputs = layer_module(
                        hidden_states,
                        attention_mask,
                        layer_head_mask,
                        encoder_hidden_states,
                        encoder_attention_mask,
                        past_key_value,
                        output_attentions,
                    )
                hidden_states = layer_outputs[0]
                if use_cache:
                    next_decoder_cache += (layer_outputs[-1],)
                if output_attentions:
                    all_self_attentions = all_self_attentions + (layer_outputs[1],)
                    if self.config.add_cross_attention:
                        all_cross_attentions = all_cross_attentions + (layer_outputs[2],)
            if output_hidden_states:
                all_hidden_states = all_hidden_states + (hidden_states,)
            if not return_dict:
                parts = [
                    hidden_states,
                    next_decoder_cache,
                    all_hidden_states,
                    all_self_attentions,
                    all_cross_attentions,
                ]
                return tuple(v for v in parts if v is not None)
            return BaseModelOutputWithPastAndCrossAttentions(  # noqa: F405
                last_hidden_state=hidden_states,
                past_key_values=next_decoder_cache,
                hidden_states=all_hidden_states,
                attentions=all_self_attentions,
                cross_attentions=all_cross_attentions,
            )

    class BertAttention(nn.Module):  # noqa: F405
        def __init__(self, config):
            super().__init__()
            self.self = BertSelfAttention(config)
            self.output = BertSelfOutput(config)
            self.pruned_heads = set()

        def prune_heads(self, heads):
            if len(heads) == 0:
                return
            heads, index = find_pruneable_heads_and_indices(  # noqa: F405
                heads, self.self.num_attention_heads, self.self.attention_head_size, self.pruned_heads
            )
            self.self.query = prune_linear_layer(self.self.query, index)  # noqa: F405
            self.self.key = prune_linear_layer(self.self.key, index)  # noqa: F405
            self.self.value = prune_linear_layer(self.self.value, index)  # noqa: F405
            self.output.dense = prune_linear_layer(self.output.dense, index, dim=1)  # noqa: F405
            self.self.num_attention_heads = self.self.num_attention_heads - len(heads)
            self.self.all_head_size = self.self.attention_head_size * self.self.num_attention_heads
            self.pruned_heads = self.pruned_heads.union(heads)

        def forward(
            self,
            hidden_states,
            attention_mask=None,
            head_mask=None,
            encoder_hidden_states=None,
            encoder_attention_mask=None,
            past_key_value=None,
            output_attentions=False,
        ):
            self_outputs = self.self(
                hidden_states,
                attention_mask,
                head_mask,
                encoder_hidden_states,
                encoder_attention_mask,
                past_key_value,
                output_attentions,
            )
            return (self.output(self_outputs[0], hidden_states),) + self_outputs[1:]

    class BertSelfAttention(nn.Module):  # noqa: F405
        def __init__(self, config):
            super().__init__()
            if config.hidden_size % config.num_attention_heads != 0:
                raise ValueError(f"hidden size {config.hidden_size} is not a multiple of {config.num_attention_heads}")
            self.num_attention_heads = config.num_attention_heads
            self.attention_head_size = int(config.hidden_size / config.num_attention_heads)
            self.all_head_size = self.num_attention_heads * self.attention_head_size
            self.query = nn.Linear(config.hidden_size, self.all_head_size)  # noqa: F405
            self.key = nn.Linear(config.hidden_size, self.all_head_size)  # noqa: F405
            self.value = nn.Linear(config.hidden_size, self.all_head_size)  # noqa: F405
            self.dropout = nn.Dropout(config.attention_probs_dropout_prob)  # noqa: F405
            self.is_decoder = config.is_decoder

        def transpose_for_scores(self, x):
            x = x.view(*x.size()[:-1], self.num_attention_heads, self.attention_head_size)
            return x.permute(0, 2, 1, 3)

        def forward(
            self,
            hidden_states,
            attention_mask=None,
            head_mask=None,
            encoder_hidden_states=None,
            encoder_attention_mask=None,
            past_key_value=None,
            output_attentions=False,
        ):
            query_layer = self.transpose_for_scores(self.query(hidden_states))
            key_layer = self.transpose_for_scores(self.key(hidden_states))
            value_layer = self.transpose_for_scores(self.value(hidden_states))
            attention_scores = torch.matmul(query_layer, key_layer.transpose(-1, -2))
            attention_scores = attention_scores / math.sqrt(self.attention_head_size)  # noqa: F405 - star import
            if attention_mask is not None:
                attention_scores = attention_scores + attention_mask  # additive: 0 keep, large negative drop
            attention_probs = self.dropout(nn.Softmax(dim=-1)(attention_scores))  # noqa: F405
            if head_mask is not None:
                attention_probs = attention_probs * head_mask
            context_layer = torch.matmul(attention_probs, value_layer).permute(0, 2, 1, 3).contiguous()
            context_layer = context_layer.view(*context_layer.size()[:-2], self.all_head_size)
            return (context_layer, attention_probs) if output_attentions else (context_layer,)

    class BertSelfOutput(nn.Module):  # noqa: F405
        def __init__(self, config):
            super().__init__()
            self.dense = nn.Linear(config.hidden_size, config.hidden_size)  # noqa: F405
            self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)  # noqa: F405
            self.dropout = nn.Dropout(config.hidden_dropout_prob)  # noqa: F405

        def forward(self, hidden_states, input_tensor):
            return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)

    class BertIntermediate(nn.Module):  # noqa: F405
        def __init__(self, config):
            super().__init__()
            self.dense = nn.Linear(config.hidden_size, config.intermediate_size)  # noqa: F405
            if isinstance(config.hidden_act, str):
                self.intermediate_act_fn = ACT2FN[config.hidden_act]  # noqa: F405
            else:
                self.intermediate_act_fn = config.hidden_act

        def forward(self, hidden_states):
            return self.intermediate_act_fn(self.dense(hidden_states))

    class BertOutput(nn.Module):  # noqa: F405
        def __init__(self, config):
            super().__init__()
            self.dense = nn.Linear(config.intermediate_size, config.hidden_size)  # noqa: F405
            self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)  # noqa: F405
            self.dropout = nn.Dropout(config.hidden_dropout_prob)  # noqa: F405

        def forward(self, hidden_states, input_tensor):
            return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)

    class BertPooler(nn.Module):  # noqa: F405
        def __init__(self, config):
            super().__init__()
            self.dense = nn.Linear(config.hidden_size, config.hidden_size)  # noqa: F405
            self.activation = nn.Tanh()  # noqa: F405

        def forward(self, hidden_states):
            return self.activation(self.dense(hidden_states[:, 0]))  # the [CLS] position

    parts = (BertAttention, BertSelfAttention, BertSelfOutput, BertIntermediate, BertOutput)
    return BertModel, parts


def test_notebook_bert_model_gives_clearformers_bert_output_on_minilm(minilm_dir):
    from clearformer import BertModel as LibraryBertModel
    from clearformer import BertTokenizer

    NotebookBertModel, _ = declare_notebook_model()
    tokenizer = BertTokenizer.from_pretrained(minilm_dir)
    inputs = tokenizer(["I like natural language progressing!", "A short one."], padding=True, return_tensors="pt")
    assert inputs["attention_mask"][1].tolist().count(0) > 0  # the second row is padded
    ours = NotebookBertModel.from_pretrained(minilm_dir).eval()
    library = LibraryBertModel.from_pretrained(minilm_dir).eval()
    with torch.no_grad():
        got = ours(**inputs, output_hidden_states=True, output_attentions=True)
        want = library(**inputs)
    real = inputs["attention_mask"].bool()
    torch.testing.assert_close(got.last_hidden_state[real], want.last_hidden_state[real], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(got.pooler_output, want.pooler_output, rtol=1e-4, atol=1e-4)
    assert len(got.hidden_states) == 7 and len(got.attentions) == 6  # embeddings + 6 layers; 6 layers
    assert got.attentions[0].shape == (2, 12, inputs["input_ids"].shape[1], inputs["input_ids"].shape[1])
    with torch.no_grad():
        tuple_out = ours(**inputs, return_dict=False)
    torch.testing.assert_close(tuple_out[0][real], got.last_hidden_state[real], rtol=1e-4, atol=1e-4)


def test_notebook_attention_parts_compute_one_layer_like_clearformers(minilm_dir):
    """The notebook's BertAttention/Intermediate/Output, given layer 0's MiniLM weights, give layer 0's output."""
    from clearformer import BertConfig
    from clearformer import BertModel as LibraryBertModel

    _, (BertAttention, _, _, BertIntermediate, BertOutput) = declare_notebook_model()
    config = BertConfig.from_pretrained(minilm_dir)
    library = LibraryBertModel.from_pretrained(minilm_dir).eval()
    layer = library.encoder.layer[0]
    attention, intermediate, output = BertAttention(config), BertIntermediate(config), BertOutput(config)
    attention.load_state_dict(layer.attention.state_dict())
    intermediate.load_state_dict(layer.intermediate.state_dict())
    output.load_state_dict(layer.output.state_dict())
    for module in (attention, intermediate, output):
        module.eval()
    hidden = torch.randn(2, 5, config.hidden_size)
    mask = torch.zeros(2, 1, 1, 5)
    mask[1, ..., 3:] = torch.finfo(torch.float32).min  # the extended mask: the last two keys of row 1 dropped
    with torch.no_grad():
        attended = attention(hidden, mask)[0]
        got = output(intermediate(attended), attended)
        want = layer(hidden, mask)[0]
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    attention.prune_heads({0, 1})
    assert attention.self.num_attention_heads == 10 and attention.self.query.out_features == 10 * 32
