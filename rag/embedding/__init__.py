"""Embedding texts: the model behind every vector, chosen by name."""
