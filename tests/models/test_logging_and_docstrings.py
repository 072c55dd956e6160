"""clearformer.utils.logging and clearformer.file_utils under transformers' names (course code imports them)."""

from __future__ import annotations

import logging as std_logging

from clearformer.file_utils import add_code_sample_docstrings, add_start_docstrings, replace_return_docstrings
from clearformer.modeling_outputs import SequenceClassifierOutput
from clearformer.utils import logging


def test_get_logger_is_in_the_library_tree_and_verbosity_switches_it():
    logger = logging.get_logger("clearformer.models.bert.modeling_bert")
    assert logger is std_logging.getLogger("clearformer.models.bert.modeling_bert")
    before = logging.get_verbosity()
    try:
        logging.set_verbosity_info()
        assert logger.isEnabledFor(logging.INFO)
        logging.set_verbosity_error()
        assert not logger.isEnabledFor(logging.WARNING)
    finally:
        logging.set_verbosity(before)


def test_docstring_decorators_join_the_text_and_name_the_output():
    @add_start_docstrings("Intro. ", "More. ")
    class Model:
        """Own."""

        @add_code_sample_docstrings(checkpoint="bert-base-uncased", output_type=SequenceClassifierOutput)
        def forward(self):
            """Forward."""

        @replace_return_docstrings(output_type=SequenceClassifierOutput, config_class="BertConfig")
        def other(self):
            """Returns:"""

    assert Model.__doc__ == "Intro. More. Own."
    assert "bert-base-uncased" in Model.forward.__doc__ and "SequenceClassifierOutput" in Model.forward.__doc__
    assert "SequenceClassifierOutput" in Model.other.__doc__
