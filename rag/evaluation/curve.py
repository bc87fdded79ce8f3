"""The whole pipeline's figures at each refusal threshold over a suite, and accuracy + refusals read at
a given rate of false refusals (`python -m rag.evaluation.curve`).

    python -m rag.evaluation.curve [--suite DIR] [--followups] [--model FILE] [--thresholds 0.2,0.3]
                                   [--work DIR] [--at 0.069] [--json]
    python -m rag.evaluation.curve --compare SHIPPED.json CANDIDATE.json --shipped-at 0.36 --candidate-at 0.4

Why: moving the threshold trades about 0.01 false refusals for 0.02-0.03 refusals of unanswerable
questions, so two decisions compared each at its own threshold can differ only by where they sit on the
same curve (bench/results.md, probe 16: a candidate that missed a gate by 0.014 lay within 0.01 of the
shipped system at equal false refusals). Read both curves at the same false-refusal rate instead. The
decision is the installed one unless `--model` names another; the verifier is the installed one. The
suite is validation unless told otherwise, since a curve is for choosing and test documents choose nothing.
"""
from __future__ import annotations

import argparse
import dataclasses
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


def envelope(curve: dict[float, dict]) -> list[tuple[float, float]]:
    """(false refusals, accuracy + refusals) of the thresholds no other beats: none reaches more accuracy +
    refusals at as few or fewer false refusals. Thresholds without a figure are left out."""
    points = sorted(((r["false_refusal"], -(r["answer_acc"] + r["refusal_unanswerable"])) for r in curve.values()
                     if None not in (r["false_refusal"], r["answer_acc"], r["refusal_unanswerable"])))
    kept: list[tuple[float, float]] = []
    for rate, negative in points:  # by false refusals, the best first among equal ones
        if not kept or (rate > kept[-1][0] and -negative > kept[-1][1]):
            kept.append((rate, -negative))
    return kept


def at_false_refusals(curve: dict[float, dict], rate: float) -> float | None:
    """Accuracy + refusals where the curve's upper envelope reaches `rate` false refusals, on the straight
    line between its two points around it; None outside the envelope's range."""
    points = envelope(curve)
    if points and points[0][0] == rate:
        return round(points[0][1], 4)
    for (low, low_value), (high, high_value) in zip(points, points[1:]):
        if low < rate <= high:
            return round(low_value + (rate - low) / (high - low) * (high_value - low_value), 4)
    return None


@dataclasses.dataclass(frozen=True)
class Readings:
    """A candidate against the shipped system, each at its own threshold and each read on the other's curve
    at its own false refusals: (A) the shipped point against the candidate's curve there, (B) the candidate's
    point against the shipped curve there. A rule adds its own margins; None: outside the other curve."""
    shipped: float  # accuracy + refusals at the shipped threshold
    candidate_there: float | None  # the candidate's curve at the shipped false refusals (A)
    candidate: float  # accuracy + refusals at the candidate's threshold
    shipped_there: float | None  # the shipped curve at the candidate's false refusals (B)
    shipped_false_refusals: float
    candidate_false_refusals: float


def readings(shipped: dict[float, dict], candidate: dict[float, dict], shipped_at: float,
             candidate_at: float) -> Readings:
    """Both points of a gate (bench/results.md, rules 17 and 22), from two curves of the same suite."""
    ours, theirs = shipped[shipped_at], candidate[candidate_at]
    return Readings(round(ours["answer_acc"] + ours["refusal_unanswerable"], 4),
                    at_false_refusals(candidate, ours["false_refusal"]),
                    round(theirs["answer_acc"] + theirs["refusal_unanswerable"], 4),
                    at_false_refusals(shipped, theirs["false_refusal"]),
                    ours["false_refusal"], theirs["false_refusal"])


def saved_curve(path: Path) -> dict[float, dict]:
    """A curve written by `--json`, its thresholds as numbers again."""
    try:
        return {float(t): row for t, row in json.loads(path.read_text(encoding="utf-8"))["curve"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RagError(f"{path} is not a curve written by `python -m rag.evaluation.curve --json` ({exc}).") from None


def thresholds(text: str) -> tuple[float, ...]:
    """"0.2,0.3,0.4" as thresholds, each between 0 and 1."""
    try:
        values = tuple(sorted({round(float(part), 4) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from None
    if not values or not all(0.0 < v < 1.0 for v in values):
        raise argparse.ArgumentTypeError("give thresholds between 0 and 1, such as 0.2,0.3,0.4")
    return values


def table(curve: dict[float, dict]) -> str:
    """One row per threshold: accuracy, false refusals, refusals, and their objective."""
    rows = ["| threshold | accuracy | false refusals | refusals | acc + ref |", "|---|---|---|---|---|"]
    for t, r in sorted(curve.items()):
        acc, false, refusals = r["answer_acc"], r["false_refusal"], r["refusal_unanswerable"]
        both = None if None in (acc, refusals) else acc + refusals
        rows.append(f"| {t:.2f} | {shown(acc)} | {shown(false)} | {shown(refusals)} | {shown(both)} |")
    return "\n".join(rows)


def shown(value: float | None) -> str:
    """A figure to three places, or n/a where the suite has no question to give it."""
    return "n/a" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=evaluate.VALIDATION[0])
    parser.add_argument("--followups", action="store_true", help="the suite's follow-ups rather than its questions")
    parser.add_argument("--model", type=Path, default=MODEL_FILE,
                        help="the decision to read (default: the installed rag/answering/answerability.json)")
    parser.add_argument("--thresholds", type=thresholds, default=THRESHOLDS,
                        help="comma-separated refusal thresholds to ask at (default: 0.20 to 0.64 by 0.04)")
    parser.add_argument("--work", type=Path, help="where the per-document indexes go (default: temporary)")
    parser.add_argument("--at", type=float, help="also read accuracy + refusals at this rate of false refusals")
    parser.add_argument("--json", action="store_true", help="print the curve as JSON rather than a table")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("SHIPPED", "CANDIDATE"),
                        help="read two saved curves (--json) against each other instead of scoring a suite")
    parser.add_argument("--shipped-at", type=float, help="with --compare: the shipped system's threshold")
    parser.add_argument("--candidate-at", type=float, help="with --compare: the candidate's threshold")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(parser, args)
    questions = evaluate.QuestionSet.FOLLOWUPS if args.followups else evaluate.QuestionSet.QUESTIONS
    try:
        documents = evaluate.discover(args.suite, None, questions)
        model = load_model(args.model)
    except RagError as exc:  # a suite or model named wrongly: one sentence, as the rag command answers it
        print(exc, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="rag-curve-") as tmp:
        _, curve = pipeline_threshold(model, documents, args.work or Path(tmp),
                                      RememberingEmbedder(create_embedder()), args.thresholds)
    at = None if args.at is None else {"false_refusal": args.at, "acc_plus_ref": at_false_refusals(curve, args.at)}
    if args.json:
        print(json.dumps({"curve": {str(t): r for t, r in curve.items()}, "at": at}, indent=1))
        return 0
    print(table(curve))
    if at is not None:
        value = at["acc_plus_ref"]
        print(f"\naccuracy + refusals at false refusals {args.at}: {'outside the curve' if value is None else value}")
    return 0


def compare(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """`--compare`: both readings of a gate, as JSON."""
    if args.shipped_at is None or args.candidate_at is None:
        parser.error("--compare needs --shipped-at and --candidate-at")
    try:
        shipped, candidate = saved_curve(args.compare[0]), saved_curve(args.compare[1])
        if args.shipped_at not in shipped or args.candidate_at not in candidate:
            raise RagError(f"each curve needs a row at its threshold: {sorted(shipped)} and {sorted(candidate)}")
    except RagError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(json.dumps(dataclasses.asdict(readings(shipped, candidate, args.shipped_at, args.candidate_at)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
