"""Where the source and the index live and which models answer, by name: flags, then environment, then
defaults. Configuration only: the service (`rag.service`) turns the names into an embedder and answerers.
Nothing here reads the disk or the working directory when imported."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import RagError, SourceError
from rag.index.staleness import manifest_source
from rag.ingest.chunking import ChunkSettings

ROOT = Path(__file__).resolve().parent.parent  # the repository: its data/ and index/
DEFAULT_SOURCE = ROOT / "data" / "sino-soviet-relations.txt"
DEFAULT_INDEX = ROOT / "index"
# Where the chat keeps what people bring (git-ignored; $RAG_HOME): documents/ and their index/. The
# committed article and index are never rewritten; deleting this folder goes back to them.
DEFAULT_WORKSPACE = ROOT / "workspace"


@dataclass
class Settings:
    index_dir: Path = DEFAULT_INDEX
    source_or_none: Path | None = None  # given by flag or $RAG_SOURCE; None: what the index was built from
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    embedder: str = "minilm"  # a name in rag.embedding.embedders.EMBEDDERS
    answerer: str = "extractive"  # a name in rag.answering.answerers.ANSWERERS
    openai_base_url: str | None = None
    openai_model: str | None = None
    openai_api_key: str | None = None
    local_model: str | None = None
    llm_timeout: float = 60.0
    workspace: Path | None = None  # None: `workspace/` beside the index given (the repository's own by default)

    def __post_init__(self) -> None:
        if self.workspace is None:
            self.workspace = Path(self.index_dir).parent / "workspace"

    @classmethod
    def from_env(cls, source: Path | None = None, index_dir: Path | None = None, answerer: str | None = None,
                 base_url: str | None = None, model: str | None = None, timeout: float | None = None) -> Settings:
        env = os.environ.get
        chosen = answerer or env("RAG_ANSWERER") or "extractive"
        home = Path(env("RAG_HOME")) if env("RAG_HOME") else None
        given = index_dir or env("RAG_INDEX")
        return cls(
            index_dir=Path(given) if given else served_index(home or DEFAULT_WORKSPACE),
            workspace=home if home or given else DEFAULT_WORKSPACE,
            source_or_none=Path(source) if source else (Path(env("RAG_SOURCE")) if env("RAG_SOURCE") else None),
            embedder=env("RAG_EMBEDDER") or "minilm",
            answerer=chosen,
            openai_base_url=base_url or env("RAG_OPENAI_BASE_URL"),
            openai_model=(model if chosen == "openai" else None) or env("RAG_OPENAI_MODEL"),
            openai_api_key=env("RAG_OPENAI_API_KEY") or env("OPENAI_API_KEY"),
            local_model=(model if chosen == "local" else None) or env("RAG_LOCAL_MODEL"),
            llm_timeout=seconds(env("RAG_LLM_TIMEOUT"), "RAG_LLM_TIMEOUT", 60.0) if timeout is None
            else seconds(str(timeout), "--timeout", 60.0),
        )

    @property
    def source_record(self) -> Path:
        """Beside the index: the source it is to be built from next, written when the chat switches the
        source (an upload), so a server killed before its rebuild finishes picks the switch up again."""
        index_dir = Path(self.index_dir)
        return index_dir.parent / f"{index_dir.name}.source.json"

    def record_source(self, source: Path) -> None:
        """Switch to `source`, on disk first (atomically), then in memory."""
        record = self.source_record
        tmp = record.with_name(f".{record.name}.tmp")
        tmp.write_text(json.dumps({"source": str(Path(source).resolve())}) + "\n", encoding="utf-8")
        os.replace(tmp, record)
        self.source_or_none = Path(source)

    def recorded_source(self) -> Path | None:
        try:
            return Path(json.loads(self.source_record.read_text(encoding="utf-8"))["source"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def forget_record(self) -> None:
        """After a build: the manifest now records the source."""
        self.source_record.unlink(missing_ok=True)

    def source(self, manifest: dict | None) -> Path:
        """What to build from: the source given; else a switch recorded beside the index; else the one
        the index records; the shipped article only for the shipped index. An index whose record cannot
        be read never silently gets the article."""
        if self.source_or_none:
            return self.source_or_none
        if (recorded := self.recorded_source()) is not None:
            return recorded
        if manifest is not None:
            return manifest_source(manifest, self.index_dir)
        if Path(self.index_dir).resolve() == DEFAULT_INDEX.resolve() or not Path(self.index_dir).exists():
            return DEFAULT_SOURCE
        raise SourceError(f"The index in {self.index_dir} does not say what it was built from: pass --source "
                          "(or set RAG_SOURCE).")

    def hint(self, command: str = "rag build") -> str:
        """A command to repeat, with the flags that name this index and source."""
        flags = [] if Path(self.index_dir).resolve() == DEFAULT_INDEX.resolve() else [f"--index {self.index_dir}"]
        if self.source_or_none:
            flags.append(f"--source {self.source_or_none}")
        elif command == "rag build" and not self.source_known():
            flags.append("--source PATH")  # a damaged manifest no longer says; the build would ask for it
        return " ".join([command, *flags])

    def for_this_index(self, message: str) -> str:
        """Advice to run `rag build ...` names the index it is about, so following it rebuilds that one."""
        return message.replace("`rag build", f"`{self.hint('rag build')}") if "`rag build" in message else message

    def source_known(self) -> bool:
        """Whether a build without --source finds what to build from (a record, or a readable manifest)."""
        try:
            manifest = json.loads((Path(self.index_dir) / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = None
        try:
            self.source(manifest if isinstance(manifest, dict) else None)
        except (SourceError, KeyError, TypeError):
            return False
        return True


def served_index(workspace: Path) -> Path:
    """The workspace's index once the chat has made one (documents were added), else the committed one."""
    return workspace / "index" if (workspace / "index" / "manifest.json").is_file() else DEFAULT_INDEX


def seconds(text: str | None, name: str, default: float) -> float:
    """A positive number of seconds from the environment variable `name`; a value that is not one is a
    clear error, not a traceback on every command."""
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise RagError(f"{name} must be a number of seconds above 0, not {text!r}.")
    return value
