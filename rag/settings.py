"""Where the source and the index live, from flags, then environment, then defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from rag.chunking import ChunkSettings

_PACKAGE_PARENT = Path(__file__).resolve().parent.parent
# Installed editable from the repository: its data/ and index/; installed elsewhere: the working folder.
ROOT = _PACKAGE_PARENT if (_PACKAGE_PARENT / "pyproject.toml").exists() else Path.cwd()
DEFAULT_SOURCE = ROOT / "data" / "sino-soviet-relations.txt"
DEFAULT_INDEX = ROOT / "index"


@dataclass
class Settings:
    index_dir: Path = DEFAULT_INDEX
    source_or_none: Path | None = None  # given by flag or $RAG_SOURCE; None: what the index was built from
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    # Answerers: the extractive one always; generative ones when configured.
    answerer: str = "extractive"
    openai_base_url: str | None = None
    openai_model: str | None = None
    openai_api_key: str | None = None
    local_model: str | None = None
    llm_timeout: float = 60.0

    @classmethod
    def from_env(cls, source: Path | None = None, index_dir: Path | None = None, answerer: str | None = None,
                 base_url: str | None = None, model: str | None = None, timeout: float | None = None) -> Settings:
        env = os.environ.get
        chosen = answerer or env("RAG_ANSWERER") or "extractive"
        return cls(
            index_dir=Path(index_dir or env("RAG_INDEX") or DEFAULT_INDEX),
            source_or_none=Path(source) if source else (Path(env("RAG_SOURCE")) if env("RAG_SOURCE") else None),
            answerer=chosen,
            openai_base_url=base_url or env("RAG_OPENAI_BASE_URL"),
            openai_model=(model if chosen == "openai" else None) or env("RAG_OPENAI_MODEL"),
            openai_api_key=env("RAG_OPENAI_API_KEY") or env("OPENAI_API_KEY"),
            local_model=(model if chosen == "local" else None) or env("RAG_LOCAL_MODEL"),
            llm_timeout=float(timeout or env("RAG_LLM_TIMEOUT") or 60.0),
        )

    def generators(self) -> dict:
        """The generative answerers that are configured (or asked for), by name."""
        from rag.errors import RagError
        from rag.answering.generative import LocalAnswerer, OpenAIAnswerer

        out = {}
        if self.openai_base_url or self.answerer == "openai":
            out["openai"] = OpenAIAnswerer(self.openai_base_url or "", self.openai_model or "",
                                           self.openai_api_key, self.llm_timeout)
        if self.local_model or self.answerer == "local":
            if not self.local_model:
                raise RagError("The local answerer needs --model (a folder, a .gguf file, or gemma3-270m) "
                               "or RAG_LOCAL_MODEL.")
            out["local"] = LocalAnswerer(self.local_model, timeout=max(self.llm_timeout, 120.0))
        if self.answerer not in ("extractive", *out):
            raise RagError(f"Unknown answerer {self.answerer!r}: choose extractive, openai or local.")
        return out

    @property
    def source(self) -> Path:
        """The source to build from: the one given, else the one the index was built from, else the article."""
        if self.source_or_none:
            return self.source_or_none
        from rag.errors import RagError
        from rag.index import manifest_source, read_manifest

        try:
            return manifest_source(read_manifest(self.index_dir), self.index_dir)
        except RagError:
            return DEFAULT_SOURCE
