"""Offline question answering over a document, every claim cited to a numbered passage."""
from rag.answer import Answer, Passage
from rag.errors import RagError
from rag.pipeline import Pipeline

__all__ = ["Answer", "Passage", "Pipeline", "RagError"]
