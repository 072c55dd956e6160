"""Course notebook 3.2 (BERT-based application models), walked cell by cell on clearformer.

The notebook re-declares the reference's head classes on top of ``from ...modeling_bert import *``
(BertForPreTraining, BertLMHeadModel, BertForNextSentencePrediction, BertForSequenceClassification,
BertForMultipleChoice, BertForTokenClassification, BertForQuestionAnswering) with the reference's
docstring decorators, then loads checkpoints into them and runs one example each. Changes: the
import line and local paths (the real MiniLM BERT for every hub checkpoint: same uncased vocab,
no fine-tuned heads). Head weights are therefore random: the notebook's printed probabilities and
answers are not reproducible, so shapes, ids and losses are asserted instead; the base model's
output is asserted equal to clearformer's own BertModel on the same weights.
"""

from __future__ import annotations

import pytest
import torch

from clearformer.models.bert.configuration_bert import *  # noqa: F403 - the notebook's own import
from clearformer.models.bert.modeling_bert import *  # noqa: F403 - the notebook's own import

_CHECKPOINT_FOR_DOC = "bert-base-uncased"
_CONFIG_FOR_DOC = "BertConfig"
_TOKENIZER_FOR_DOC = "BertTokenizer"
HELLO_IDS = [101, 7592, 1010, 2026, 3899, 2003, 10140, 102]  # "Hello, my dog is cute", bert-base-uncased


def _base_output(minilm_dir, inputs):
    from clearformer import BertModel

    return BertModel.from_pretrained(minilm_dir).eval()(**inputs).last_hidden_state


def test_bert_for_pretraining_as_declared_in_the_notebook(minilm_dir):
    class BertForPreTraining(BertPreTrainedModel):  # noqa: F405
        def __init__(self, config):
            super().__init__(config)
            self.bert = BertModel(config)  # noqa: F405
            self.cls = BertPreTrainingHeads(config)  # noqa: F405
            self.init_weights()

        def get_output_embeddings(self):
            return self.cls.predictions.decoder

        def set_output_embeddings(self, new_embeddings):
            self.cls.predictions.decoder = new_embeddings

        @add_start_docstrings_to_model_forward(BERT_INPUTS_DOCSTRING.format("batch_size, sequence_length"))  # noqa: F405
        @replace_return_docstrings(output_type=BertForPreTrainingOutput, config_class=_CONFIG_FOR_DOC)  # noqa: F405
        def forward(
            self,
            input_ids=None,
            attention_mask=None,
            token_type_ids=None,
            position_ids=None,
            head_mask=None,
            inputs_embeds=None,
            labels=None,
            next_sentence_label=None,
            output_attentions=None,
            output_hidden_states=None,
            return_dict=None,
        ):
            return_dict = return_dict if return_dict is not None else self.config.use_return_dict
            outputs = self.bert(
                input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
                position_ids=position_ids,
                head_mask=head_mask,
                inputs_embeds=inputs_embeds,
                output_attentions=output_attentions,
                output_hidden_states=output_hidden_states,
                return_dict=return_dict,
            )
            sequence_output, pooled_output = outputs[:2]
            prediction_scores, seq_relationship_score = self.cls(sequence_output, pooled_output)
            total_loss = None
            if labels is not None and next_sentence_label is not None:
                loss_fct = CrossEntropyLoss()  # noqa: F405
                masked_lm_loss = loss_fct(prediction_scores.view(-1, self.config.vocab_size), labels.view(-1))
                next_sentence_loss = loss_fct(seq_relationship_score.view(-1, 2), next_sentence_label.view(-1))
                total_loss = masked_lm_loss + next_sentence_loss
            if not return_dict:
                output = (prediction_scores, seq_relationship_score) + outputs[2:]
                return ((total_loss,) + output) if total_loss is not None else output
            return BertForPreTrainingOutput(  # noqa: F405
                loss=total_loss,
                prediction_logits=prediction_scores,
                seq_relationship_logits=seq_relationship_score,
                hidden_states=outputs.hidden_states,
                attentions=outputs.attentions,
            )

    from clearformer import BertTokenizer

    tokenizer = BertTokenizer.from_pretrained(minilm_dir)  # was 'bert-base-uncased'
    model = BertForPreTraining.from_pretrained(minilm_dir).eval()
    inputs = tokenizer("Hello, my dog is cute", return_tensors="pt")
    assert inputs["input_ids"].tolist() == [HELLO_IDS]
    outputs = model(**inputs)
    assert outputs.prediction_logits.shape == (1, 8, 30522)
    assert outputs.seq_relationship_logits.shape == (1, 2)
    torch.testing.assert_close(model.bert(**inputs).last_hidden_state, _base_output(minilm_dir, inputs))
    labels = inputs["input_ids"].clone()
    loss = model(**inputs, labels=labels, next_sentence_label=torch.tensor([0])).loss
    assert torch.isfinite(loss)


def test_bert_lm_head_model_as_declared_in_the_notebook(minilm_dir):
    @add_start_docstrings(  # noqa: F405
        """Bert Model with a `language modeling` head on top for CLM fine-tuning. """,
        BERT_START_DOCSTRING,  # noqa: F405
    )
    class BertLMHeadModel(BertPreTrainedModel):  # noqa: F405
        _keys_to_ignore_on_load_unexpected = [r"pooler"]
        _keys_to_ignore_on_load_missing = [r"position_ids", r"predictions.decoder.bias"]

        def __init__(self, config):
            super().__init__(config)
            if not config.is_decoder:
                logger.warning("If you want to use `BertLMHeadModel` as a standalone, add `is_decoder=True.`")  # noqa: F405
            self.bert = BertModel(config, add_pooling_layer=False)  # noqa: F405
            self.cls = BertOnlyMLMHead(config)  # noqa: F405
            self.init_weights()

        def get_output_embeddings(self):
            return self.cls.predictions.decoder

        def set_output_embeddings(self, new_embeddings):
            self.cls.predictions.decoder = new_embeddings

        @add_start_docstrings_to_model_forward(BERT_INPUTS_DOCSTRING.format("batch_size, sequence_length"))  # noqa: F405
        @replace_return_docstrings(output_type=CausalLMOutputWithCrossAttentions, config_class=_CONFIG_FOR_DOC)  # noqa: F405
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
            labels=None,
            past_key_values=None,
            use_cache=None,
            output_attentions=None,
            output_hidden_states=None,
            return_dict=None,
        ):
            return_dict = return_dict if return_dict is not None else self.config.use_return_dict
            if labels is not None:
                use_cache = False
            outputs = self.bert(
                input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
                position_ids=position_ids,
                head_mask=head_mask,
                inputs_embeds=inputs_embeds,
                encoder_hidden_states=encoder_hidden_states,
                encoder_attention_mask=encoder_attention_mask,
                past_key_values=past_key_values,
                use_cache=use_cache,
                output_attentions=output_attentions,
                output_hidden_states=output_hidden_states,
                return_dict=return_dict,
            )
            prediction_scores = self.cls(outputs[0])
            lm_loss = None
            if labels is not None:
                # next-token prediction: scores at t predict the label at t + 1
                shifted_prediction_scores = prediction_scores[:, :-1, :].contiguous()
                labels = labels[:, 1:].contiguous()
                loss_fct = CrossEntropyLoss()  # noqa: F405
                lm_loss = loss_fct(shifted_prediction_scores.view(-1, self.config.vocab_size), labels.view(-1))
            if not return_dict:
                output = (prediction_scores,) + outputs[2:]
                return ((lm_loss,) + output) if lm_loss is not None else output
            return CausalLMOutputWithCrossAttentions(  # noqa: F405
                loss=lm_loss,
                logits=prediction_scores,
                past_key_values=outputs.past_key_values,
                hidden_states=outputs.hidden_states,
                attentions=outputs.attentions,
                cross_attentions=outputs.cross_attentions,
            )

        def prepare_inputs_for_generation(self, input_ids, past=None, attention_mask=None, **model_kwargs):
            if attention_mask is None:
                attention_mask = input_ids.new_ones(input_ids.shape)
            if past is not None:
                input_ids = input_ids[:, -1:]
            return {"input_ids": input_ids, "attention_mask": attention_mask, "past_key_values": past}

        def _reorder_cache(self, past, beam_idx):
            return tuple(tuple(state.index_select(0, beam_idx) for state in layer) for layer in past)

    from clearformer import BertConfig, BertTokenizer

    tokenizer = BertTokenizer.from_pretrained(minilm_dir)
    config = BertConfig.from_pretrained(minilm_dir)
    config.is_decoder = True
    model = BertLMHeadModel.from_pretrained(minilm_dir, config=config).eval()
    inputs = tokenizer("Hello, my dog is cute", return_tensors="pt")
    outputs = model(**inputs)
    assert outputs.logits.shape == (1, 8, 30522)
    # is_decoder makes the self-attention causal: the first position cannot see the rest.
    first = model(input_ids=inputs["input_ids"][:, :1]).logits[0, 0]
    torch.testing.assert_close(first, outputs.logits[0, 0], rtol=1e-4, atol=1e-4)
    assert torch.isfinite(model(**inputs, labels=inputs["input_ids"]).loss)


def test_bert_for_next_sentence_prediction_as_declared_in_the_notebook(minilm_dir):
    class BertForNextSentencePrediction(BertPreTrainedModel):  # noqa: F405
        def __init__(self, config):
            super().__init__(config)
            self.bert = BertModel(config)  # noqa: F405
            self.cls = BertOnlyNSPHead(config)  # noqa: F405
            self.init_weights()

        @add_start_docstrings_to_model_forward(BERT_INPUTS_DOCSTRING.format("batch_size, sequence_length"))  # noqa: F405
        @replace_return_docstrings(output_type=NextSentencePredictorOutput, config_class=_CONFIG_FOR_DOC)  # noqa: F405
        def forward(
            self,
            input_ids=None,
            attention_mask=None,
            token_type_ids=None,
            position_ids=None,
            head_mask=None,
            inputs_embeds=None,
            labels=None,
            output_attentions=None,
            output_hidden_states=None,
            return_dict=None,
            **kwargs,
        ):
            if "next_sentence_label" in kwargs:
                # `warnings` comes from the star import, as in the notebook (the reference module imports it)
                warnings.warn("`next_sentence_label` is deprecated, use `labels`", FutureWarning, stacklevel=2)  # noqa: F405
                labels = kwargs.pop("next_sentence_label")
            return_dict = return_dict if return_dict is not None else self.config.use_return_dict
            outputs = self.bert(
                input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
                position_ids=position_ids,
                head_mask=head_mask,
                inputs_embeds=inputs_embeds,
                output_attentions=output_attentions,
                output_hidden_states=output_hidden_states,
                return_dict=return_dict,
            )
            seq_relationship_scores = self.cls(outputs[1])
            next_sentence_loss = None
            if labels is not None:
                loss_fct = CrossEntropyLoss()  # noqa: F405
                next_sentence_loss = loss_fct(seq_relationship_scores.view(-1, 2), labels.view(-1))
            if not return_dict:
                output = (seq_relationship_scores,) + outputs[2:]
                return ((next_sentence_loss,) + output) if next_sentence_loss is not None else output
            return NextSentencePredictorOutput(  # noqa: F405
                loss=next_sentence_loss,
                logits=seq_relationship_scores,
                hidden_states=outputs.hidden_states,
                attentions=outputs.attentions,
            )

    from clearformer import BertTokenizer

    tokenizer = BertTokenizer.from_pretrained(minilm_dir)
    model = BertForNextSentencePrediction.from_pretrained(minilm_dir).eval()
    prompt = "In Italy, pizza served in formal settings, such as at a restaurant, is presented unsliced."
    next_sentence = "The sky is blue due to the shorter wavelength of blue light."
    encoding = tokenizer(prompt, next_sentence, return_tensors="pt")
    n_first = len(tokenizer(prompt)["input_ids"])
    assert encoding["token_type_ids"][0].tolist() == [0] * n_first + [1] * (encoding["input_ids"].shape[1] - n_first)
    outputs = model(**encoding, labels=torch.LongTensor([1]))
    # The notebook's `logits[0, 0] < logits[0, 1]` needs bert-base-uncased's trained NSP head; MiniLM has none.
    assert outputs.logits.shape == (1, 2)
    assert torch.isfinite(outputs.loss)


def test_sequence_classification_example_runs_on_the_notebook_classes(minilm_dir):
    from clearformer.models.bert.modeling_bert import BertForSequenceClassification
    from clearformer.models.bert.tokenization_bert import BertTokenizer

    tokenizer = BertTokenizer.from_pretrained(minilm_dir)  # was "bert-base-cased-finetuned-mrpc"
    model = BertForSequenceClassification.from_pretrained(minilm_dir).eval()
    classes = ["not paraphrase", "is paraphrase"]
    sequence_0 = "The company HuggingFace is based in New York City"
    sequence_1 = "Apples are especially bad for your health"
    sequence_2 = "HuggingFace's headquarters are situated in Manhattan"
    paraphrase = tokenizer(sequence_0, sequence_2, return_tensors="pt")
    not_paraphrase = tokenizer(sequence_0, sequence_1, return_tensors="pt")
    paraphrase_results = torch.softmax(model(**paraphrase).logits, dim=1).tolist()[0]
    not_paraphrase_results = torch.softmax(model(**not_paraphrase).logits, dim=1).tolist()[0]
    for results in (paraphrase_results, not_paraphrase_results):
        assert len(results) == len(classes)
        assert sum(results) == pytest.approx(1.0)
        assert [f"{classes[i]}: {int(round(results[i] * 100))}%" for i in range(len(classes))]


def test_problem_type_losses_of_the_declared_sequence_classifier(minilm_dir):
    """The notebook's BertForSequenceClassification picks MSE / cross-entropy / BCE by problem_type."""

    class BertForSequenceClassification(BertPreTrainedModel):  # noqa: F405
        def __init__(self, config):
            super().__init__(config)
            self.num_labels = config.num_labels
            self.config = config
            self.bert = BertModel(config)  # noqa: F405
            classifier_dropout = (
                config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
            )
            self.dropout = nn.Dropout(classifier_dropout)  # noqa: F405
            self.classifier = nn.Linear(config.hidden_size, config.num_labels)  # noqa: F405
            self.init_weights()

        @add_start_docstrings_to_model_forward(BERT_INPUTS_DOCSTRING.format("batch_size, sequence_length"))  # noqa: F405
        @add_code_sample_docstrings(  # noqa: F405
            tokenizer_class=_TOKENIZER_FOR_DOC,
            checkpoint=_CHECKPOINT_FOR_DOC,
            output_type=SequenceClassifierOutput,  # noqa: F405
            config_class=_CONFIG_FOR_DOC,
        )
        def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, return_dict=None):
            return_dict = return_dict if return_dict is not None else self.config.use_return_dict
            outputs = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            logits = self.classifier(self.dropout(outputs[1]))
            loss = None
            if labels is not None:
                if self.config.problem_type is None:
                    if self.num_labels == 1:
                        self.config.problem_type = "regression"
                    elif labels.dtype in (torch.long, torch.int):
                        self.config.problem_type = "single_label_classification"
                    else:
                        self.config.problem_type = "multi_label_classification"
                if self.config.problem_type == "regression":
                    loss = MSELoss()(logits.squeeze(), labels.squeeze())  # noqa: F405
                elif self.config.problem_type == "single_label_classification":
                    loss = CrossEntropyLoss()(logits.view(-1, self.num_labels), labels.view(-1))  # noqa: F405
                else:
                    loss = BCEWithLogitsLoss()(logits, labels)  # noqa: F405
            return SequenceClassifierOutput(loss=loss, logits=logits)  # noqa: F405

    from clearformer import BertTokenizer

    tokenizer = BertTokenizer.from_pretrained(minilm_dir)
    inputs = tokenizer(["a fine day", "a bad day"], return_tensors="pt")
    model = BertForSequenceClassification.from_pretrained(minilm_dir).eval()
    model(**inputs, labels=torch.tensor([0, 1]))
    assert model.config.problem_type == "single_label_classification"
    model = BertForSequenceClassification.from_pretrained(minilm_dir, num_labels=3).eval()
    model(**inputs, labels=torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]))
    assert model.config.problem_type == "multi_label_classification"


def test_token_classification_example_runs_as_in_the_notebook(minilm_dir):
    from clearformer import BertForTokenClassification, BertTokenizer

    model = BertForTokenClassification.from_pretrained(minilm_dir).eval()  # was dbmdz/bert-large-cased-...
    tokenizer = BertTokenizer.from_pretrained(minilm_dir)  # was "bert-base-cased"
    sequence = (
        "Hugging Face Inc. is a company based in New York City. Its headquarters are in DUMBO, therefore very "
        "close to the Manhattan Bridge."
    )
    tokens = tokenizer.tokenize(tokenizer.decode(tokenizer.encode(sequence)))  # the notebook's round trip
    inputs = tokenizer.encode(sequence, return_tensors="pt")
    assert tokens == tokenizer.convert_ids_to_tokens(inputs[0].tolist())
    assert (tokens[0], tokens[-1]) == ("[CLS]", "[SEP]")
    outputs = model(inputs).logits
    predictions = torch.argmax(outputs, dim=2)
    pairs = [(token, model.config.id2label[prediction]) for token, prediction in zip(tokens, predictions[0].numpy())]
    assert len(pairs) == inputs.shape[1]


def test_question_answering_example_runs_as_in_the_notebook(minilm_dir):
    from clearformer import AutoModelForQuestionAnswering, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(minilm_dir)  # was bert-large-uncased-whole-word-masking-...
    model = AutoModelForQuestionAnswering.from_pretrained(minilm_dir).eval()
    text = (
        "🤗 Transformers (formerly known as pytorch-transformers and pytorch-pretrained-bert) provides "
        "general-purpose architectures (BERT, GPT-2, RoBERTa, XLM, DistilBert, XLNet…) for Natural Language "
        "Understanding (NLU) and Natural Language Generation (NLG) with over 32+ pretrained models in 100+ "
        "languages and deep interoperability between TensorFlow 2.0 and PyTorch."
    )
    questions = [
        "How many pretrained models are available in 🤗 Transformers?",
        "What does 🤗 Transformers provide?",
        "🤗 Transformers provides interoperability between which frameworks?",
    ]
    for question in questions:
        inputs = tokenizer(question, text, add_special_tokens=True, return_tensors="pt")
        input_ids = inputs["input_ids"].tolist()[0]
        outputs = model(**inputs)
        assert outputs.start_logits.shape == outputs.end_logits.shape == (1, len(input_ids))
        answer_start = torch.argmax(outputs.start_logits)
        answer_end = torch.argmax(outputs.end_logits) + 1
        answer = tokenizer.convert_tokens_to_string(tokenizer.convert_ids_to_tokens(input_ids[answer_start:answer_end]))
        assert isinstance(answer, str)
    # The 🤗 emoji is not in the uncased vocabulary: it becomes [UNK], as with bert-large-uncased.
    assert tokenizer.convert_ids_to_tokens(tokenizer(questions[1])["input_ids"])[3] == "[UNK]"


def test_bert_for_multiple_choice_as_declared_in_the_notebook(minilm_dir):
    class BertForMultipleChoice(BertPreTrainedModel):  # noqa: F405
        def __init__(self, config):
            super().__init__(config)
            self.bert = BertModel(config)  # noqa: F405
            self.dropout = nn.Dropout(config.hidden_dropout_prob)  # noqa: F405
            self.classifier = nn.Linear(config.hidden_size, 1)  # noqa: F405
            self.init_weights()

        @add_start_docstrings_to_model_forward(BERT_INPUTS_DOCSTRING.format("batch_size, num_choices, sequence_length"))  # noqa: F405
        @add_code_sample_docstrings(  # noqa: F405
            tokenizer_class=_TOKENIZER_FOR_DOC,
            checkpoint=_CHECKPOINT_FOR_DOC,
            output_type=MultipleChoiceModelOutput,  # noqa: F405
            config_class=_CONFIG_FOR_DOC,
        )
        def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, return_dict=None):
            return_dict = return_dict if return_dict is not None else self.config.use_return_dict
            num_choices = input_ids.shape[1]
            # [batch, choices, seq] -> [batch * choices, seq]: every choice is one BERT input
            input_ids = input_ids.view(-1, input_ids.size(-1))
            attention_mask = attention_mask.view(-1, attention_mask.size(-1)) if attention_mask is not None else None
            token_type_ids = token_type_ids.view(-1, token_type_ids.size(-1)) if token_type_ids is not None else None
            outputs = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            reshaped_logits = self.classifier(self.dropout(outputs[1])).view(-1, num_choices)
            loss = CrossEntropyLoss()(reshaped_logits, labels) if labels is not None else None  # noqa: F405
            if not return_dict:
                output = (reshaped_logits,) + outputs[2:]
                return ((loss,) + output) if loss is not None else output
            return MultipleChoiceModelOutput(loss=loss, logits=reshaped_logits)  # noqa: F405

    from clearformer import BertTokenizer

    tokenizer = BertTokenizer.from_pretrained(minilm_dir)
    prompt = "In Italy, pizza served in formal settings is presented unsliced."
    choices = ["It is eaten with a fork and a knife.", "It is eaten while held in the hand."]
    encoding = tokenizer([prompt, prompt], choices, return_tensors="pt", padding=True)
    model = BertForMultipleChoice.from_pretrained(minilm_dir).eval()
    outputs = model(**{k: v.unsqueeze(0) for k, v in encoding.items()}, labels=torch.tensor([0]))
    assert outputs.logits.shape == (1, 2)
    assert torch.isfinite(outputs.loss)
