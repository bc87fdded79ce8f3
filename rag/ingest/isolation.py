"""Reading a file that can cost far more than its size (a PDF, an HTML page, a Word file) in a process of
its own, stopped past a time and memory limit, so one hostile upload never takes the server down."""
from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from pathlib import Path

from rag.errors import SourceError


@dataclass(frozen=True)
class ReadLimits:
    """What reading one PDF or HTML file may cost. A small PDF can expand to far more text than its size (a compressed
    stream repeated, thousands of empty pages), so extraction runs in a process of its own that is
    stopped past `seconds` or `memory_bytes`, and gives up past `pages` or the character budget:
    `chars_per_byte` times the file's size, at least `min_chars`, at most `max_chars`."""
    pages: int = 3000
    min_chars: int = 2_000_000
    chars_per_byte: int = 50
    max_chars: int = 20_000_000
    seconds: float = 60.0
    memory_bytes: int = 2_000_000_000

    def chars(self, size: int) -> int:
        return min(self.max_chars, max(self.min_chars, self.chars_per_byte * size))


OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file of .doc and of encrypted .docx


class Refused(Exception):
    """Raised in a worker: the file is refused, for the reason given."""


def _worker(read, kind: str, data: bytes, limits: ReadLimits, out) -> None:
    """In the worker process: memory capped, then ("ok", read(data, limits)) or ("error", why)."""
    import resource  # Unix only, and only inside the worker that it limits

    try:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    except (ValueError, OSError):
        pass
    try:
        out.send(("ok", read(data, limits)))
    except Refused as exc:
        out.send(("error", str(exc)))
    except MemoryError:
        out.send(("error", "needs more memory to read than this allows"))
    except Exception as exc:  # any failure of the parser is a refusal of this file, never a crash
        out.send(("error", unreadable_reason(kind, data, exc)))


def unreadable_reason(kind: str, data: bytes, exc: Exception) -> str:
    """Why a parser gave up, in words the person can act on where the cause is known."""
    if "password" in str(exc).lower():
        return "is password-protected: remove the password and add it again"
    if data.startswith(OLE_SIGNATURE):  # an encrypted Office file, or an old .doc under a new name
        return "is an encrypted or older Office file: save it as .docx without a password and add it again"
    return f"could not be read as a {kind}: it may be damaged or cut short"


def isolated(read, kind: str, data: bytes, path: Path, limits: ReadLimits = ReadLimits()):
    """`read(data, limits)` run in a process of its own, stopped past `limits.seconds`, its memory
    capped; its result, or a SourceError that says why not (`kind`: "PDF", "HTML page")."""
    context = multiprocessing.get_context("spawn")  # no fork of a threaded server
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_worker, args=(read, kind, data, limits, sender), daemon=True)
    worker.start()
    sender.close()
    try:
        if not receiver.poll(limits.seconds):
            raise SourceError(f"Source {path} took longer than {limits.seconds:.0f} s to read: it was stopped.")
        outcome, value = receiver.recv()
    except (EOFError, OSError):
        raise SourceError(f"Source {path} could not be read: its reader stopped (out of memory?).") from None
    finally:
        if worker.is_alive():
            worker.kill()
        worker.join(5)
        receiver.close()
    if outcome != "ok":
        raise SourceError(f"Source {path} {value}.")
    return value


