"""What the chat tells of itself, in one value: the index served and how it compares with its source
(`rag.service.Status`), the documents, the last rebuild's message or error and a running rebuild's
progress. The status bar renders it (`rag.web.render.status_html`) and `GET /api/status` sends it
(`ChatStatus.to_json`), so the page and the API never tell two stories.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.index.build import ignored_note, skipped_note, unreadable_note
from rag.service import Status
from rag.settings import ROOT


def shown_path(path: Path | None) -> str:
    """The source as the status bar names it: relative to the project when inside it ("workspace/documents")."""
    if path is None:
        return "?"
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return Path(path).name


@dataclass(frozen=True)
class ChatStatus:
    """Built by `ChatService.status`; a page event with an outcome of its own to tell shows a copy with
    `message` or `error` replaced (`dataclasses.replace`)."""
    index: Status
    documents: tuple[tuple[str, int], ...]  # (file name, passages) of every indexed file
    message: str = ""  # the last rebuild's summary, or what a rebuild running now is doing
    error: str = ""  # the last rebuild's error, or a refusal of the page's last action
    progress: tuple[float, str] | None = None  # (fraction done, what it is doing) while a rebuild runs
    chat_ready: bool = True  # False while `python app.py` is still mounting the chat UI
    updating: bool = False  # a rebuild was started (an upload, a removal) and has not finished

    @property
    def source(self) -> str:
        files = self.index.manifest["source"]["files"]
        return shown_path(self.index.source) + (f" ({len(files)} files)" if len(files) > 1 else "")

    @property
    def sha256(self) -> str:
        """The single source file's hash ("" for a folder of several)."""
        files = self.index.manifest["source"]["files"]
        return files[0]["sha256"] if len(files) == 1 else ""

    @property
    def chunks(self) -> int:
        return self.index.manifest["counts"]["chunks"]

    @property
    def left_out(self) -> str:
        """What the build left out (back matter, unreadable files), as a note after the passage count."""
        manifest = self.index.manifest
        source = manifest["source"]
        return (skipped_note(manifest.get("skipped", [])) + unreadable_note(source.get("unreadable", []))
                + ignored_note(source.get("ignored", [])))

    @property
    def built_at(self) -> str:
        return self.index.manifest["built_at"].replace("T", " ").replace("+00:00", " UTC")

    @property
    def warning(self) -> str:
        """Why the index no longer fits its source, unless a rebuild is already running or has failed."""
        if self.progress is not None or self.updating or self.error or self.index.fresh:
            return ""
        return "The source changed since the index was built" if self.index.source_changed else self.index.why_stale

    def to_json(self) -> dict:
        """`GET /api/status`: `rag info --json`'s fields, and what the status bar shows besides."""
        hide = self.index.without_paths
        return {**self.index.to_json(),
                "documents": [{"name": name, "chunks": chunks} for name, chunks in self.documents],
                "message": hide(self.message), "error": hide(self.error), "warning": hide(self.warning),
                "progress": None if self.progress is None else {"fraction": self.progress[0], "text": self.progress[1]},
                "chat_ready": self.chat_ready}
