"""Reading the source document(s): one file, or a folder of them, each read by its suffix's reader
(rag.ingest.readers: text, Markdown, PDF, HTML)."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

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
        indexes = index_folders(source)
        files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in known
                       and not any(part.startswith(".") for part in p.relative_to(source).parts)
                       and not indexes.intersection(p.parents))
        if not files:
            raise SourceError(f"Source folder {source} holds no file of a type this reads ({', '.join(known)}).")
        return files
    if source.suffix.lower() not in known:
        raise SourceError(f"Source {source} is not a file type this reads ({', '.join(known)}).")
    return [source]


def ignored_files(source: Path) -> list[str]:
    """The files of a source folder that no reader takes, by name (hidden ones aside, such as .git or
    .DS_Store, and those of an index inside it): told to the person, not passed over in silence. A link
    to nothing counts too."""
    if not source.is_dir():
        return []
    known, indexes = readers.suffixes(), index_folders(source)
    return sorted(file_name(p, source) for p in source.rglob("*")
                  if ((p.is_file() and p.suffix.lower() not in known) or (p.is_symlink() and not p.exists()))
                  and not any(part.startswith(".") for part in p.relative_to(source).parts)
                  and not indexes.intersection(p.parents))


def index_folders(folder: Path) -> set[Path]:
    """Index folders inside a source folder (a manifest.json beside chunks.jsonl, as every index has):
    never documents, or each build would read the last one's copies of extracted text again."""
    return {m.parent for m in folder.rglob("manifest.json") if (m.parent / "chunks.jsonl").is_file()}


def read_file(path: Path, name: str) -> SourceFile:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"Cannot read source {path}: {exc.strerror or exc}.") from None
    extracted = readers.read(data, Path(name))  # its messages name the file as the person knows it, no server path
    return SourceFile(path, name, extracted.text, hashlib.sha256(data).hexdigest(), extracted)


@dataclass(frozen=True)
class Unreadable:
    """A file of a source folder that could not be read: left out of the index and reported."""
    name: str
    sha256: str  # "" when not even its bytes could be read
    reason: str

    def to_json(self) -> dict:
        return {"name": self.name, "sha256": self.sha256, "reason": self.reason}


def read_source(source: Path, reading: Callable[[int, int, str], None] | None = None,
                ) -> tuple[list[SourceFile], list[Unreadable]]:
    """The readable files, and those of a folder that are not (one bad file never blocks the rest).
    A single-file source that cannot be read is an error. `reading(done, total, name)` hears of each
    file before it is read (a large PDF takes a while)."""
    files = source_files(source)
    root = source if source.is_dir() else source.parent
    reading = reading or (lambda done, total, name: None)
    if not source.is_dir():
        name = file_name(files[0], root)
        if name != os.path.relpath(files[0], root):
            raise SourceError(f"Source {name}: its file name is not valid UTF-8: rename it.")
        reading(0, 1, name)
        return [read_file(files[0], name)], []
    read, unreadable = [], []
    for i, p in enumerate(files):
        name = file_name(p, root)
        reading(i, len(files), name)
        if name != os.path.relpath(p, root):
            unreadable.append(Unreadable(name, file_hash(p) or "", "its file name is not valid UTF-8: rename it"))
            continue
        try:
            read.append(read_file(p, name))
        except SourceError as exc:
            unreadable.append(Unreadable(name, file_hash(p) or "", str(exc).rstrip(".")))
    if not read:
        raise SourceError(f"No file of source folder {source} could be read ({unreadable[0].reason}).")
    return read, unreadable


_HASHES: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256


def file_hash(path: Path) -> str | None:
    """sha256 of the file's bytes, computed again only when its size or modification time changed."""
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in _HASHES:
            if len(_HASHES) > 10_000:
                _HASHES.clear()
            _HASHES[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        return _HASHES[key]
    except OSError:
        return None


def source_hashes(source: Path) -> dict[str, str]:
    """name -> sha256, without decoding: enough to tell whether an index is stale. Cached by size and
    modification time, so a status check does not read every byte of a large folder each time. A file of
    a folder whose bytes cannot be read is "", as the build records it among the unreadable: one such
    file does not keep the index stale for good."""
    files = source_files(source)
    root = source if source.is_dir() else source.parent
    out = {}
    for p in files:
        digest = file_hash(p)
        if digest is None and not source.is_dir():
            raise SourceError(f"Cannot read source {p}.")
        out[file_name(p, root)] = digest or ""
    return out


def file_name(path: Path, root: Path) -> str:
    """The file's name relative to `root`, as it can be shown and written: bytes of a name that are not
    UTF-8 (an archive unpacked from another system) become U+FFFD, where they would stop the manifest's
    writing and the status page."""
    name = os.path.relpath(path, root)
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
