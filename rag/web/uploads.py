"""Files brought in through the chat: where they may come from, what they are stored as, and what is
left of them afterwards.

Gradio's upload route writes each file into its upload folder (the inbox); the upload event then names
those files by path. A path is the client's word, so only files inside the inbox are taken: anything
else is refused with one message that says nothing about the path (it is neither read nor stat'ed).
A stored document never replaces another: a clash of names gets a numbered name, and the copy is
written without following a link. Inbox files are deleted once taken or refused, and stale ones are
swept, so uploads cannot fill the disk.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

FORGED = "A file was refused: only files uploaded through this page are taken."
MAX_UPLOAD_BYTES = 20_000_000  # one file
MAX_DOCUMENTS_BYTES = 200_000_000  # all documents of the folder together
MAX_INBOX_BYTES = 200_000_000  # uploads waiting to be taken
STALE_SECONDS = 120.0  # an upload its event never took
MAX_FILES = 20  # in one upload event
EVENT_SECONDS = 90.0  # reading the files of one upload event: later files are refused past it


def default_inbox() -> Path:
    """The folder Gradio's upload route writes to (its rule: $GRADIO_TEMP_DIR, else <tmp>/gradio)."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()


def inside(path: str | Path, folder: Path) -> bool:
    """True when `path`, links resolved and relative to nothing the client chose, lies in `folder`."""
    text = str(path)
    if not text or "\x00" in text or "://" in text:
        return False
    try:
        return Path(os.path.abspath(text)).resolve().is_relative_to(Path(folder).resolve())
    except (OSError, ValueError, RuntimeError):
        return False


def arrived(path: Path, inbox: Path) -> bool:
    """A file that came through the upload route: a regular file inside the inbox, not a link."""
    return inside(path, inbox) and not Path(path).is_symlink() and Path(path).is_file()


def discard(path: Path, inbox: Path) -> None:
    """Delete an inbox file, and its folder when that is left empty (Gradio makes one per upload)."""
    if not inside(path, inbox):
        return
    try:
        Path(path).unlink(missing_ok=True)
        parent = Path(path).parent
        if parent.resolve() != Path(inbox).resolve() and not any(parent.iterdir()):
            parent.rmdir()
    except OSError:
        pass


def sweep(inbox: Path, older_than: float = STALE_SECONDS, now: float | None = None) -> int:
    """Delete inbox files not touched for `older_than` seconds; returns how many."""
    now = time.time() if now is None else now
    removed = 0
    if not Path(inbox).is_dir():
        return 0
    for path in list(Path(inbox).rglob("*")):  # listed first: emptied folders go as it runs
        try:
            if path.is_file() and now - path.lstat().st_mtime > older_than:
                discard(path, inbox)
                removed += 1
        except OSError:
            continue
    return removed


def file_count(folder: Path) -> int:
    return sum(1 for p in Path(folder).rglob("*") if p.is_file()) if Path(folder).is_dir() else 0


def folder_bytes(folder: Path) -> int:
    total = 0
    if Path(folder).is_dir():
        for path in Path(folder).rglob("*"):
            try:
                if path.is_file() and not path.is_symlink():
                    total += path.stat().st_size
            except OSError:
                continue
    return total


def free_name(folder: Path, name: str) -> str:
    """`name`, or "name (2).ext", "name (3).ext" ... when a file (or a link) of that name is there."""
    stem, suffix = Path(name).stem, Path(name).suffix
    candidate, n = name, 1
    while os.path.lexists(Path(folder) / candidate):
        n += 1
        candidate = f"{stem} ({n}){suffix}"
    return candidate


def same_content(path: Path, data: bytes) -> bool:
    try:
        return not path.is_symlink() and path.is_file() and path.read_bytes() == data
    except OSError:
        return False


def store(data: bytes, folder: Path, name: str) -> Path:
    """Write `data` as a new file: first to a hidden part file of its own (O_EXCL, O_NOFOLLOW: neither
    an existing file nor a link's target is written through), then renamed into place, so a crash
    never leaves a half-written document in the source folder. FileExistsError when `name` is taken."""
    target = Path(folder) / name
    part = Path(folder) / f".{name}.{os.urandom(6).hex()}.part"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        with os.fdopen(os.open(part, flags, 0o644), "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if os.path.lexists(target):
            raise FileExistsError(target)
        os.rename(part, target)
    finally:
        part.unlink(missing_ok=True)
    return target


def sweep_parts(folder: Path, older_than: float = 3600.0) -> None:
    """Part files a crash left in the documents folder (they are hidden, so never indexed)."""
    now = time.time()
    for part in Path(folder).glob(".*.part"):
        try:
            if now - part.lstat().st_mtime > older_than:
                part.unlink()
        except OSError:
            continue


def copy_in(source: Path, folder: Path) -> None:
    """The document served so far joins the documents folder under its own name."""
    target = Path(folder) / source.name
    if not os.path.lexists(target):
        shutil.copy2(source, target, follow_symlinks=True)
