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

    @classmethod
    def from_env(cls, source: Path | None = None, index_dir: Path | None = None) -> Settings:
        env_source = os.environ.get("RAG_SOURCE")
        env_index = os.environ.get("RAG_INDEX")
        return cls(
            index_dir=Path(index_dir or env_index or DEFAULT_INDEX),
            source_or_none=Path(source) if source else (Path(env_source) if env_source else None),
        )

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
