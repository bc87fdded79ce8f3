"""How long a 1 MB text takes to index, from scratch, on this machine: `python bench/build_1mb.py`.

The text is the training articles (data/corpus/train) repeated to 1 MB, each copy's sentences made
distinct (a copy number before every sentence end), so nothing is embedded once for several copies.
Builds it twice in the same run: all in fp32 (how every build ran before `BulkEmbedding`), then as a
build runs now (the long texts of a large build in int8). Prints both reports; the figures go to
bench/results.md by hand, with the date.
"""
from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.embedding.embedders import create_embedder  # noqa: E402
from rag.index.build import BulkEmbedding, build_index  # noqa: E402
from rag.index.progress import TerminalProgress  # noqa: E402
from rag.settings import Settings  # noqa: E402

SIZE = 1_000_000


def big_text(size: int = SIZE) -> str:
    articles = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "data" / "corpus" / "train").glob("*/article.txt"))]
    parts, total, copy = [], 0, 0
    while total < size:
        copy += 1
        for article in articles:
            part = re.sub(r"([a-z])\. (?=[A-Z])", lambda m: f"{m.group(1)} ({copy}). ", article)
            parts.append(part)
            total += len(part.encode())
            if total >= size:
                break
    return "\n\n".join(parts)


def main() -> int:
    settings = Settings.from_env()
    embedder = create_embedder(settings.embedder)
    embedder.embed(["warm up"])
    if hasattr(embedder, "bulk"):
        embedder.bulk().embed(["warm up"])  # its quantization and loading are not the build's time
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "big.txt"
        source.write_text(big_text(), encoding="utf-8")
        for label, bulk in (("all fp32 (before)", BulkEmbedding(min_texts=10**9)), ("now", BulkEmbedding())):
            began = time.perf_counter()
            report = build_index(source, Path(tmp) / label.split()[0], embedder, settings.chunking,
                                 progress=TerminalProgress(), bulk=bulk)
            print(f"{label}: {source.stat().st_size:,} bytes: {report.summary()}; "
                  f"wall {time.perf_counter() - began:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
