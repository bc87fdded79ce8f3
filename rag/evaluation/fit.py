"""Refit the answerability model (`answerability.json`) from labelled questions, and measure it honestly.

    python -m rag.evaluation.fit [--suite data/eval] [--extra tests/data/*.jsonl] [--train tests/data/train-docs]
                      [--work DIR] [--loo]

A training row is the decision's input for one question (the signals of its best-ranked sentence),
labelled 1 when the question is answerable and the answer would hold an accepted answer, 0 when the
document does not answer it. Each answerable question also gives a 0 once its gold evidence sentences
are hidden from the passages (the SQuAD 2.0 way of making unanswerable questions from answerable ones),
and once for each near miss made from it: a name or a year swapped for another of the document.
The threshold on the probability is then set to get the most right outcomes (a correct answer, or a refusal where the
document does not answer), a false refusal counting `refusal_cost` times.

`--loo` fits on all documents but one and scores the one left out, for each document.

An analysis tool since the corpus split (data/corpus/README.md): the suite it reads by default is now
test data, so nothing it fits is shipped; `make train` (rag/evaluation/train.py) fits on training documents only.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np

from rag.answering.evidence import Evidence
from rag.answering.extractive import ExtractiveAnswerer
from rag.answering.model import DECISION_FEATURES, FEATURES, LogisticModel, decision_row
from rag.answering.query import question_names, years_in
from rag.embedding.embedders import create_embedder
from rag.evaluation import evaluate
from rag.evaluation.shared_score import answer_ok, covers
from rag.pipeline import Pipeline
from rag.settings import DEFAULT_SOURCE
from rag.text.terms import words
from rag.types import Passage

K = 5
# The composition the decision's labels are read with ("would answering be right"): pinned to the one the
# shipped decision was first fitted on, so that a change in how answers are composed does not move them.
LABELLING_ANSWERER = ExtractiveAnswerer(verified_join=None, neighbour_join=None, summary_per_passage=1)


@dataclasses.dataclass
class Example:
    """One question: the decision's input for it, and whether answering would be right."""
    document: str
    question: dict
    row: np.ndarray | None  # decision_row of its sentences; None when no passage holds a sentence
    outcome: str  # "right" | "wrong" (answerable; the answer would hold an accepted answer, or not) | "none"
    hidden_row: np.ndarray | None = None  # the same question with its gold sentences hidden: "none"
    near_miss_rows: list = dataclasses.field(default_factory=list)  # a name or year swapped: "none"


def placeholder_model() -> LogisticModel:
    """Collecting the signals needs a judge, not its weights."""
    n = len(DECISION_FEATURES)
    return LogisticModel(DECISION_FEATURES, (0.0,) * n, (1.0,) * n, (0.0,) * n, 0.0, 0.5)


def is_gold(sentence: str, question: dict) -> bool:
    golds = [question.get("evidence", "")] + list(question.get("evidence_all") or [])
    return any(g and (covers(sentence, g) or covers(g, sentence, 0.8)) for g in golds)


def without(passages: list[Passage], hidden: set[tuple[str, int]]) -> list[Passage]:
    out = []
    for p in passages:
        keep = [(r, s) for r, s in zip(p.sentence_rows, p.sentences) if (p.source, s.start) not in hidden]
        if keep:
            out.append(dataclasses.replace(p, sentences=[s for _, s in keep], sentence_rows=[r for r, _ in keep],
                                           text=" ".join(s.text for _, s in keep), sentence_pages=[]))
    return out


def collect(pipeline, document: str, questions: list[dict]) -> list[Example]:
    """The decision's input for every question of one document, and what answering would give."""
    judge = pipeline.judge
    answerer = LABELLING_ANSWERER
    out = []
    for q in questions:
        query = pipeline.analyse(q["question"], q.get("history"))
        passages = pipeline.search(query, K)
        candidates = judge.candidates(query, passages)
        row = decision_row(candidates) if candidates else None
        if not q["answerable"]:
            out.append(Example(document, q, row, "none"))
            continue
        supported = [c for c in candidates if c.eligible]
        text = " ".join(c.sentence.text for c in answerer.compose(query, Evidence(supported, candidates))) \
            if supported else ""
        outcome = "right" if answer_ok(text, q["answer_any"]) else "wrong"
        hidden = {(c.passage.source, c.sentence.start) for c in candidates if is_gold(c.sentence.text, q)}
        rest = judge.candidates(query, without(passages, hidden)) if hidden else []
        misses = []
        for variant in near_misses(q, judge.stats):
            variant_query = pipeline.analyse(variant, q.get("history"))
            variant_candidates = judge.candidates(variant_query, pipeline.search(variant_query, K))
            if variant_candidates:
                misses.append(decision_row(variant_candidates))
        out.append(Example(document, q, row, outcome, decision_row(rest) if rest else None, misses))
    return out


def near_misses(question: dict, stats) -> list[str]:
    """The question with one name, or one year, swapped for another the document has but its evidence
    lacks: it shares almost every word with the evidence and is (almost always) no longer answered by it.
    Deterministic, so that a refit reproduces the shipped model."""
    text, evidence = question["question"], question.get("evidence", "")
    evidence_words = set(words(evidence))
    out = []
    names = [n for n in question_names(text) if n in evidence_words]
    others = sorted(n for n in stats.names if n not in evidence_words and n not in words(text) and len(n) > 3)
    if names and others:
        name = names[0]
        other = others[zlib.crc32(f"{question.get('id')}{name}".encode()) % len(others)]
        out.append(re.sub(rf"\b{re.escape(name)}\b", other.title(), text, count=1, flags=re.I))
    years = sorted(years_in(text))
    document_years = sorted({y for ys in stats.section_years.values() for y in ys if not y.endswith("s")})
    if years and document_years:
        year = years[0]
        absent = [y for y in document_years if y not in evidence and y != year]
        if absent:
            other = min(absent, key=lambda y: (abs(int(y) - int(year[:4])), y))
            out.append(text.replace(year, other, 1))
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, sample: np.ndarray, l2: float = 1.0,
                 iterations: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method, the two classes weighted to equal totals."""
    positive = (sample * y).sum()
    negative = (sample * (1 - y)).sum()
    weight = sample * np.where(y > 0, negative / max(positive, 1e-9), 1.0)
    design = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(design @ beta)))
        gradient = design.T @ (weight * (p - y)) + penalty * beta
        hessian = (design * (weight * p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta[:-1], float(beta[-1])


def cases(examples: list[Example], hidden_weight: float) -> list[tuple[np.ndarray | None, str, float]]:
    """(row, outcome, weight) per question, and per hidden-gold or near-miss variant (outcome "none")."""
    out = [(e.row, e.outcome, 1.0) for e in examples]
    out += [(e.hidden_row, "none", hidden_weight) for e in examples if e.hidden_row is not None]
    out += [(row, "none", hidden_weight) for e in examples for row in e.near_miss_rows]
    return out


def labelled(examples: list[Example], hidden_weight: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What every decision model learns from: full decision rows, labelled 1 for a right answer and 0
    where there is nothing to answer, and each row's weight. Wrong answers are left out: the model is
    asked whether the document answers, not whether the ranking found it."""
    rows = [(r, o, w) for r, o, w in cases(examples, hidden_weight) if r is not None and o != "wrong"]
    return (np.array([r for r, _, _ in rows]), np.array([o == "right" for _, o, _ in rows], dtype=np.float64),
            np.array([w for _, _, w in rows]))


def fit(examples: list[Example], features: tuple[str, ...] = DECISION_FEATURES, l2: float = 1.0,
        refusal_cost: float = 3.0, hidden_weight: float = 0.5) -> LogisticModel:
    """Logistic regression over `features` of the `labelled` rows; the threshold with the most right
    outcomes, a false refusal counting `refusal_cost` times (train.py sets it on validation instead)."""
    x, y, sample = labelled(examples, hidden_weight)
    x = x[:, [FEATURES.index(f) for f in features]]
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    weights, bias = fit_logistic((x - mean) / scale, y, sample, l2)
    model = LogisticModel(tuple(features), tuple(mean), tuple(scale), tuple(weights), bias, 0.5,
                          tuple(sorted({e.document for e in examples})))
    threshold = choose_threshold(model, cases(examples, hidden_weight), refusal_cost)
    return dataclasses.replace(model, threshold=threshold)


def choose_threshold(model: LogisticModel, cases: list, refusal_cost: float) -> float:
    """The threshold with the most right outcomes: answered right, or refused with nothing to answer.
    Questions with and without an answer count equally in total; a false refusal costs `refusal_cost`."""
    probability = [float(model.probabilities(r)[0]) if r is not None else 0.0 for r, _, _ in cases]
    answerable = sum(w for _, o, w in cases if o != "none") or 1.0
    unanswerable = sum(w for _, o, w in cases if o == "none") or 1.0
    best_value, best_threshold = -np.inf, 0.5
    for threshold in np.linspace(0.02, 0.98, 97):
        value = 0.0
        for p, (_, outcome, w) in zip(probability, cases):
            if outcome == "none":
                value += w / unanswerable * (p < threshold)
            elif p >= threshold:
                value += w / answerable * (outcome == "right")
            elif outcome == "right":
                value -= refusal_cost * w / answerable
        if value > best_value:
            best_value, best_threshold = value, float(threshold)
    return round(best_threshold, 3)


# ---------------------------------------------------------------- the command

@dataclasses.dataclass
class FitDocument:
    """One document of the fit: its pipeline, the questions fitted on, the file it is scored on, and
    whether it is one of the suite's (the figures to report) or one of our own training documents."""
    pipeline: object
    questions: list[dict]
    scored: Path
    ours: bool = False


def load_suite(suite: Path, extra: list[Path], work: Path, embedder,
               train: Path | None = None) -> dict[str, FitDocument]:
    """The suite's documents, and `train`'s (our own). The extra question files join the shipped
    article's training questions, never its scored ones."""
    documents = [(doc, False) for doc in evaluate.discover(suite, DEFAULT_SOURCE)]
    if train is not None and train.is_dir():
        documents += [(doc, True) for doc in evaluate.discover(train)]
    out = {}
    for doc, ours in documents:
        if doc.name in out:
            raise ValueError(f"two documents of the fit are called {doc.name}")
        pipeline = Pipeline.load(evaluate.document_index(doc, work, embedder), embedder=embedder,
                                 model=placeholder_model())
        questions = evaluate.load_questions(doc.questions)
        if doc.article == DEFAULT_SOURCE:
            for path in extra:
                questions += evaluate.load_questions(path)
        out[doc.name] = FitDocument(pipeline, questions, doc.questions, ours)
    return out


def leave_one_out(suite: dict[str, FitDocument], examples: list[Example], **options) -> dict[str, dict]:
    """For each document: fit on every other document, answer the one left out with that model, score it."""
    rows = {}
    for name, document in suite.items():
        model = fit([e for e in examples if e.document != name], **options)
        held_out = Pipeline(document.pipeline.index, document.pipeline.embedder, model=model)
        asked = evaluate.load_questions(document.scored)
        answers, _ = evaluate.run(held_out, asked, K)
        rows[name] = evaluate.score(asked, answers)
        rows[name]["threshold"] = model.threshold
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[2]
    parser.add_argument("--suite", type=Path, default=root / "data" / "eval")
    parser.add_argument("--extra", type=Path, nargs="*",
                        default=[root / "tests" / "data" / "questions.jsonl",
                                 root / "tests" / "data" / "questions-independent.jsonl"],
                        help="more labelled questions on the shipped article (training only)")
    parser.add_argument("--train", type=Path, default=root / "tests" / "data" / "train-docs",
                        help="our own documents with questions: fitted on, and scored apart from the suite's")
    parser.add_argument("--work", type=Path, help="where the per-document indexes go (default: temporary)")
    parser.add_argument("--out", type=Path, help="write the fitted model here (the shipped one comes from "
                                                  "`make train`, which never reads the test documents)")
    parser.add_argument("--loo", action="store_true", help="also report leave-one-document-out scores")
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--refusal-cost", type=float, default=3.0)
    parser.add_argument("--features", default=",".join(DECISION_FEATURES),
                        help=f"comma-separated, from: {', '.join(FEATURES)}")
    parser.add_argument("--hidden-weight", type=float, default=0.5)
    args = parser.parse_args(argv)
    features = tuple(f.strip() for f in args.features.split(",") if f.strip())
    if set(features) - set(FEATURES):
        parser.error(f"unknown features: {', '.join(sorted(set(features) - set(FEATURES)))}")
    options = dict(features=features, l2=args.l2, refusal_cost=args.refusal_cost, hidden_weight=args.hidden_weight)
    embedder = create_embedder()
    with tempfile.TemporaryDirectory(prefix="rag-fit-") as tmp:
        work = args.work or Path(tmp)
        suite = load_suite(args.suite, args.extra, work, embedder, args.train)
        examples = [e for name, d in suite.items() for e in collect(d.pipeline, name, d.questions)]
        model = fit(examples, **options)
        if args.out is not None:
            args.out.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
            print(f"wrote {args.out}: threshold {model.threshold}, fitted on {', '.join(model.fitted_on)}",
                  file=sys.stderr)
        for f, w in sorted(zip(model.features, model.weights), key=lambda t: -abs(t[1])):
            print(f"  {f:<22}{w:+.3f}", file=sys.stderr)
        if args.loo:
            rows = leave_one_out(suite, examples, **options)
            print("leave-one-document-out (each row: fitted on all the other documents)")
            print(evaluate.format_suite({n: r for n, r in rows.items() if not suite[n].ours}))
            ours = {n: r for n, r in rows.items() if suite[n].ours}
            if ours:
                print("our own documents (tests/data/train-docs), the same way")
                print(evaluate.format_suite(ours))
    return 0


if __name__ == "__main__":
    sys.exit(main())
