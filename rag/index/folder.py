"""The on-disk index: a folder with a manifest that records how it was built.

    index/
      manifest.json         format, model, chunker settings, sources and hashes, counts, versions
      chunks.jsonl          one chunk a line, with its sentences and their vector rows
      sentences.jsonl       one sentence a line: source, offsets, text, content hash
      chunk_vectors.npy     normalised chunk embeddings (also the embedding cache)
      sentence_vectors.npy  normalised sentence embeddings
      words.json            the document's vocabulary (lower-cased content words), in row order
      word_vectors.npy      normalised embeddings of those words: soft matching of question words
      index.faiss           inner-product index over chunk_vectors
      bm25/                 bm25s statistics (JSON + .npy)

Builds go to a temporary sibling folder that is renamed into place, under a lock,
so a failed or killed build never costs the working index.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import IndexCorrupt, IndexMissing
from rag.index import vectors
from rag.index.keywords import KeywordIndex
from rag.index.lock import recover
from rag.ingest.chunking import Chunk

FORMAT_VERSION = 3  # 2: words.json + word_vectors.npy; 3: a checksum of every file in the manifest


@dataclass
class Index:
    folder: Path
    manifest: dict
    chunks: list[Chunk]
    sentence_keys: list[str]  # content hash per sentence row
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    words: list[str]  # the vocabulary, row order of word_vectors
    word_vectors: np.ndarray
    vectors: object  # faiss.Index over chunk_vectors
    keyword: KeywordIndex

    @property
    def model(self) -> str:
        return self.manifest["model"]["name"]


def read_manifest(index_dir: Path) -> dict:
    path = Path(index_dir) / "manifest.json"
    recover(Path(index_dir))
    if not path.exists():
        raise IndexMissing(f"No index in {index_dir}: build it with `rag build`.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["model"]["name"], manifest["counts"]["chunks"]  # noqa: B018 - required keys
    except (OSError, ValueError, KeyError, TypeError):
        raise IndexCorrupt(f"The index manifest {path} is corrupt: rebuild with `rag build --force`.") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt(f"The index in {index_dir} has an old format: rebuild with `rag build --force`.")
    return manifest


def folder_checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file of an index folder but the manifest, by relative path."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file() and p.name != "manifest.json"}


def check_files(index_dir: Path, manifest: dict) -> None:
    """Corruption that keeps a file's shape (zeroed bytes, NaN vectors, rows out of range) is caught by
    the checksums the build recorded, before anything is loaded."""
    recorded = manifest.get("checksums")
    if not isinstance(recorded, dict) or not recorded:
        raise IndexCorrupt(f"The index in {index_dir} records no checksums: rebuild with `rag build --force`.")
    for name, digest in recorded.items():
        path = Path(index_dir) / name
        try:
            actual = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            actual = None
        if actual != digest:
            raise IndexCorrupt(f"The index file {name} in {index_dir} is damaged (its checksum differs): "
                               "rebuild with `rag build --force`.")


def load_index(index_dir: Path) -> Index:
    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    check_files(index_dir, manifest)
    counts, dim = manifest["counts"], manifest["model"]["dim"]
    try:
        with open(index_dir / "chunks.jsonl", encoding="utf-8") as f:
            chunks = [Chunk.from_json(json.loads(line)) for line in f if line.strip()]
        with open(index_dir / "sentences.jsonl", encoding="utf-8") as f:
            sentence_keys = [json.loads(line)["key"] for line in f if line.strip()]
        chunk_vectors = np.load(index_dir / "chunk_vectors.npy", allow_pickle=False)
        sentence_vectors = np.load(index_dir / "sentence_vectors.npy", allow_pickle=False)
        vocabulary = json.loads((index_dir / "words.json").read_text(encoding="utf-8"))
        word_vectors = np.load(index_dir / "word_vectors.npy", allow_pickle=False)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"The index in {index_dir} is corrupt ({exc.__class__.__name__}): "
                       "rebuild with `rag build --force`.") from None
    if (len(chunks) != counts["chunks"] or chunk_vectors.shape != (len(chunks), dim)
            or len(sentence_keys) != counts["sentences"] or sentence_vectors.shape != (len(sentence_keys), dim)
            or not isinstance(vocabulary, list) or word_vectors.shape != (len(vocabulary), dim)):
        raise IndexCorrupt(f"The index in {index_dir} is incomplete: rebuild with `rag build --force`.")
    faiss_index = vectors.load(index_dir / "index.faiss", len(chunks), dim)
    keyword = KeywordIndex.load(index_dir / "bm25")
    return Index(index_dir, manifest, chunks, sentence_keys, chunk_vectors, sentence_vectors, vocabulary,
                 word_vectors, faiss_index, keyword)
