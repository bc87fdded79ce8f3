"""One build at a time, and a swap that never leaves a half-written index: builds go to a temporary
sibling folder that is renamed into place under a lock; a build killed mid-swap is recovered at the next
load or build."""
from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rag.errors import RagError

# What a build writes in an index folder (rag.index.folder): a folder holding anything else is not
# replaced, since the swap deletes what it replaces.
INDEX_ENTRIES = frozenset({"manifest.json", "chunks.jsonl", "sentences.jsonl", "chunk_vectors.npy",
                           "sentence_vectors.npy", "words.json", "word_vectors.npy", "index.faiss", "bm25",
                           "extracted"})


def named(index_dir: Path) -> Path:
    """The index folder as an absolute path with a name of its own: `.` and `..` name the folders they
    stand for; `/` names none, so the lock and the swap's siblings could not be placed."""
    resolved = Path(index_dir).resolve()
    if not resolved.name:
        raise RagError(f"The index folder cannot be {index_dir}: give a folder of its own, such as ./index.")
    return resolved


def old_folder(index_dir: Path) -> Path:
    index_dir = named(index_dir)
    return index_dir.with_name(f".{index_dir.name}.old")


def replace_problem(index_dir: Path, source: Path) -> str | None:
    """Why a build must not replace `index_dir`: it is a file, holds files no build wrote (a documents
    folder named by mistake), or holds the source. None when it is an index, empty or absent."""
    index_dir, source = named(index_dir), Path(source).resolve()
    if index_dir == source or index_dir in source.parents:
        return f"The index folder {index_dir} holds the source {source}: give the index a folder of its own."
    if index_dir.is_file():
        return f"{index_dir} is a file, not an index folder: give the index a folder of its own."
    if index_dir.is_dir():
        others = sorted(p.name for p in index_dir.iterdir()
                        if p.name not in INDEX_ENTRIES and not p.name.startswith("."))  # .DS_Store, a swap file
        if others:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            return (f"{index_dir} is not an index folder (it holds {shown}), and a build replaces the whole "
                    f"folder: give the index a folder of its own.")
    return None


def temp_folder(index_dir: Path) -> Path:
    index_dir = named(index_dir)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.tmp-", dir=index_dir.parent))
        tmp.chmod(0o755)  # mkdtemp makes it private; the index is not a secret
        return tmp
    except OSError as exc:
        raise RagError(f"Cannot write next to the index folder {index_dir}: {exc.strerror or exc}.") from None


def swap_in(tmp: Path, index_dir: Path) -> None:
    index_dir = named(index_dir)
    old = old_folder(index_dir)
    shutil.rmtree(old, ignore_errors=True)
    if index_dir.exists():
        os.rename(index_dir, old)
    os.rename(tmp, index_dir)
    shutil.rmtree(old, ignore_errors=True)


def recover(index_dir: Path, wait: float = 2.0) -> None:
    """A build killed between the two renames of the swap leaves only the old folder: put it back. A
    reader that finds a build still running there waits the moment it takes to move the new folder in,
    rather than move the old one back under it (that build would then fail to swap)."""
    index_dir = named(index_dir)
    old = old_folder(index_dir)
    deadline = time.monotonic() + wait
    while not index_dir.exists() and old.exists():
        if not building(index_dir) or time.monotonic() > deadline:
            _put_back(old, index_dir)
            return
        time.sleep(0.02)


def _put_back(old: Path, index_dir: Path) -> None:
    try:
        os.rename(old, index_dir)
    except OSError:  # another reader put it back first, or the build moved the new one in meanwhile
        pass


def building(index_dir: Path) -> bool:
    """Whether a build of `index_dir` holds its lock now (in another process, or through another handle)."""
    try:
        with open(named(index_dir).parent / f".{named(index_dir).name}.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(handle, fcntl.LOCK_UN)
    except BlockingIOError:
        return True
    except OSError:  # no lock file can be written there: no build can be running either
        return False
    return False


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build per index folder at a time; the OS releases the lock if the builder dies."""
    index_dir = named(index_dir)
    parent = index_dir.parent
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
            old = old_folder(index_dir)
            if not index_dir.exists() and old.exists():  # the lock is this build's: no wait for another
                _put_back(old, index_dir)
            for stale in parent.glob(f".{index_dir.name}.tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)  # left by a killed build
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---------------------------------------------------------------- loading and staleness
