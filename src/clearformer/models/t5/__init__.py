"""T5 models (T5Model, T5ForConditionalGeneration, T5EncoderModel) and tokenizer."""
