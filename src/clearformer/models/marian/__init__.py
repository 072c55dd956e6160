"""Marian (opus-mt) translation models and tokenizer."""
