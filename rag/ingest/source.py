"""Reading the source document(s): one file, or a folder of them, each read by its suffix's reader
(rag.ingest.readers: text, Markdown, PDF, HTML)."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from rag.errors import SourceError
from rag.ingest import readers


@dataclass(frozen=True)
class SourceFile:
    path: Path
    name: str  # stable id of the file: its name relative to the source root
    raw: str  # the text that is indexed: the file itself, or the text extracted from it
    sha256: str  # of the file's bytes
    extracted: readers.Extracted | None = None

    @property
    def markdown(self) -> bool:
        return bool(self.extracted and self.extracted.markdown)

    def page_at(self, offset: int) -> int | None:
        return self.extracted.page_at(offset) if self.extracted else None


def source_files(source: Path) -> list[Path]:
    """The files a source path stands for, in a stable order."""
    known = readers.suffixes()
    if not source.exists():
        raise SourceError(f"Source not found: {source}")
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in known
                       and not any(part.startswith(".") for part in p.relative_to(source).parts))
        if not files:
            raise SourceError(f"Source folder {source} holds no file of a type this reads ({', '.join(known)}).")
        return files
    if source.suffix.lower() not in known:
        raise SourceError(f"Source {source} is not a file type this reads ({', '.join(known)}).")
    return [source]


def read_file(path: Path, name: str) -> SourceFile:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"Cannot read source {path}: {exc.strerror or exc}.") from None
    extracted = readers.read(data, path)
    return SourceFile(path, name, extracted.text, hashlib.sha256(data).hexdigest(), extracted)


def read_source(source: Path) -> list[SourceFile]:
    files = source_files(source)
    root = source if source.is_dir() else source.parent
    return [read_file(p, os.path.relpath(p, root)) for p in files]


def source_hashes(source: Path) -> dict[str, str]:
    """name -> sha256, without decoding: enough to tell whether an index is stale."""
    files = source_files(source)
    root = source if source.is_dir() else source.parent
    out = {}
    for p in files:
        try:
            out[os.path.relpath(p, root)] = hashlib.sha256(p.read_bytes()).hexdigest()
        except OSError as exc:
            raise SourceError(f"Cannot read source {p}: {exc.strerror or exc}.") from None
    return out
