"""The learned extractive answerer: parse-based candidates, a span reader, a trained scorer and a
no-answer model (`qa.answer` keeps the rule-based answerer as a baseline)."""

from __future__ import annotations

from qa.answerer.answerer import LearnedAnswerer
from qa.answerer.model import AnswererModel, default_model_dir, load_model

__all__ = ["AnswererModel", "LearnedAnswerer", "default_model_dir", "load_model"]
