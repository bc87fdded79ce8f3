"""The whole pipeline's figures at each refusal threshold over a suite, and accuracy + refusals read at
a given rate of false refusals (`python -m rag.evaluation.curve`).

    python -m rag.evaluation.curve [--suite DIR] [--followups] [--work DIR] [--at 0.069] [--json]

Why: moving the threshold trades about 0.01 false refusals for 0.02-0.03 refusals of unanswerable
questions, so two decisions compared each at its own threshold can differ only by where they sit on the
same curve (bench/results.md, probe 16: a candidate that missed a gate by 0.014 lay within 0.01 of the
shipped system at equal false refusals). Read both curves at the same false-refusal rate instead. The
decision and verifier read are the installed ones (`rag/answering/`); the suite is validation unless
told otherwise, since a curve is for choosing and test documents choose nothing.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from rag.answering.model import MODEL_FILE, load_model
from rag.embedding.embedders import create_embedder
from rag.errors import RagError
from rag.evaluation import evaluate
from rag.evaluation.heldout import RememberingEmbedder, pipeline_threshold

THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.20, 0.66, 0.04))  # around where the shipped ones lie


def at_false_refusals(curve: dict[float, dict], rate: float) -> float | None:
    """Accuracy + refusals where the curve's false refusals reach `rate`, on the straight line between the
    two thresholds around it; None when no threshold of the curve reaches that far on either side. Of
    thresholds with the same false refusals, the one with the most accuracy + refusals counts."""
    best: dict[float, float] = {}
    for r in curve.values():
        value = r["answer_acc"] + r["refusal_unanswerable"]
        best[r["false_refusal"]] = max(value, best.get(r["false_refusal"], value))
    points = sorted(best.items())
    for (low, low_value), (high, high_value) in zip(points, points[1:]):
        if low <= rate <= high:
            share = (rate - low) / (high - low) if high > low else 0.0
            return round(low_value + share * (high_value - low_value), 4)
    return points[0][1] if points and points[0][0] == rate else None


def table(curve: dict[float, dict]) -> str:
    """One row per threshold: accuracy, false refusals, refusals, and their objective."""
    rows = ["| threshold | accuracy | false refusals | refusals | acc + ref |", "|---|---|---|---|---|"]
    for t, r in sorted(curve.items()):
        rows.append(f"| {t:.2f} | {r['answer_acc']:.3f} | {r['false_refusal']:.3f} | "
                    f"{r['refusal_unanswerable']:.3f} | {r['answer_acc'] + r['refusal_unanswerable']:.3f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=evaluate.VALIDATION[0])
    parser.add_argument("--followups", action="store_true", help="the suite's follow-ups rather than its questions")
    parser.add_argument("--work", type=Path, help="where the per-document indexes go (default: temporary)")
    parser.add_argument("--at", type=float, help="also read accuracy + refusals at this rate of false refusals")
    parser.add_argument("--json", action="store_true", help="print the curve as JSON rather than a table")
    args = parser.parse_args(argv)
    questions = evaluate.QuestionSet.FOLLOWUPS if args.followups else evaluate.QuestionSet.QUESTIONS
    try:
        documents = evaluate.discover(args.suite, None, questions)
    except RagError as exc:  # a suite the user named wrongly: one sentence, as the rag command answers it
        print(exc, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="rag-curve-") as tmp:
        _, curve = pipeline_threshold(load_model(MODEL_FILE), documents, args.work or Path(tmp),
                                      RememberingEmbedder(create_embedder()), THRESHOLDS)
    print(json.dumps({str(t): r for t, r in curve.items()}, indent=1) if args.json else table(curve))
    if args.at is not None:
        value = at_false_refusals(curve, args.at)
        print(f"accuracy + refusals at false refusals {args.at}: "
              f"{'outside the curve' if value is None else value}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
