"""The index folder: building it (hash cache, lock, atomic swap), loading and validating it, and what it
holds: the embedder's vectors (FAISS) and the keyword statistics (BM25)."""
