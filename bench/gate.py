"""A gate: the shipped system and a candidate read as whole curves on documents no choice has read.

    python bench/gate.py --writers writer-385:writer-400 writer-473:writer-488 \\
        --shipped /work/main --candidate /work/c30 --out /work/gate30

Each system is a checkout (its `rag/` package, decision and verifier); each is run from its own folder
with its own package on PYTHONPATH, at the thresholds 0.20-0.64 by 0.04 and its own decision's threshold.
The gate's documents are the validation documents written by the given helpers (their meta.json's
`written_by`), copied into `--out/suite`. A curve already in `--out` is kept, so a stopped gate goes on.
The verdict is read as rules 25-30 in bench/results.md say: (Q) on the questions both readings at least
`--questions-margin` above the shipped system, (F) on the follow-ups both no more than `--followups-slack`
below, (C) the candidate's false refusals on the questions at most the shipped system's plus
`--false-refusal-slack`; a reading outside the other curve is a miss.

Why a script in the repository: the gate scripts of rules 25-29 lived beside it and went with a
machine (bench/results.md, rule 30).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GATE_DOCUMENTS = ROOT / "data" / "corpus" / "incoming" / "validation"
THRESHOLDS = tuple(round(0.20 + 0.04 * i, 2) for i in range(12))
COPIED = ("article.txt", "questions.jsonl", "followups.jsonl", "meta.json")


def writer_range(text: str) -> tuple[int, int]:
    """"writer-385:writer-400" as (385, 400), both ends included."""
    try:
        low, high = (int(part.strip().removeprefix("writer-")) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give a range such as writer-385:writer-400") from None
    if low > high:
        raise argparse.ArgumentTypeError(f"{text!r}: the first writer comes after the last")
    return low, high


def written_by(folder: Path) -> int | None:
    """The number of the helper who wrote the document in `folder`, from its meta.json."""
    try:
        name = json.loads((folder / "meta.json").read_text(encoding="utf-8"))["written_by"]
        return int(str(name).removeprefix("writer-"))
    except (OSError, ValueError, KeyError):
        return None


def gate_documents(source: Path, ranges: list[tuple[int, int]]) -> list[Path]:
    """The document folders under `source` written by a helper in one of `ranges`, by name."""
    chosen = []
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        number = written_by(folder)
        if number is not None and any(low <= number <= high for low, high in ranges):
            chosen.append(folder)
    return chosen


def copy_suite(documents: list[Path], suite: Path) -> None:
    """The gate's documents as a suite folder of their own (files copied, so no glob follows a link)."""
    for folder in documents:
        target = suite / folder.name
        target.mkdir(parents=True, exist_ok=True)
        for name in COPIED:
            if (folder / name).exists():
                shutil.copy2(folder / name, target / name)


def own_threshold(checkout: Path) -> float:
    """The refusal threshold of the decision a checkout ships."""
    data = json.loads((checkout / "rag" / "answering" / "answerability.json").read_text(encoding="utf-8"))
    return float(data["threshold"])


def curve(checkout: Path, suite: Path, work: Path, followups: bool, out: Path) -> None:
    """One system's curve on the suite, written as JSON to `out` unless it is there already."""
    if out.exists():
        return
    thresholds = sorted(set(THRESHOLDS) | {own_threshold(checkout)})
    command = [sys.executable, "-m", "rag.evaluation.curve", "--suite", str(suite), "--work", str(work),
               "--thresholds", ",".join(f"{t:g}" for t in thresholds), "--json"]
    command += ["--followups"] if followups else []
    env = os.environ | {"PYTHONPATH": str(checkout), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"the curve of {checkout} failed:\n{result.stderr[-2000:]}")
    partial = out.with_name(out.name + ".writing")
    partial.write_text(result.stdout, encoding="utf-8")
    partial.replace(out)


def readings(shipped: Path, candidate: Path, shipped_at: float, candidate_at: float) -> dict:
    """Both readings of the two saved curves (rag.evaluation.curve --compare)."""
    command = [sys.executable, "-m", "rag.evaluation.curve", "--compare", str(shipped), str(candidate),
               "--shipped-at", str(shipped_at), "--candidate-at", str(candidate_at)]
    result = subprocess.run(command, cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def verdict(questions: dict, followups: dict, questions_margin: float, followups_slack: float,
            false_refusal_slack: float) -> dict[str, bool]:
    """(Q), (F) and (C) of the rule, each passed or not; a reading outside a curve (None) is a miss."""
    def both_at_least(r: dict, margin: float) -> bool:
        if r["candidate_there"] is None or r["shipped_there"] is None:
            return False
        return (round(r["candidate_there"] - r["shipped"], 4) >= margin
                and round(r["candidate"] - r["shipped_there"], 4) >= margin)
    return {"Q": both_at_least(questions, questions_margin),
            "F": both_at_least(followups, -followups_slack),
            "C": round(questions["candidate_false_refusals"] - questions["shipped_false_refusals"], 4)
            <= false_refusal_slack}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=writer_range, nargs="+", required=True, metavar="FIRST:LAST")
    parser.add_argument("--shipped", type=Path, required=True, help="the checkout of the shipped system")
    parser.add_argument("--candidate", type=Path, required=True, help="the checkout of the candidate")
    parser.add_argument("--out", type=Path, required=True, help="the suite, the indexes and the curves")
    parser.add_argument("--source", type=Path, default=GATE_DOCUMENTS)
    parser.add_argument("--questions-margin", type=float, default=0.01)
    parser.add_argument("--followups-slack", type=float, default=0.005)
    parser.add_argument("--false-refusal-slack", type=float, default=0.01)
    parser.add_argument("--shipped-only", action="store_true",
                        help="compute the shipped system's curves only (before the candidate exists)")
    args = parser.parse_args(argv)
    documents = gate_documents(args.source, args.writers)
    if not documents:
        parser.error(f"no document under {args.source} was written by those helpers")
    suite, work = args.out / "suite", args.out / "work"
    copy_suite(documents, suite)
    print(f"{len(documents)} documents in {suite}", file=sys.stderr)
    systems = {"shipped": args.shipped} if args.shipped_only else {"shipped": args.shipped, "candidate": args.candidate}
    for name, checkout in systems.items():
        for followups in (False, True):
            out = args.out / f"{name}-{'followups' if followups else 'questions'}.json"
            print(f"{name}: {out.name}", file=sys.stderr)
            curve(checkout.resolve(), suite.resolve(), work.resolve(), followups, out)
    if args.shipped_only:
        return 0
    at = own_threshold(args.shipped), own_threshold(args.candidate)
    read = {kind: readings(args.out / f"shipped-{kind}.json", args.out / f"candidate-{kind}.json", *at)
            for kind in ("questions", "followups")}
    passed = verdict(read["questions"], read["followups"], args.questions_margin, args.followups_slack,
                     args.false_refusal_slack)
    report = {"documents": len(documents), "thresholds": {"shipped": at[0], "candidate": at[1]},
              "readings": read, "passed": passed, "ships": all(passed.values())}
    (args.out / "verdict.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
