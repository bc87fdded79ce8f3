"""What the CLI and the web app share: start (load, building first when there is no usable index), status
(fresh or stale, with structured reasons), rebuild (one at a time, swapped in while answers go on), ask.

    service = RagService.start(Settings.from_env())
    service.pipeline.ask("When did Gorbachev visit Beijing?")
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from rag.answering.answerers import configured
from rag.embedding.embedders import create_embedder
from rag.errors import IndexCorrupt, IndexMissing, RagError, SourceError
from rag.index.build import BuildReport, build_index, ignored_note, skipped_note, unreadable_note
from rag.index.folder import load_index, read_manifest
from rag.index.progress import BuildProgress, Progress, TerminalProgress, ignore
from rag.index.staleness import Staleness, StaleReason, stale_reasons
from rag.ingest import readers
from rag.pipeline import Pipeline
from rag.settings import Settings

log = logging.getLogger("rag.service")


@dataclass
class Status:
    """The index being served and how it compares with its source."""
    manifest: dict
    source: Path | None
    reasons: list[StaleReason] = field(default_factory=list)

    @property
    def fresh(self) -> bool:
        return not self.reasons

    @property
    def source_unreadable(self) -> bool:
        return any(r.kind == Staleness.SOURCE_UNREADABLE for r in self.reasons)

    @property
    def source_changed(self) -> bool:
        return any(r.kind == Staleness.SOURCE_CHANGED for r in self.reasons)

    @property
    def why_stale(self) -> str:
        """Every reason the index no longer fits its source, in one line ("" when fresh): the wording the
        CLI and the page give (the API lists the same reasons one by one)."""
        return "; ".join(str(r) for r in self.reasons)

    def summary(self) -> str:
        return "fresh" if self.fresh else f"stale: {self.why_stale}"

    def skipped(self) -> str:
        """What the build left out (empty or unreadable files), as a note for the user."""
        source = self.manifest["source"]
        return (skipped_note(self.manifest.get("skipped", [])) + unreadable_note(source.get("unreadable", []))
                + ignored_note(source.get("ignored", [])))

    def to_json(self) -> dict:
        """What `rag info --json` prints and `GET /api/status` starts from: the index, its files and
        whether it still fits them (the files by name: no server path is given out)."""
        return {"title": self.manifest.get("title"), "fresh": self.fresh,
                "stale": [self.without_paths(str(r)) for r in self.reasons],
                "files": [{k: f[k] for k in ("name", "sha256", "chars")} for f in self.manifest["source"]["files"]],
                "left_out": self.skipped().removeprefix("; "),
                "chunks": self.manifest["counts"]["chunks"], "sentences": self.manifest["counts"]["sentences"],
                "model": self.manifest["model"]["name"], "built_at": self.manifest["built_at"]}

    def without_paths(self, text: str) -> str:
        """`text` with the source's place on the server taken out: its files by their names, the source by
        its own name ("Source folder docs holds no file ...")."""
        if self.source is None:
            return text
        full = Path(self.source).resolve()
        for path in (full, full.parent):
            if path.parent == path:  # the file system's root: "/" is no place to hide
                continue
            text = text.replace(f"{path}/", "").replace(str(path), path.name)
        return text


class RagService:
    """One index folder served by one pipeline; `embedder` and `answerers` are injected in tests."""

    def __init__(self, settings: Settings, pipeline: Pipeline, embedder) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.embedder = embedder
        self._state = threading.Lock()  # guards the two flags below
        self._running = False  # a rebuild runs in this process
        self._again = False  # another was asked for meanwhile: it runs right after
        self.progress: BuildProgress | None = None  # how far the running rebuild has got
        self.last_build: BuildReport | None = None

    @classmethod
    def start(cls, settings: Settings, embedder=None, answerers: dict | None = None,
              build_if_needed: bool = True, build_if_stale: bool = True) -> RagService:
        """Load the index; with `build_if_needed`, build it first when it is missing or corrupt, and when
        stale unless `build_if_stale` is off (the app serves a stale index and rebuilds it meanwhile).
        A failed build still serves the previous index when one loads."""
        embedder = embedder or create_embedder(settings.embedder)
        built, index, failed = None, None, None
        if build_if_needed:
            index, reasons = cls._loaded_and_reasons(settings, embedder)
            if reasons and not build_if_stale and all(isinstance(r, StaleReason) for r in reasons):
                reasons = []  # a usable index: serve it as it is
            if reasons:
                log.warning("building the index: %s", "; ".join(str(r) for r in reasons))
                try:
                    built = cls.build(settings, embedder, progress=TerminalProgress())
                    index = None  # the new one is loaded below
                except RagError as exc:
                    log.warning("could not build: %s", exc)
                    failed = exc
        try:
            served = index or load_index(settings.index_dir)
        except (IndexMissing, IndexCorrupt) as exc:  # nothing to serve: the failed build is what to fix
            raise (failed or exc) from None
        pipeline = Pipeline(served, embedder,
                            answerers if answerers is not None else configured(settings), settings.answerer)
        service = cls(settings, pipeline, embedder)
        service.last_build = built
        return service

    # -- without a served index (the CLI's `build` and `info`)

    @staticmethod
    def build(settings: Settings, embedder, force: bool = False, progress: Progress = ignore) -> BuildReport:
        """Build the index from the recorded source (or the settings' own), re-embedding only what changed."""
        try:
            manifest = read_manifest(settings.index_dir)
        except RagError:
            manifest = None
        return build_index(settings.source(manifest), settings.index_dir, embedder, settings.chunking, force=force,
                           progress=progress)

    @classmethod
    def build_reasons(cls, settings: Settings, embedder) -> list:
        """Why the index needs a build (missing, corrupt, or stale reasons); empty when it is fresh."""
        return cls._loaded_and_reasons(settings, embedder)[1]

    @staticmethod
    def inspect(settings: Settings, embedder) -> Status:
        """The index on disk, validated as a load would (raises when it does not load), and its staleness;
        no model is loaded."""
        manifest = read_manifest(settings.index_dir)
        load_index(settings.index_dir)  # "fresh" only for an index that loads
        source = settings.source(manifest)
        return Status(manifest, source, stale_reasons(manifest, source, embedder, settings.chunking))

    @staticmethod
    def _loaded_and_reasons(settings: Settings, embedder) -> tuple:
        """(the index as loaded, or None, and why it needs a build): status validates what it will load,
        not just the manifest, and start serves that same load rather than reading the folder twice."""
        try:
            index = load_index(settings.index_dir)
            manifest = index.manifest
            return index, stale_reasons(manifest, settings.source(manifest), embedder, settings.chunking)
        except (IndexMissing, IndexCorrupt) as exc:
            return None, [str(exc)]

    @property
    def source(self) -> Path:
        return self.settings.source(self.pipeline.index.manifest)

    def status(self) -> Status:
        manifest = self.pipeline.index.manifest
        try:
            source = self.source
            reasons = stale_reasons(manifest, source, self.embedder, self.settings.chunking)
        except RagError as exc:
            source, reasons = None, [StaleReason(Staleness.SOURCE_UNREADABLE, str(exc).rstrip("."))]
        return Status(manifest, source, reasons)

    def rebuild(self, progress: Progress = ignore) -> BuildReport | None:
        """Build from the recorded (or given) source and swap it in; questions keep being answered from
        the old index meanwhile. A rebuild asked for while one runs starts no second build: it is done
        right after the running one, unless that one already read the newest source (so an upload is
        never left out), and this call returns None at once. Raises
        the build's error when it fails and no later request follows it."""
        with self._state:
            if self._running:
                self._again = True
                return None
            self._running = True
        try:
            while True:
                failure, report = None, None
                try:
                    report = self._build_and_swap(progress)
                except Exception as exc:  # kept: a request made meanwhile still runs
                    failure = exc
                with self._state:  # decided and released at once, so no request falls between the two
                    again, self._again = self._again, False
                    done = not again or self.status().fresh  # fresh: this build read the newest source
                    if done:
                        self._running = False
                if done:
                    if failure is not None:
                        raise failure
                    return report
        except BaseException:
            with self._state:
                self._running, self._again = False, False
            raise

    def _build_and_swap(self, progress: Progress) -> BuildReport:
        def heard(step: BuildProgress) -> None:
            self.progress = step
            progress(step)

        try:
            source = self.source
            report = build_index(source, self.settings.index_dir, self.embedder, self.settings.chunking,
                                 progress=heard)
            self.pipeline.swap(load_index(self.settings.index_dir))
            if self.settings.recorded_source() == Path(source).resolve():
                self.settings.forget_record()
            self.last_build = report
            return report
        finally:
            self.progress = None


# Events that can change what a file holds. Opening or closing a file unwritten is not one: the
# freshness check itself opens every source file, and counting that made the watcher wake itself.
CONTENT_EVENTS = frozenset({"created", "modified", "moved", "deleted", "closed"})


class SourceWatcher:
    """Calls `on_change` once the files under `path` (a file, or a folder) have stopped changing for
    `debounce` seconds: an editor's save is several events, and a copy of many files more."""

    def __init__(self, path: Path, on_change, debounce: float = 2.0) -> None:
        self.path = Path(path).resolve()
        self.folder = self.path if self.path.is_dir() else self.path.parent
        self.on_change, self.debounce = on_change, debounce
        self.suffixes = set(readers.suffixes())
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._observer = None

    def relevant(self, changed: str) -> bool:
        path = Path(changed)
        if self.path.is_file() or not self.path.exists():
            return path.resolve() == self.path
        inside = path.resolve().is_relative_to(self.folder)
        return inside and path.suffix.lower() in self.suffixes and not any(
            part.startswith(".") for part in path.relative_to(self.folder).parts)

    def changed(self, changed: str) -> None:
        if not self.relevant(changed):
            return
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.debounce, self.on_change)
            self._timer.daemon = True
            self._timer.start()

    def start(self) -> SourceWatcher:
        # watchdog starts an observer thread per platform: loaded only when a watcher is asked for
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                if not event.is_directory and event.event_type in CONTENT_EVENTS:
                    watcher.changed(event.src_path)
                    if getattr(event, "dest_path", None):
                        watcher.changed(event.dest_path)

        if not self.folder.is_dir():
            raise SourceError(f"Cannot watch {self.path}: the folder {self.folder} does not exist.")
        self._observer = Observer()
        self._observer.schedule(Handler(), str(self.folder), recursive=self.path.is_dir())
        self._observer.daemon = True
        self._observer.start()
        return self

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
