"""What the web chat serves, without the UI: the shared service plus the page's state (the last rebuild's
message, uploaded documents) and the conversations, one per browser session. No Gradio here, so the
server can answer its JSON API while the chat UI is still being imported.
"""
from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from pathlib import Path

from rag.errors import QuestionError, RagError
from rag.ingest import readers
from rag.ingest.chunking import chunk_sections
from rag.ingest.document import parse
from rag.ingest.source import source_files
from rag.pipeline import Pipeline, check_k
from rag.service import RagService, SourceWatcher
from rag.settings import Settings
from rag.web import render, uploads
from rag.web.status import ChatStatus
from rag.web.uploads import MAX_UPLOAD_BYTES

log = logging.getLogger("rag.app")


def safe_name(name: str) -> str | None:
    """A file name that can only land inside the documents folder: no folders, no dot files, no odd
    characters (brackets are kept: a name clash is stored as "name (2).ext", which must stay removable);
    None when nothing usable is left."""
    base = re.sub(r"[^\w.\-() ]", "_", Path(str(name).replace("\\", "/")).name).strip(" .")
    return base if base and not base.startswith(".") and Path(base).suffix.lower() in readers.suffixes() else None

def heading_of(service: ChatService) -> str:
    """The page heading: the served index's title, which becomes "N documents" once uploads join it."""
    return f"## Ask: {render.escape_text(service.pipeline.index.manifest.get('title') or 'the document')}"


def example_questions(index, most: int = 5, max_chars: int = 60) -> list[str]:
    """Questions from the document's own section titles, so the examples fit whatever is indexed. Each is
    at most `max_chars` long (Gradio cuts longer example text mid-word): the shorter wording is used
    for a long title, and a title too long for both is passed over."""
    by_source: dict[str, list[str]] = {}
    for chunk in index.chunks:
        titles = by_source.setdefault(getattr(chunk, "source", ""), [])
        if chunk.section not in titles:
            titles.append(chunk.section)
    out = []
    for title in round_robin([lead_passed_over(titles) for titles in by_source.values()]):
        fitting = [q for q in (f"What does the document say about {title}?", f"What about {title}?")
                   if len(q) <= max_chars]
        if fitting:
            out.append(fitting[0])
    return out[:most] or ["Give an overview of the document."]


def lead_passed_over(titles: list[str]) -> list[str]:
    """A document's section titles but its first (the lead, named after the document, whose "what does it
    say" gets a caption or a definition) and any "Introduction", while others are left."""
    rest = [t for t in titles[1:] if t.lower() != "introduction"]
    return rest or [t for t in titles if t.lower() != "introduction"]


def round_robin(lists: list[list[str]]) -> list[str]:
    """One of each list in turn, so every document has examples, not only the first few."""
    out = []
    for depth in range(max(map(len, lists), default=0)):
        out += [items[depth] for items in lists if depth < len(items)]
    return out


class ChatService:
    """The shared service behind the UI, plus what the page shows of the last rebuild."""

    def __init__(self, settings: Settings, embedder=None, answerers: dict | None = None, watch: bool = False) -> None:
        self.settings = settings
        self.inbox = uploads.default_inbox()  # where uploads arrive; the server sets Gradio's own
        self._storing = threading.Lock()
        self.chat_ready = True  # False while `python app.py` is still mounting the chat UI
        self.message = ""  # the last rebuild's summary
        self.error = ""  # the last rebuild's error, until the next rebuild
        # Documents added or removed in the chat since the last finished rebuild: the status names them
        # until the rebuild that takes them in is done, so a fast rebuild never hides what was done.
        self.changes: list[str] = []
        # A usable index is served at once, even when stale; the rebuild then runs in the background.
        self.service = RagService.start(settings, embedder, answerers, build_if_stale=False)
        if self.service.last_build is not None:
            self.message = f"Index built at start: {self.service.last_build.summary()}"
        self.background: threading.Thread | None = None
        if self.service.status().source_changed:
            self.message = "The source changed: rebuilding in the background; answers come from the previous index."
            self.background = threading.Thread(target=self.rebuild, daemon=True, name="rebuild-at-start")
            self.background.start()
        self.watcher: SourceWatcher | None = None
        if watch:
            self.watch()

    def watch(self) -> None:
        """Rebuild in the background when the source files change on disk (debounced)."""
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        try:
            self.watcher = SourceWatcher(self.source, self.rebuild_if_changed).start()
        except (RagError, OSError) as exc:  # e.g. a copied index whose recorded source is not here
            log.warning("not watching the source: %s", exc)
            self.error = f"Not watching the source for changes: {str(exc).rstrip('.')}. The index is served as it is."

    def rebuild_if_changed(self) -> None:
        if not self.service.status().fresh:
            self.rebuild()
        local = self.pipeline.answerers.get("local")
        if local is not None:
            local.load_in_background()  # about a minute; the status bar says so meanwhile

    @property
    def pipeline(self) -> Pipeline:
        return self.service.pipeline

    @property
    def embedder(self):
        return self.service.embedder

    @property
    def source(self) -> Path:
        return self.service.source

    def status(self) -> ChatStatus:
        """What the status bar shows and `GET /api/status` sends."""
        message = self.message
        local = self.pipeline.answerers.get("local")
        if local is not None and not local.ready:
            note = f"Local model: {local.error}" if local.error else \
                f"Loading the local model {local.model_ref} (about a minute); answers fall back to extractive until then."
            message = f"{message} {note}".strip()
        progress = self.service.progress
        # a rebuild started by an upload or a removal counts before its first progress report
        updating = progress is not None or (self.background is not None and self.background.is_alive())
        if updating:  # its bar replaces the stale warning and the last summary
            message = self.changed("Updating the index; answers come from the previous one until it is done.")
        return ChatStatus(self.service.status(), tuple(self.documents()), message, self.error,
                          None if progress is None else (round(progress.fraction, 3), progress.describe()),
                          self.chat_ready, updating)

    def rebuild(self) -> str:
        """Build from the source and swap it in; answers keep coming from the old index meanwhile. A
        rebuild asked for while one runs is done right after it (`RagService.rebuild`)."""
        try:
            report = self.service.rebuild()
        except RagError as exc:
            self.message, self.error = "", self.changed(f"Rebuild failed, still serving the previous index: {exc}")
        except Exception as exc:  # never lose the working index to an unexpected error
            log.exception("rebuild failed")
            self.message, self.error = "", self.changed(
                f"Rebuild failed ({exc.__class__.__name__}), still serving the previous index.")
        else:
            if report is None:
                return "A rebuild is running; the index will be updated again right after it."
            summary = f"Rebuilt: {report.summary()} (at {time.strftime('%H:%M:%S')})"
            self.message, self.error = self.changed(summary), ""
            self.changes = []  # the rebuild that ends the loop read the newest source: every change is in
        return self.error or self.message

    def changed(self, text: str) -> str:
        """`text` after what the chat added or removed since the last finished rebuild."""
        return " ".join([*(f"{change}." for change in self.changes), text])

    # -- documents brought in through the chat

    def documents_folder(self) -> Path:
        """Where uploads go: the source folder, or for a single-file source the workspace's `documents/`
        (git-ignored, $RAG_HOME), which then becomes the source with that file as its first entry."""
        source = self.source
        return source if source.is_dir() else Path(self.settings.workspace) / "documents"

    def _move_into_workspace(self, source: Path) -> None:
        """A single-file source (the shipped article) and its index are never rewritten: before the first
        upload, the index is copied into the workspace (its vectors are reused, so only new documents are
        embedded) and served from there, beside the documents folder."""
        target = Path(self.settings.workspace) / "index"
        if source.is_dir() or Path(self.settings.index_dir).resolve() == target.resolve():
            return
        if not (target / "manifest.json").is_file():
            shutil.rmtree(target, ignore_errors=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(self.settings.index_dir, target)
        self.settings.index_dir = target

    def documents(self) -> list[tuple[str, int]]:
        """(file name, chunks) of every indexed file."""
        counts: dict[str, int] = {}
        for chunk in self.pipeline.index.chunks:
            counts[chunk.source] = counts.get(chunk.source, 0) + 1
        return sorted(counts.items())

    def add_documents(self, arrivals: list[Path], max_bytes: int = MAX_UPLOAD_BYTES,
                      max_total: int = uploads.MAX_DOCUMENTS_BYTES) -> str:
        """Check each uploaded file (that it came through the upload route; type, size, a readable
        text), store it in the documents folder under a safe name that replaces nothing, and rebuild in
        the background; answers keep coming meanwhile. Every upload file is deleted once taken or
        refused. Returns what happened, file by file."""
        folder = self.documents_folder()
        accepted, refused = [], []
        if len(arrivals) > uploads.MAX_FILES:
            refused.append(f"{len(arrivals) - uploads.MAX_FILES} of the files: one upload takes at most "
                           f"{uploads.MAX_FILES}")
            for upload in arrivals[uploads.MAX_FILES:]:
                uploads.discard(upload, self.inbox)
            arrivals = arrivals[:uploads.MAX_FILES]
        began = time.monotonic()
        for upload in arrivals:
            if time.monotonic() - began > uploads.EVENT_SECONDS:
                refused.append(f"{upload.name}: this upload took too long to read; add it again on its own")
                uploads.discard(upload, self.inbox)
                continue
            if not uploads.arrived(upload, self.inbox):
                refused.append(uploads.FORGED.rstrip("."))  # the path is neither read nor named
                continue
            try:
                name = safe_name(upload.name)
                if name is None and Path(upload.name).suffix.lower() not in readers.suffixes():
                    raise RagError(f"{Path(upload.name).name} is not a type this reads: add "
                                   f"{', '.join(readers.suffixes())} files (an old .doc: save it as .docx).")
                if name is None:
                    raise RagError(f"{upload.name!r} is not a usable file name.")
                if upload.stat().st_size > max_bytes:
                    raise RagError(f"{name} is larger than {max_bytes // 1_000_000} MB.")
                data = upload.read_bytes()
                extracted = readers.read(data, Path(name))  # a scanned PDF, a PDF bomb, a binary file: refused now
                if not chunk_sections(parse(extracted.text, markdown=extracted.markdown), name, self.settings.chunking):
                    raise RagError(f"{name} holds no passage to answer from (only headings, or no sentences).")
            except (RagError, OSError) as exc:
                refused.append(str(exc).rstrip("."))
                continue
            finally:
                uploads.discard(upload, self.inbox)
            given = Path(str(upload.name).replace("\\", "/")).name
            accepted.append((name, data, f" (from {given})" if given != name else ""))
        stored = []
        if accepted:
            with self._storing:  # one upload at a time picks free names and writes them
                source = self.source
                try:
                    self._move_into_workspace(source)
                    folder.mkdir(parents=True, exist_ok=True)
                    uploads.sweep_parts(folder)
                    if not source.is_dir():
                        uploads.copy_in(source, folder)  # the document served so far stays in
                    self.settings.record_source(folder)  # on disk before the upload is acknowledged
                except OSError as exc:  # a full disk, a read-only folder: nothing is acknowledged
                    why = exc.strerror or exc.__class__.__name__
                    refused += [f"{name} could not be stored: the documents folder cannot be written ({why})"
                                for name, _, _ in accepted]
                    accepted = []
                room = max_total - uploads.folder_bytes(folder)
                for name, data, renamed in accepted:  # renamed: a name made safe says what it was
                    if uploads.same_content(folder / name, data):
                        refused.append(f"{name} is already among the documents")
                    elif len(data) > room:
                        refused.append(f"{name} would take the documents over {max_total // 1_000_000} MB in all")
                    else:
                        try:
                            stored.append(uploads.store(data, folder, uploads.free_name(folder, name)).name + renamed)
                            room -= len(data)
                        except OSError as exc:
                            refused.append(f"{name} could not be written ({exc.strerror or exc.__class__.__name__})")
            if stored:
                self.changes.append(f"Added {', '.join(stored)}")
                self.rebuild_in_background()
                if self.watcher is not None:
                    self.watch()  # the source may now be the documents folder
        parts = [f"Added {', '.join(stored)}; updating the index." if stored else ""]
        parts += [f"Not added: {reason}." for reason in refused]
        return " ".join(p for p in parts if p) or "No file was given."

    def remove_document(self, name: str) -> str:
        """Only an indexed document of the documents folder can be removed: no other file of it."""
        folder = self.documents_folder()
        indexed = {n for n, _ in self.documents()}
        path = folder / str(name)
        parts = Path(str(name)).parts
        if (name not in indexed or not folder.is_dir() or any(p in ("..", "") or p.startswith(".") for p in parts)
                or path.is_symlink() or not path.is_file() or not path.resolve().is_relative_to(folder.resolve())):
            return f"{name} is not among the documents."  # an indexed file of the folder, at any depth: no other
        with self._storing:  # one change of the folder at a time: two removals cannot both pass the count
            # The files on disk, not the served index: it still lists a document removed a moment ago.
            if not [p for p in source_files(folder) if p != path]:
                return "The last document cannot be removed: add another first."
            path.unlink()
        self.changes.append(f"Removed {name}")
        self.settings.record_source(folder)
        self.rebuild_in_background()
        return f"Removed {name}; updating the index."

    def rebuild_in_background(self) -> None:
        self.background = threading.Thread(target=self.rebuild, daemon=True, name="rebuild")
        self.background.start()

    def answer_json(self, question: object, k: object = 5, history: object = None,
                    answerer: object = None) -> dict:
        """The answer JSON of `rag ask --json`, for `/api/ask` and Gradio's `/ask`; a RagError when the
        input is not usable."""
        if answerer is not None and not isinstance(answerer, str):
            raise QuestionError("answerer must be the name of an answerer.")
        return self.pipeline.ask(question, check_k(k), history=history, answerer=answerer or None).to_json()
