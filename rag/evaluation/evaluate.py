"""`rag eval`: how well the bot does on a question file, scored by the team's scorer (../shared/eval/score.py,
kept unchanged beside this module as shared_score.py, whose matching rules it uses).

Question file, one JSON object a line:
  {"id", "question", "answerable": bool, "answer_any": [str], "evidence": str, "evidence_all": [str]?, "type",
   "history": [str]?}
`history`: the questions asked just before, oldest first, for a follow-up ("and who designed it?"); a
document's follow-ups sit in `followups.jsonl` beside its `questions.jsonl` (`QuestionSet.FOLLOWUPS`).
Metrics (answerable questions unless said): recall@k (the evidence lies in one of the first k passages,
>= 60% of it as one contiguous run), MRR, answer accuracy (not refused and one of answer_any in the
answer), false refusals, and refusals on the unanswerable questions.
"""
from __future__ import annotations

import hashlib
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError
from rag.evaluation import shared_score
from rag.index.build import build_index
from rag.index.progress import TerminalProgress
from rag.types import Choice

KS = (1, 3, 5)


# The corpus split by document (data/corpus/README.md): what is fitted, what is chosen on, what is only scored.
ROOT = Path(__file__).resolve().parents[2]
TRAIN = (ROOT / "data" / "corpus" / "train", ROOT / "tests" / "data" / "train-docs")
VALIDATION = (ROOT / "data" / "corpus" / "validation",)
TEST = (ROOT / "data" / "corpus" / "test", ROOT / "data" / "eval")
# Training documents written since the decision was last fitted: verifier runs may read them (`--incoming`);
# `make train` does not until they move into train/, so the shipped decision stays reproducible.
INCOMING_TRAIN = (ROOT / "data" / "corpus" / "incoming" / "train",)


# Each field of a question line and the type it must have: a string where a list is meant would be
# matched a character at a time by the scorer and score a wrong answer as right.
FIELD_TYPES = {"question": (str, "text"), "answerable": (bool, "true or false"), "id": (str, "text"),
               "answer_any": (list, "a list of accepted answers"), "evidence": (str, "the text that answers it"),
               "evidence_all": (list, "a list of texts"), "type": (str, "a word such as fact"),
               "history": (list, "a list of earlier questions")}


def field_problem(q: dict) -> str | None:
    """What is wrong with one question line's fields, or None."""
    for name, (kind, meaning) in FIELD_TYPES.items():
        if name in q and not isinstance(q[name], kind):
            return f'"{name}" must be {meaning}, not {json.dumps(q[name])[:40]}'
    for name in ("answer_any", "evidence_all", "history"):
        if not all(isinstance(item, str) for item in q.get(name, [])):
            return f'every item of "{name}" must be text'
    if q["answerable"] and not q.get("answer_any"):
        return 'an answerable question needs "answer_any", the answers that count as right'
    return None


def load_questions(path: Path) -> list[dict]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"Cannot read {path}: {getattr(exc, 'strerror', None) or exc}.") from None
    questions = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
        except ValueError:
            raise RagError(f"{path} line {number} is not valid JSON.") from None
        if not isinstance(q, dict) or "question" not in q or "answerable" not in q:
            raise RagError(f"{path} line {number} needs at least \"question\" and \"answerable\".")
        problem = field_problem(q)
        if problem:
            raise RagError(f"{path} line {number}: {problem}.")
        q.setdefault("id", f"q{number}")
        q.setdefault("answer_any", [])
        q.setdefault("evidence", "")
        q.setdefault("type", "answerable" if q["answerable"] else "unanswerable")
        questions.append(q)
    if not questions:
        raise RagError(f"{path} holds no questions.")
    return questions


def score(questions: list[dict], answers: list[dict], ks=KS) -> dict:
    """The shared scorer's metrics, plus the same per question type."""
    if len(questions) != len(answers):
        raise RagError(f"{len(questions)} questions but {len(answers)} answers.")
    out = _metrics(questions, answers, ks)
    types = sorted({q["type"] for q in questions})
    out["by_type"] = {t: _metrics(*zip(*[(q, a) for q, a in zip(questions, answers) if q["type"] == t]), ks)
                      for t in types}
    return out


def _metrics(questions, answers, ks) -> dict:
    """The team's scorer's figures; of a group with no answerable question (the unanswerable types), which
    it cannot divide by, only the refusals."""
    if any(q["answerable"] for q in questions):
        return shared_score.score(list(questions), list(answers), ks)
    refused = [bool(a.get("refused")) for a in answers]
    out = {f"recall@{k}": None for k in ks} | {"mrr": None, "answer_acc": None, "false_refusal": None}
    out["refusal_unanswerable"] = round(sum(refused) / len(refused), 3)
    out["n"] = len(questions)
    out["wrong"] = [q["id"] for q, r in zip(questions, refused) if not r]
    return out


def run(pipeline, questions: list[dict], k: int = 5, retrieval: str = "hybrid") -> tuple[list[dict], list[float]]:
    """Answers (as JSON) and wall-clock latencies in ms, one per question, in order."""
    answers, latencies = [], []
    for q in questions:
        began = time.perf_counter()
        try:
            answers.append(pipeline.ask(q["question"], k, q.get("history"), retrieval=retrieval).to_json())
        except RagError as exc:  # scored as a refusal, and told: a question the bot cannot take is no answer
            print(f"warning: {q['id']} could not be asked, scored as refused: {exc}", file=sys.stderr)
            answers.append({"answer": "", "refused": True, "passages": [], "error": str(exc)})
        latencies.append((time.perf_counter() - began) * 1000)
    return answers, latencies


def latency_summary(latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(ordered), 1), "p95_ms": round(p95, 1)}


def report(questions: list[dict], results: dict[str, tuple[list[dict], list[float]]]) -> dict:
    """Metrics per system ("hybrid", and "bm25"/"dense" with --baselines)."""
    out = {}
    for name, (answers, latencies) in results.items():
        metrics = score(questions, answers)
        metrics["latency"] = latency_summary(latencies)
        metrics["wrong_answers"] = [
            {"id": q["id"], "question": q["question"], "answer": a.get("answer", ""), "refused": a.get("refused")}
            for q, a in zip(questions, answers) if q["id"] in metrics["wrong"]]
        out[name] = metrics
    return out


# The scorer's metric and its column heading, in the order both tables print them.
COLUMNS = {"recall@1": "r@1", "recall@3": "r@3", "recall@5": "r@5", "mrr": "MRR", "answer_acc": "acc",
           "false_refusal": "false-ref", "refusal_unanswerable": "ref-unans"}


def table_header(label_width: int, width: int) -> str:
    return f"{'':<{label_width}}" + "".join(f"{c:>{width}}" for c in [*COLUMNS.values(), "n"])


def table_row(label: str, metrics: dict, label_width: int, width: int) -> str:
    cells = "".join(f"{'-' if metrics.get(c) is None else format(metrics[c], '.3f'):>{width}}" for c in COLUMNS)
    return f"{label:<{label_width}}{cells}{metrics['n']:>{width}}"


def format_table(result: dict) -> str:
    """A block per question file: latency, all questions, each type, then the wrong answers."""
    lines = []
    for name, metrics in result.items():
        lines.append(f"== {name} ==  latency median {metrics['latency']['median_ms']} ms, "
                     f"p95 {metrics['latency']['p95_ms']} ms")
        lines.append(table_header(22, 12))
        rows = [("all", metrics)] + [(f"  {t}", m) for t, m in metrics["by_type"].items()]
        lines += [table_row(label, m, 22, 12) for label, m in rows]
        if metrics["wrong_answers"]:
            lines.append("wrong:")
            for w in metrics["wrong_answers"]:
                said = "(refused) " if w["refused"] else ""
                lines.append(f"  {w['id']}: {w['question']}\n      -> {said}{w['answer'][:160]}")
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------- a suite of documents

def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass(frozen=True)
class SuiteDocument:
    """One document of an evaluation suite and the questions written on it."""
    name: str
    article: Path
    questions: Path

    @property
    def followups(self) -> Path:
        """Its follow-ups, beside its questions (they may not exist)."""
        return self.questions.with_name(QuestionSet.FOLLOWUPS.file)

    def hashes(self, followups: bool) -> dict[str, str]:
        """The sha256 of each of its files a training read, for the model card."""
        files = {"article": self.article, "questions": self.questions}
        if followups and self.followups.exists():
            files["followups"] = self.followups
        return {kind: file_hash(path) for kind, path in files.items()}


class QuestionSet(Choice):
    """Which questions of a suite's documents: the questions asked on their own, or the follow-ups."""
    QUESTIONS = "questions"
    FOLLOWUPS = "followups"

    @property
    def file(self) -> str:
        return f"{self.value}.jsonl"

    @property
    def dev_file(self) -> str:
        """The shipped article's, beside the suite's folders: dev.jsonl, dev-followups.jsonl."""
        return "dev.jsonl" if self is QuestionSet.QUESTIONS else f"dev-{self.value}.jsonl"


def discover(suite: Path, dev_article: Path | None = None,
             questions: QuestionSet = QuestionSet.QUESTIONS) -> list[SuiteDocument]:
    """Every folder under `suite` holding `article.txt` and the question set's file (`questions.jsonl`), and
    the set's dev file (`suite/dev.jsonl`) paired with `dev_article` (the shipped article), in a stable order."""
    suite = Path(suite)
    if not suite.is_dir():
        raise RagError(f"No evaluation suite folder at {suite}.")
    docs = []
    if dev_article is not None and (suite / questions.dev_file).exists():
        docs.append(SuiteDocument(dev_article.stem, dev_article, suite / questions.dev_file))
    for found in sorted(suite.rglob(questions.file)):
        article = found.parent / "article.txt"
        if article.exists():
            docs.append(SuiteDocument(found.parent.name, article, found))
    if not docs:
        raise RagError(f"{suite} holds no folder with article.txt and {questions.file}.")
    return docs


def document_index(doc: SuiteDocument, work: Path, embedder) -> Path:
    """The document's own index under `work`, built or updated incrementally (a rerun embeds nothing)."""
    index_dir = Path(work) / doc.name
    build_index(doc.article, index_dir, embedder, progress=TerminalProgress())
    return index_dir


def format_suite(rows: dict[str, dict]) -> str:
    """One table: a block per document (all questions, then each type), and the mean over documents."""
    lines = [table_header(28, 10)]
    for name, metrics in rows.items():
        lines.append(table_row(name, metrics, 28, 10))
        lines += [table_row(f"  {t}", m, 28, 10) for t, m in metrics.get("by_type", {}).items()]
    if len(rows) > 1:
        mean = {c: round(statistics.mean(m[c] for m in rows.values() if m.get(c) is not None), 3)
                for c in COLUMNS}
        mean["n"] = sum(m["n"] for m in rows.values())
        lines.append(table_row("mean over documents", mean, 28, 10))
    return "\n".join(lines)
