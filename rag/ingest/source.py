"""Reading the source document(s): a .txt or .md file, or a folder of them."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from rag.errors import SourceError

SUFFIXES = {".txt", ".md", ".markdown"}


@dataclass(frozen=True)
class SourceFile:
    path: Path
    name: str  # stable id of the file: its name relative to the source root
    raw: str
    sha256: str

    @property
    def markdown(self) -> bool:
        return self.path.suffix.lower() in {".md", ".markdown"}


def source_files(source: Path) -> list[Path]:
    """The files a source path stands for, in a stable order."""
    if not source.exists():
        raise SourceError(f"Source not found: {source}")
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not files:
            raise SourceError(f"Source folder {source} holds no .txt or .md file.")
        return files
    if source.suffix.lower() not in SUFFIXES:
        raise SourceError(f"Source {source} is not a .txt or .md file.")
    return [source]


def read_file(path: Path, name: str) -> SourceFile:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"Cannot read source {path}: {exc.strerror or exc}.") from None
    if b"\x00" in data:
        raise SourceError(f"Source {path} looks like a binary file, not text.")
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"Source {path} is not UTF-8 text (bad byte at position {exc.start}).") from None
    if raw.startswith("\ufeff"):  # a BOM would shift every offset by one character
        raw = raw[1:]
    if not raw.strip():
        raise SourceError(f"Source {path} is empty.")
    return SourceFile(path, name, raw, hashlib.sha256(data).hexdigest())


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
