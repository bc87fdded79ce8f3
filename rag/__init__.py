"""Offline question answering over a document, every claim cited to a numbered passage."""
from rag.errors import RagError
from rag.pipeline import Pipeline
from rag.types import Answer, Passage

__all__ = ["Answer", "Passage", "Pipeline", "RagError"]
