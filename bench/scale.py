"""Scale, for bench/run.py: corpora of many copies of the article, each built into its own index, with
build throughput, index size, warm ask latency, and the approximate index's recall against exact search."""
from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path

import corpus
import latency

from rag import Pipeline
from rag.index import vectors
from rag.index.build import build_index
from rag.index.folder import load_index


def folder_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6, 2)


def scale_point(copies: int, embedder, questions: list[str], article: Path, work: Path,
                compare_ann: bool = False) -> dict:
    """Build `copies` of the article into one index under `work`, and measure the build, its size and asking."""
    source = corpus.write_corpus(article, copies, work / f"corpus-{copies}x.md")
    index_dir = work / f"index-{copies}x"
    shutil.rmtree(index_dir, ignore_errors=True)
    report = build_index(source, index_dir, embedder, force=True)
    index = load_index(index_dir)
    pipeline = Pipeline(index, embedder)
    pipeline.ask(questions[0])
    ask_ms = []
    for _ in range(2):
        for q in questions:
            began = time.perf_counter()
            pipeline.ask(q)
            ask_ms.append((time.perf_counter() - began) * 1000)
    point = {
        "copies": copies, "chars": source.stat().st_size, "chunks": report.chunks, "sentences": report.sentences,
        "embedded": report.embedded, "reused": report.reused, "build_s": round(report.seconds, 1),
        "chunks_per_s": round(report.chunks / report.seconds, 1), "index_mb": folder_mb(index_dir),
        "vector_index": report.index_kind, "ask_median_ms": round(statistics.median(ask_ms), 2),
        "ask_p95_ms": round(latency.percentile(ask_ms, 0.95), 2),
    }
    if report.index_kind != "flat-ip" or compare_ann:
        # The approximate index the build switches to above EXACT_LIMIT, on these same vectors.

        approximate = index.vectors if report.index_kind != "flat-ip" else \
            vectors.build(index.chunk_vectors, exact_limit=0)
        point["ann"] = ann_recall(index, approximate, embedder, questions + [q.lower() for q in questions])
    shutil.rmtree(index_dir, ignore_errors=True)
    source.unlink()
    return point


def ann_recall(index, approximate, embedder, questions: list[str]) -> dict:
    """Share of the exact top 10 that the approximate index also returns, over the same queries; and
    the share of its results scoring at least the exact 10th (the copies in a scaled corpus are near
    ties, which a strict count penalises though they are as good). Both search times too."""
    import faiss  # only for the approximate index's comparison

    exact = faiss.IndexFlatIP(index.chunk_vectors.shape[1])
    exact.add(index.chunk_vectors)
    vectors = embedder.embed(questions)
    began = time.perf_counter()
    scores, truth = exact.search(vectors, 10)
    exact_ms = (time.perf_counter() - began) * 1000 / len(questions)
    began = time.perf_counter()
    found_scores, found = approximate.search(vectors, 10)
    ann_ms = (time.perf_counter() - began) * 1000 / len(questions)
    strict = sum(len(set(t) & set(f)) for t, f in zip(truth, found)) / truth.size
    as_good = sum(int((fs >= s[-1] - 1e-4).sum()) for s, fs in zip(scores, found_scores)) / truth.size
    return {"recall_at_10": round(strict, 4), "as_good_at_10": round(as_good, 4),
            "exact_ms": round(exact_ms, 3), "ann_ms": round(ann_ms, 3)}


def plot(points: list[dict], path: Path) -> None:
    import matplotlib  # the bench extra: only to draw the figure

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # after choosing the Agg backend, as matplotlib asks

    x = [p["copies"] for p in points]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    axes[0].plot(x, [p["ask_median_ms"] for p in points], "o-", label="median")
    axes[0].plot(x, [p["ask_p95_ms"] for p in points], "s--", label="p95")
    axes[0].set(title="Warm ask latency", ylabel="ms")
    axes[0].legend()
    axes[1].plot(x, [p["chunks_per_s"] for p in points], "o-")
    axes[1].set(title="Build throughput", ylabel="chunks / s")
    axes[2].plot(x, [p["index_mb"] for p in points], "o-")
    axes[2].set(title="Index size on disk", ylabel="MB", yscale="log")
    for ax in axes:
        ax.set(xscale="log", xlabel="corpus size (x the article)")
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
