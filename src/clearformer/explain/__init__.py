"""The handbook made executable: one small module per question, each with ``run(**kw) -> dict``.

``clearformer explain`` lists the topics; ``clearformer explain TOPIC --out DIR`` prints a topic's
numbers and writes its pictures. ``TOPICS`` (in registry.py) is the table of names, questions and
titles; ``run_topic`` runs one by name; ``run_all`` writes every result into one folder.
"""

from .registry import TOPICS, Topic, UnknownTopic, format_result, get_topic, run_all, run_topic
from .resources import MissingResource

__all__ = ["TOPICS", "MissingResource", "Topic", "UnknownTopic", "format_result", "get_topic", "run_all", "run_topic"]
