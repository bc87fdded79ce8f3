"""One build at a time, and a swap that never leaves a half-written index: builds go to a temporary
sibling folder that is renamed into place under a lock; a build killed mid-swap is recovered at the next
load or build."""
from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rag.errors import RagError


def old_folder(index_dir: Path) -> Path:
    return index_dir.with_name(f".{index_dir.name}.old")


def temp_folder(index_dir: Path) -> Path:
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.tmp-", dir=index_dir.parent))
        tmp.chmod(0o755)  # mkdtemp makes it private; the index is not a secret
        return tmp
    except OSError as exc:
        raise RagError(f"Cannot write next to the index folder {index_dir}: {exc.strerror or exc}.") from None


def swap_in(tmp: Path, index_dir: Path) -> None:
    old = old_folder(index_dir)
    shutil.rmtree(old, ignore_errors=True)
    if index_dir.exists():
        os.rename(index_dir, old)
    os.rename(tmp, index_dir)
    shutil.rmtree(old, ignore_errors=True)


def recover(index_dir: Path) -> None:
    """A build killed between the two renames of the swap leaves only the old folder: put it back."""
    old = old_folder(index_dir)
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
            recover(index_dir)
            for stale in parent.glob(f".{index_dir.name}.tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)  # left by a killed build
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---------------------------------------------------------------- loading and staleness
