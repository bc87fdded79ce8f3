"""How long a 1 MB text takes to index, from scratch, on this machine: `python bench/build_1mb.py`.

The text is the training articles (data/corpus/train) repeated to 1 MB, each copy's sentences made
distinct (a copy number before every sentence end), so nothing is embedded once for several copies.
Prints the build report and appends nothing: the figures go to bench/results.md by hand, with the date.
"""
from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.settings import Settings  # noqa: E402
from rag.store.build import build_index  # noqa: E402
from rag.store.progress import TerminalProgress  # noqa: E402

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
    embedder = settings.create_embedder()
    embedder.embed(["warm up"])
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "big.txt"
        source.write_text(big_text(), encoding="utf-8")
        began = time.perf_counter()
        report = build_index(source, Path(tmp) / "index", embedder, settings.chunking, progress=TerminalProgress())
        print(f"{source.stat().st_size:,} bytes: {report.summary()}; wall {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
