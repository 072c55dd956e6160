"""Utilities under transformers' import paths (``from clearformer.utils import logging``)."""
