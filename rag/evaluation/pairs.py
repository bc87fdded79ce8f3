"""The verifier's training pairs: each question of a set of documents, asked of its own index as served,
with every candidate sentence the served ranking gives it, labelled by whether it is gold evidence, and the
"slot-missing" negatives made from the gold sentences (the answer cut out). `rag.evaluation.train_verifier`
trains on them and measures on them.

Each document's pairs are kept on disk in the work folder (JSON, keyed by the document's files, the options,
the embedder and its weights, and the package's code), so a run that is stopped and started again gathers nothing twice.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rag.answering.verifier import asked_text, pair_text
from rag.evaluation import evaluate, fit, shared_score
from rag.evaluation.evaluate import file_hash
from rag.pipeline import Pipeline
from rag.text.terms import terms

CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+|\s+(?=(?:and|but|while|whereas|which|because)\b)")
# An answer introduced by a preposition, with an article or an "about" between them.
INTRODUCED = (r"\s*\b(?:in|on|at|by|for|from|to|since|until|during|of|about|around|after|before|with)\s+"
              r"(?:(?:the|a|an|about|around|some|nearly|almost|over|under)\s+)*{}(?!\w)")
MIN_LEFT_WORDS = 4  # of a sentence with its answer taken out: less is no sentence a document would hold


def answer_removed(sentence: str, answers: list[str]) -> str | None:
    """The sentence without its answer: still about what is asked, no longer saying it, as the commonest
    unanswerable question finds the document ("slot-missing": the subject is there, the asked detail is
    not). The answer goes with the preposition that introduces it ("installed in 1998 by Olek Varga" ->
    "installed by Olek Varga"), else the clause that holds it goes; None when neither leaves a sentence."""
    asked = [a for a in answers if a.strip()]
    for answer in asked:
        phrase = re.compile(INTRODUCED.format(re.escape(answer).replace(r"\ ", r"\s+")), re.I)
        text = re.sub(r"\s+([,;:.])", r"\1", phrase.sub("", sentence, count=1))
        if text != sentence:
            return tidy(text, asked)
    clauses = CLAUSE_BREAK.split(sentence)
    kept = [c for c in clauses if not any(shared_score.norm(a) in shared_score.norm(c) for a in asked)]
    return tidy(" ".join(kept), asked) if len(kept) < len(clauses) else None


def tidy(text: str, answers: list[str]) -> str | None:
    """A sentence again: no leading conjunction, a capital and a full stop; None when an answer is still
    there or fewer than `MIN_LEFT_WORDS` words are."""
    text = re.sub(r"^(?:and|but|while|whereas|which|because)\s+", "", text.strip(" ,;:-"), flags=re.I)
    if len(text.split()) < MIN_LEFT_WORDS or any(shared_score.norm(a) in shared_score.norm(text) for a in answers):
        return None
    return text[0].upper() + text[1:].rstrip(".") + "."


def slot_missing_pairs(question: dict, candidates) -> list[tuple[str, str]]:
    """Hard negatives made from a question's gold sentences with the answer taken out, kept when what is
    left still shares a content word with the question (a near neighbour, not an unrelated sentence)."""
    asked = set(terms(question["question"]))
    out = []
    for c in candidates:
        if fit.is_gold(c.sentence.text, question):
            left = answer_removed(c.sentence.text, question["answer_any"])
            if left and asked & set(terms(left)):
                out.append((question["question"], pair_text(c.passage.section, left)))
    return out


@dataclass(frozen=True)
class Gathered:
    """The labelled pairs of a set of documents: `question` numbers each pair's question (for figures
    per question), `rank` is the candidate's place in its question's ranking (the served verifier reads
    the first `VERIFIED`), `trap` marks the pairs of unanswerable questions (near misses made from
    answerable ones among them), `hard` holds the slot-missing negatives made from the answerable ones;
    `near_misses` and `followups` count the questions of those kinds."""
    pairs: list[tuple[str, str]]
    labels: list[int]
    question: list[int]
    rank: list[int]
    trap: list[bool]
    hard: list[tuple[str, str]]
    near_misses: int = 0
    followups: int = 0
    questions: int = 0  # asked, numbered from 0 in `question` (one may have no candidate)


def gather(documents, work: Path, embedder, near_misses: bool = False, followups: bool = False,
           own_questions: bool = True) -> Gathered:
    """(question, candidate text) pairs and their labels, over every question of `documents`. With
    `followups`, the follow-ups written on them too, read as served (`asked_text`); without
    `own_questions`, the follow-ups alone (to measure them apart: what sharpens one set can blunt the
    other, bench probe 14). With `near_misses`, each answerable question's near misses (a name or a year
    swapped for another of the document its evidence lacks, `fit.near_misses`, as the decision is trained
    on) as unanswerable questions: they share almost every word with the evidence, the traps the verifier
    scored like answers.

    Each document's pairs are kept in `work/gathered/`, under a key of its files, these options, the
    embedder (its name, weights' hash and precision) and the code of the `rag` package: a run stopped and
    started again, or one with a document more, gathers only what it has not (all of it took 30 to 40
    minutes on 1,040 documents and the 56 of validation, twice)."""
    options = {"near_misses": near_misses, "followups": followups, "own_questions": own_questions,
               "embedder": embedder.name, "code": code_digest(),
               # its weights' hash and precision, as the index manifest records them: another export or
               # another release of the weights under the same name reads the documents differently
               "embedding": embedder.describe() if hasattr(embedder, "describe") else {}}
    parts = []
    for doc in documents:
        kept = Path(work) / "gathered" / f"{doc.name}-{document_key(doc, options)[:16]}.json"
        remembered = read_gathered(kept)
        if remembered is not None:
            parts.append(remembered)
            continue
        parts.append(gather_document(doc, work, embedder, near_misses, followups, own_questions))
        write_gathered(parts[-1], kept)
        print(f"  gathered {doc.name}", file=sys.stderr, flush=True)
    return joined(parts)


def gather_document(doc, work: Path, embedder, near_misses: bool, followups: bool,
                    own_questions: bool) -> Gathered:
    """`gather` on one document, its questions numbered from 0."""
    pairs, labels, question, rank, trap, hard = [], [], [], [], [], []
    asked = made = followed = 0

    def add(text: str, candidates, q: dict, answerable: bool) -> None:
        nonlocal asked
        for place, c in enumerate(candidates):
            pairs.append((text, pair_text(c.passage.section, c.sentence.text)))
            labels.append(int(answerable and fit.is_gold(c.sentence.text, q)))
            question.append(asked)
            rank.append(place)
            trap.append(not answerable)
        asked += 1

    pipeline = Pipeline.load(evaluate.document_index(doc, work, embedder), embedder=embedder,
                             model=fit.placeholder_model(), verifier=False)
    asked_here = evaluate.load_questions(doc.questions) if own_questions else []
    if followups and doc.followups.exists():
        asked_here += evaluate.load_questions(doc.followups)
    for q in asked_here:
        query = pipeline.analyse(q["question"], q.get("history"))
        candidates = pipeline.judge.candidates(query, pipeline.search(query, fit.K))
        add(asked_text(query.text, query.context), candidates, q, q["answerable"])
        followed += bool(q.get("history"))
        if not q["answerable"]:
            continue
        hard += slot_missing_pairs(q, candidates)
        for variant in fit.near_misses(q, pipeline.judge.stats) if near_misses else []:
            variant_query = pipeline.analyse(variant, q.get("history"))
            variant_candidates = pipeline.judge.candidates(variant_query, pipeline.search(variant_query, fit.K))
            add(asked_text(variant_query.text, variant_query.context), variant_candidates, q, False)
            made += 1
    return Gathered(pairs, labels, question, rank, trap, hard, made, followed, asked)


@functools.cache
def code_digest() -> str:
    """The hash of the `rag` package's source: gathered pairs kept under another are gathered again."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def document_key(doc, options: dict) -> str:
    """What a document's gathered pairs depend on: its files as they are now, and `options`."""
    files = [doc.article, doc.questions] + ([doc.followups] if options["followups"] and doc.followups.exists() else [])
    return hashlib.sha256(json.dumps([options, [file_hash(f) for f in files]]).encode()).hexdigest()


def write_gathered(data: Gathered, path: Path) -> None:
    """As JSON, whole or not at all: written to a file of its own beside it, then put in its place, so a
    run stopped while writing (or a second run writing the same) leaves no half file to be read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".partial")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(json.dumps(dataclasses.asdict(data)))
    os.replace(partial, path)


def read_gathered(path: Path) -> Gathered | None:
    """The pairs kept at `path`; None when there are none, or the file cannot be read as such (it is then
    gathered again and written over)."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        return Gathered(**kept | {"pairs": [tuple(p) for p in kept["pairs"]],
                                  "hard": [tuple(p) for p in kept["hard"]]})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def joined(parts: list[Gathered]) -> Gathered:
    """The documents' pairs one after another, their questions numbered on."""
    question, before = [], 0
    for part in parts:
        question += [before + q for q in part.question]
        before += part.questions
    return Gathered([p for part in parts for p in part.pairs], [y for part in parts for y in part.labels], question,
                    [r for part in parts for r in part.rank], [t for part in parts for t in part.trap],
                    [h for part in parts for h in part.hard], sum(p.near_misses for p in parts),
                    sum(p.followups for p in parts), before)
