"""What each hand rule of the answer decision is worth: the validation documents answered by the whole
pipeline with every rule, then with each rule switched off in turn (`python -m rag.evaluation.rules_effect`).

    python -m rag.evaluation.rules_effect [--work DIR] [--split validation]

A rule earns its place when switching it off makes the mean over documents worse: fewer refusals of
unanswerable questions or lower accuracy, more than it saves in false refusals. Only validation
documents are read by default; `--split test` is for reporting after the choice, never for making it.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from rag.answering.model import load_model
from rag.answering.rules import ALL_RULES, Rule
from rag.embedding.embedders import create_embedder
from rag.evaluation import evaluate, fit, heldout, train
from rag.pipeline import Pipeline

KEYS = ("answer_acc", "false_refusal", "refusal_unanswerable")


def scored(documents, rules: frozenset[Rule], work: Path, embedder) -> dict[str, float]:
    rows = {}
    for doc in documents:
        pipeline = Pipeline.load(evaluate.document_index(doc, work, embedder), embedder=embedder,
                                 model=load_model(), rules=rules)
        questions = evaluate.load_questions(doc.questions)
        answers, _ = evaluate.run(pipeline, questions, fit.K)
        rows[doc.name] = evaluate.score(questions, answers)
    return heldout.mean_row(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="where the per-document indexes go (default: temporary)")
    parser.add_argument("--split", choices=("validation", "test"), default="validation")
    args = parser.parse_args(argv)
    embedder = create_embedder()
    documents = train.discover(train.VALIDATION if args.split == "validation" else train.TEST)
    with tempfile.TemporaryDirectory(prefix="rag-rules-") as tmp:
        work = args.work or Path(tmp)
        base = scored(documents, ALL_RULES, work, embedder)
        print(f"| rule switched off ({args.split}, mean of {len(documents)} documents) | answer accuracy "
              "| false refusals | refusals of unanswerable |")
        print("|---|---|---|---|")
        print(f"| none (every rule on) | {' | '.join(f'{base[k]:.3f}' for k in KEYS)} |")
        for rule in Rule:
            row = scored(documents, ALL_RULES - {rule}, work, embedder)
            print(f"| {rule.value} | {' | '.join(f'{row[k]:.3f} ({row[k] - base[k]:+.3f})' for k in KEYS)} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
