"""The whole pipeline answering held-out documents, each in its own index, under a candidate decision:
what `rag.evaluation.train` chooses the threshold and the family on (validation) and reports (test).
Questions are asked again at every threshold and for every family, so vectors and verifier readings are
remembered rather than computed again."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from rag.answering.verifier import Verifier
from rag.evaluation import evaluate, fit
from rag.pipeline import Pipeline

# The threshold is set on the whole pipeline over validation, where a false refusal is any answerable
# question refused (right or not) and the rules refuse too: at most this share, on the mean over documents.
PIPELINE_MAX_FALSE_REFUSALS = 0.10
PIPELINE_THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.04, 0.42, 0.04))


class RememberingVerifier(Verifier):
    """The shipped verifier, remembering each pair's probability: the threshold scans ask every validation
    question again, at each threshold and for each family, and a pair's reading does not change. Given a
    folder (`remember_in`), it also keeps them on disk, in a file named after the verifier's own hash, so
    that a training run stopped halfway (about 80 minutes on 413 documents) picks up where it was."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[tuple[str, str], float] = {}
        self.store: Path | None = None

    def remember_in(self, folder: Path) -> Path:
        """Read the readings kept in `folder` for this verifier, and keep new ones there."""
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]
        self.store = Path(folder) / f"verifier-readings-{digest}.jsonl"
        if self.store.is_file():
            for line in self.store.read_text(encoding="utf-8").splitlines():
                try:
                    question, text, p = json.loads(line)
                except ValueError:  # the last line of a run stopped while writing it
                    continue
                self.seen[(question, text)] = p
        return self.store

    def probabilities(self, question: str, texts: list[str]) -> np.ndarray:
        new = list(dict.fromkeys(t for t in texts if (question, t) not in self.seen))
        readings = {(question, t): float(p) for t, p in zip(new, super().probabilities(question, new))}
        self.seen.update(readings)
        if self.store and readings:
            with self.store.open("a", encoding="utf-8") as out:
                out.write("".join(json.dumps([q, t, p]) + "\n" for (q, t), p in readings.items()))
        return np.array([self.seen[(question, t)] for t in texts])


class RememberingEmbedder:
    """An embedder that remembers each text's vector, for the same reason; everything else is the
    embedder's own."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self.seen: dict[str, np.ndarray] = {}

    def __getattr__(self, name: str):
        return getattr(self.embedder, name)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return self.embedder.embed(texts)
        new = list(dict.fromkeys(t for t in texts if t not in self.seen))
        if new:
            self.seen.update(zip(new, self.embedder.embed(new)))
        return np.array([self.seen[t] for t in texts])


VERIFIER = RememberingVerifier()


def served(model, doc: evaluate.SuiteDocument, work: Path, embedder) -> Pipeline:
    """The document's pipeline with `model`, reading the verifier only when `model` does (as served)."""
    return Pipeline.load(evaluate.document_index(doc, work, embedder), embedder=embedder, model=model,
                         verifier=VERIFIER if model.reads_verifier else False)


def scored(model, documents: list[evaluate.SuiteDocument], work: Path, embedder) -> dict[str, dict]:
    """Each document in its own index, answered by the whole pipeline with `model`, scored."""
    out = {}
    for doc in documents:
        pipeline = served(model, doc, work, embedder)
        questions = evaluate.load_questions(doc.questions)
        answers, _ = evaluate.run(pipeline, questions, fit.K)
        out[doc.name] = evaluate.score(questions, answers)
    return out


def pipeline_threshold(model, documents: list[evaluate.SuiteDocument], work: Path, embedder,
                       thresholds: tuple[float, ...] = PIPELINE_THRESHOLDS) -> tuple[float, dict]:
    """The threshold with the best mean accuracy plus refusals of unanswerable questions, answered by the
    whole pipeline on `documents` (validation), among those within PIPELINE_MAX_FALSE_REFUSALS, and the
    mean figures at each of `thresholds`; each document's pipeline is loaded once and asked again at
    every threshold."""
    runs = {t: {} for t in thresholds}
    for doc in documents:
        pipeline = served(model, doc, work, embedder)
        questions = evaluate.load_questions(doc.questions)
        for t in thresholds:
            pipeline.judge.threshold = t
            runs[t][doc.name] = evaluate.score(questions, evaluate.run(pipeline, questions, fit.K)[0])
    curve = {t: mean_row(rows) for t, rows in runs.items()}
    allowed = [t for t, r in curve.items() if r["false_refusal"] <= PIPELINE_MAX_FALSE_REFUSALS] or [min(curve)]
    return max(allowed, key=lambda t: pipeline_objective(curve[t])), curve


def pipeline_objective(mean: dict) -> float:
    """`objective` on the whole pipeline's mean figures, with its own cap on false refusals."""
    if mean["false_refusal"] > PIPELINE_MAX_FALSE_REFUSALS:
        return -mean["false_refusal"]
    return mean["answer_acc"] + mean["refusal_unanswerable"]


def mean_row(rows: dict[str, dict]) -> dict:
    """The mean over documents of each figure (None where no document has it)."""
    keys = ("recall@1", "recall@5", "answer_acc", "false_refusal", "refusal_unanswerable")
    out = {}
    for k in keys:
        values = [r[k] for r in rows.values() if r.get(k) is not None and not np.isnan(r[k])]
        out[k] = round(float(np.mean(values)), 3) if values else None
    return out


def type_rows(rows: dict[str, dict]) -> dict[str, dict]:
    """Per question type, the mean over the documents that have it."""
    types = sorted({t for r in rows.values() for t in r.get("by_type", {})})
    return {t: mean_row({d: r["by_type"][t] for d, r in rows.items() if t in r.get("by_type", {})}) for t in types}
