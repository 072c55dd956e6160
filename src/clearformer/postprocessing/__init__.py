"""Post-processing of raw model outputs into task answers (extractive QA spans)."""

from .qa import postprocess_qa_predictions

__all__ = ["postprocess_qa_predictions"]
