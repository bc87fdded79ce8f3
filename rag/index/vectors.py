"""FAISS over chunk vectors. Knows rows and vectors, nothing of models or text."""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from rag.errors import IndexCorrupt

# Up to this many vectors exact search is fast enough, and exact; above it, HNSW. Measured by
# bench/run.py at 1000x the article (38,785 chunks): exact 1.1 ms a search, HNSW (efSearch 1024)
# 0.7-0.9 ms at recall@10 0.97-0.98. Exact search grows linearly, to about 7 ms at this limit.
EXACT_LIMIT = 250_000
EF_SEARCH = 1024  # HNSW search breadth; 256 gave recall@10 0.93-0.96 at 1000x, 2048 gave 1.0 at 1.5 ms


def build(vectors: np.ndarray, exact_limit: int = EXACT_LIMIT) -> faiss.Index:
    dim = vectors.shape[1]
    if len(vectors) <= exact_limit:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 200
        index.hnsw.efSearch = EF_SEARCH
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def kind(index: faiss.Index) -> str:
    return "hnsw-ip" if isinstance(index, faiss.IndexHNSWFlat) else "flat-ip"


def save(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load(path: Path, expected_rows: int, expected_dim: int) -> faiss.Index:
    try:
        index = faiss.read_index(str(path))
    except RuntimeError:
        raise IndexCorrupt(f"The vector index {path} is corrupt or truncated: rebuild with `rag build --force`.") from None
    if index.ntotal != expected_rows or index.d != expected_dim:
        raise IndexCorrupt(f"The vector index {path} does not match its manifest ({index.ntotal} rows, {index.d} dims): "
                       "rebuild with `rag build --force`.")
    if isinstance(index, faiss.IndexHNSWFlat):
        index.hnsw.efSearch = EF_SEARCH  # not stored in the file
    return index


def search(index: faiss.Index, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows) of the k nearest rows, best first; rows of -1 are dropped."""
    k = min(k, index.ntotal)
    if k <= 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    scores, rows = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
    keep = rows[0] >= 0
    return scores[0][keep], rows[0][keep]
