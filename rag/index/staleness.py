"""Whether an index still answers for its source and embedder, and why not."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from rag.embedding.embedder import Embedder
from rag.errors import RagError
from rag.ingest.chunking import ChunkSettings
from rag.ingest.source import source_hashes


class Staleness(str, Enum):
    """Why an index no longer matches what it would be built from."""
    MODEL = "model"
    CHUNKER = "chunker"
    SOURCE_CHANGED = "source changed"
    SOURCE_UNREADABLE = "source unreadable"


@dataclass(frozen=True)
class StaleReason:
    kind: Staleness
    message: str

    def __str__(self) -> str:
        return self.message


def embedding_mismatches(manifest: dict, embedder: Embedder) -> list[str]:
    """How the embedding the index records differs from `embedder`'s (other weights, other precision):
    the same model name is not enough for its vectors to be comparable."""
    built_with = manifest.get("embedding", {})
    now_with = embedder.describe() if built_with and hasattr(embedder, "describe") else {}
    out = []
    built_from, now_from = built_with.get("weights_sha256"), now_with.get("weights_sha256")
    if built_from and now_from and built_from != now_from:
        out.append(f"built with other weights of {manifest['model']['name']} (sha256 {built_from[:12]}, "
                   f"now {now_from[:12]})")
    if now_with and built_with.get("precision", "fp32") != now_with.get("precision", "fp32"):
        out.append(f"built with {built_with.get('precision', 'fp32')} embeddings, not {now_with.get('precision', 'fp32')}")
    elif now_with.get("precision", "fp32") != "fp32" and \
            built_with.get("quantization", "per-matrix") != now_with.get("quantization", "per-matrix"):
        out.append(f"built with {built_with.get('quantization', 'per-matrix')} int8 embeddings, "
                   f"not {now_with.get('quantization', 'per-matrix')}")
    return out


def stale_reasons(manifest: dict, source: Path | None, embedder: Embedder,
                  settings: ChunkSettings = ChunkSettings(), index_dir: Path | None = None) -> list[StaleReason]:
    """Why the index no longer matches the source, model or settings; empty when fresh."""
    reasons = []
    model = manifest["model"]
    if model["name"] != embedder.name:
        reasons.append(StaleReason(Staleness.MODEL, f"built with model {model['name']}, not {embedder.name}"))
    reasons += [StaleReason(Staleness.MODEL, m) for m in embedding_mismatches(manifest, embedder)]
    if model["dim"] != embedder.dim:
        reasons.append(StaleReason(Staleness.MODEL,
                                   f"built with {model['dim']}-dimensional vectors, not {embedder.dim}"))
    if manifest["chunker"] != settings.as_dict():
        reasons.append(StaleReason(Staleness.CHUNKER,
                                   f"built with chunker settings {manifest['chunker']}, not {settings.as_dict()}"))
    if source is None and index_dir is not None:
        source = manifest_source(manifest, index_dir)
    if source is not None:
        built = {f["name"]: f["sha256"] for f in [*manifest["source"]["files"],
                                                   *manifest["source"].get("unreadable", [])]}
        try:
            now = source_hashes(Path(source))
        except RagError as exc:
            reasons.append(StaleReason(Staleness.SOURCE_UNREADABLE, str(exc).rstrip(".")))
        else:
            if now != built:
                changed = sorted(set(now) ^ set(built) | {n for n in now if n in built and now[n] != built[n]})
                reasons.append(StaleReason(Staleness.SOURCE_CHANGED,
                                           f"source changed since the build ({', '.join(changed)})"))
    return reasons


def manifest_source(manifest: dict, index_dir: Path) -> Path:
    path = Path(manifest["source"]["path"])
    return path if path.is_absolute() else Path(index_dir).resolve().parent / path
