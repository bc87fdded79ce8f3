"""Warm `ask` latency against the time to embed the question alone, in one process.

    python bench/latency.py [--questions FILE] [--rounds N]

Target: warm ask median <= 2x the embedding median.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from rag import Pipeline

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QUESTIONS = ROOT / "tests" / "data" / "questions.jsonl"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(pipeline, questions: list[str], rounds: int = 3) -> dict:
    """Interleaved so both see the same machine state; the first call warms caches and is dropped."""
    pipeline.ask(questions[0])
    embed_ms, ask_ms = [], []
    for _ in range(rounds):
        for q in questions:
            began = time.perf_counter()
            pipeline.embedder.embed([q])
            embed_ms.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            pipeline.ask(q)
            ask_ms.append((time.perf_counter() - began) * 1000)
    embed_median, ask_median = statistics.median(embed_ms), statistics.median(ask_ms)
    return {"questions": len(questions) * rounds, "embed_median_ms": round(embed_median, 2),
            "ask_median_ms": round(ask_median, 2), "ask_p95_ms": round(percentile(ask_ms, 0.95), 2),
            "ratio": round(ask_median / embed_median, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--index", type=Path, default=ROOT / "index")
    args = parser.parse_args()

    questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines() if line.strip()]
    result = measure(Pipeline.load(args.index), questions, args.rounds)
    print(json.dumps(result, indent=2))
    return 0 if result["ratio"] <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
