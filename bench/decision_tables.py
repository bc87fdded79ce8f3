"""The answer decision's model card as Markdown tables for bench/results.md: every candidate on the
validation and test documents (means), each test document, each question type, and the learning curve.

    python bench/decision_tables.py [rag/answering/answerability.card.json]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CARD = ROOT / "rag" / "answering" / "answerability.card.json"
KEYS = ("recall@1", "answer_acc", "false_refusal", "refusal_unanswerable")
HEAD = "| recall@1 | answer accuracy | false refusals | refusals, unanswerable |"


def cells(row: dict) -> str:
    return " | ".join("-" if row.get(k) is None else f"{row[k]:.3f}" for k in KEYS)


def table(title: str, rows: dict[str, dict]) -> list[str]:
    out = [f"| {title} {HEAD}", "|---" * (len(KEYS) + 1) + "|"]
    out += [f"| {name} | {cells(row)} |" for name, row in rows.items()]
    return out + [""]


def main() -> int:
    card = json.loads(Path(sys.argv[1] if len(sys.argv) > 1 else CARD).read_text(encoding="utf-8"))
    figures = card["figures"]
    names = list(figures)
    lines = ["Means over documents, whole pipeline, each document in its own index:", ""]
    for split in ("validation", "test"):
        lines += table(f"decision ({split})", {n: figures[n][split]["mean"] for n in names})
    documents = list(figures["chosen"]["test"]["documents"])
    lines += ["Each test document, answer accuracy / false refusals / refusals of unanswerable questions:", ""]
    lines += ["| test document | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for doc in documents:
        row = [figures[n]["test"]["documents"][doc] for n in names]
        lines.append(f"| {doc} | " + " | ".join(
            f"{r['answer_acc']:.2f} / {r['false_refusal']:.2f} / "
            + ("-" if r.get("refusal_unanswerable") is None else f"{r['refusal_unanswerable']:.2f}") for r in row) + " |")
    lines += ["", "Each question type on the test documents (mean over the documents that have it), answer accuracy"
              " (for unanswerable questions: refusals):", ""]
    types = list(figures["chosen"]["test"]["by_type"])
    lines += ["| question type | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for t in types:
        key = "refusal_unanswerable" if t == "unanswerable" else "answer_acc"
        values = [figures[n]["test"]["by_type"].get(t, {}).get(key) for n in names]
        lines.append(f"| {t} | " + " | ".join("-" if v is None else f"{v:.2f}" for v in values) + " |")
    curve = card.get("learning_curve", [])
    if curve:
        lines += ["", "Learning curve: the chosen settings refitted on a share of the training documents, the threshold "
                  "set again on validation (whole pipeline):", ""]
        lines += ["| training documents | questions | threshold " + HEAD, "|---" * (len(KEYS) + 3) + "|"]
        lines += [f"| {c['documents']} ({c['share']:.0%}) | {c['questions']} | {c['threshold']} | "
                  f"{cells(c['validation'])} |" for c in curve]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
