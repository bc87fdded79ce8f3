"""The default answerer: quote the 1-3 sentences of the top passages that best answer the question.

Each candidate sentence is scored on its meaning (sentence embedding), the
question's key terms it contains (IDF-weighted), the rank of its passage, and
whether it holds what the question asks for (a quantity for "how many", a date
for "when", a name for "who"). Hard checks decide a refusal: names or years of
the question that the evidence lacks, or no sentence of the right kind.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from rag.answer import Passage, Reply
from rag.document import Sentence
from rag.question import (Question, analyse, has_date, has_day, has_new_name, quantities, years_covered,
                          years_in)
from rag.terms import terms

NOT_IN_ARTICLE = "The article does not say."
MAX_SENTENCES = 3
MAX_CHARS = 600
MIN_SENTENCE_WORDS = 5  # scrape fragments such as "In 1921," or a bare title are not answers
# Weights of the sentence score and the refusal threshold, set by hand on our own questions
# (tests/data/*.jsonl) plus the dev set; `rag eval` shows the effect of a change.
W_DENSE, W_TERMS, W_RANK, W_KIND = 0.55, 0.30, 0.05, 0.10
W_YEAR = 0.05  # the sentence itself names the question's year
W_UNFINISHED = 0.05  # captions and scrape fragments end without punctuation: rarely the answer
W_CONTEXT = 0.3  # share of the passage's similarity in a sentence's: a sentence is read in context
MIN_SCORE = 0.30
KEEP_RATIO = 0.85  # extra sentences must score at least this share of the best one
CONTINUE_RATIO = 0.5  # a sentence continuing the best one (a pronoun early on) needs less
CONTINUES = re.compile(r"^(?:\S+\s+){0,3}(?:he|she|they|him|her|them|his|their|this|these|that|it)\b", re.I)


@dataclass
class Candidate:
    passage: Passage
    sentence: Sentence
    score: float
    dense: float
    coverage: float
    kind_ok: bool


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, idf: Callable[[str], float], known: Callable[[str], bool],
                 names: frozenset[str] = frozenset()) -> None:
        self.idf = idf  # document statistics from the keyword index
        self.known = known
        self.names = names  # the document's proper names (question.document_names)

    # -- the Answerer interface

    def reply(self, question: str, passages: list[Passage], query_vector: np.ndarray,
              context: str = "") -> Reply:
        evidence = self.evidence(question, passages, query_vector, context)
        if isinstance(evidence, Reply):
            return evidence
        chosen = compose(evidence)
        text = " ".join(f"{c.sentence.text} [{c.passage.n}]" for c in chosen)
        return Reply(text, quoted=[(c.passage.n, c.sentence) for c in chosen])

    def evidence(self, question: str, passages: list[Passage], query_vector: np.ndarray,
                 context: str = "") -> list[Candidate] | Reply:
        """The eligible sentences, best first, or a refusal when the passages do not support an answer.
        The pipeline asks this of generative answerers too, before spending a model call."""
        q = analyse(question, context)
        missing = [name for name in q.names if not self.known(terms(name)[0] if terms(name) else name)]
        if missing:
            return refusal(f"it never mentions {', '.join(as_written(name, question) for name in missing)}")
        candidates = self.candidates(q, passages, query_vector)
        eligible = [c for c in candidates if self.eligible(q, c)]
        if not eligible or eligible[0].score < MIN_SCORE:
            return refusal()
        return eligible

    def stream(self, question: str, passages: list[Passage], query_vector: np.ndarray,
               context: str = "") -> Iterator[str | Reply]:
        reply = self.reply(question, passages, query_vector, context)
        for word in reply.text.split(" "):
            yield word + " "
        yield reply

    # -- scoring

    def candidates(self, q: Question, passages: list[Passage], query_vector: np.ndarray) -> list[Candidate]:
        weights = {t: 0.5 * self.idf(t) for t in set(q.context_terms)}
        weights.update({t: self.idf(t) for t in set(q.terms)})
        total = sum(weights.values()) or 1.0
        seen: set[tuple[str, int]] = set()
        out = []
        for p in passages:
            dense = p.sentence_vectors @ query_vector if p.sentence_vectors is not None else np.zeros(len(p.sentences))
            section_terms = set(terms(p.section))
            for s, d in zip(p.sentences, dense):
                if (p.source, s.start) in seen or len(s.text.split()) < MIN_SENTENCE_WORDS:
                    continue  # overlapping passages share sentences: cite the better-ranked one
                seen.add((p.source, s.start))
                present = set(terms(s.text)) | section_terms
                coverage = sum(w for t, w in weights.items() if t in present) / total
                kind_ok = kind_matches(q, s.text, self.names)
                meaning = (1 - W_CONTEXT) * float(d) + W_CONTEXT * p.relevance
                score = (W_DENSE * meaning + W_TERMS * coverage + W_RANK / p.n + W_KIND * kind_ok
                         + W_YEAR * bool(q.years and years_covered(q.years, years_in(s.text)))
                         - W_UNFINISHED * (s.text[-1] not in ".!?\"'”’)"))
                out.append(Candidate(p, s, score, float(d), coverage, kind_ok))
        return sorted(out, key=lambda c: -c.score)

    @staticmethod
    def eligible(q: Question, c: Candidate) -> bool:
        """Hard checks: the question's years are in the sentence's section; a count has a quantity."""
        if q.years and not years_covered(q.years, c.passage.section_years | years_in(c.sentence.text)):
            return False
        if q.kind in ("count", "year", "date") and not c.kind_ok:
            return False  # "how many", "what year", "which day": an answer without one is no answer
        return True


def kind_matches(q: Question, sentence: str, names: frozenset[str]) -> bool:
    if q.kind == "count":
        return bool(quantities(sentence) - q.numbers - set(q.years))
    if q.kind == "year":
        return bool(years_in(sentence) - set(q.years))
    if q.kind == "date":
        return has_day(sentence)
    if q.kind == "when":
        return has_date(sentence)
    if q.kind in ("who", "where"):
        return has_new_name(sentence, q, names)
    return False


def compose(ranked: list[Candidate]) -> list[Candidate]:
    """The best sentence plus close runners-up and a sentence that continues it, without
    near-duplicates, in reading order."""
    best = ranked[0]
    chosen = [best]

    def fits(c: Candidate) -> bool:
        return (len(chosen) < MAX_SENTENCES and c not in chosen
                and sum(len(x.sentence.text) for x in chosen) + len(c.sentence.text) <= MAX_CHARS
                and not any(_similar(c.sentence.text, x.sentence.text) for x in chosen))

    for c in ranked[1:]:
        if c.score < KEEP_RATIO * best.score:
            break
        if fits(c):
            chosen.append(c)
    # "In late 1949, Mao went to Moscow. Stalin kept him waiting...": the next sentence that refers
    # back to the best one completes it.
    following = _next_sentence(best, ranked)
    if following is not None and following.score >= CONTINUE_RATIO * best.score \
            and CONTINUES.match(following.sentence.text) and fits(following):
        chosen.append(following)
    return sorted(chosen, key=lambda c: (c.passage.source, c.sentence.start))


def _next_sentence(c: Candidate, ranked: list[Candidate]) -> Candidate | None:
    sentences = c.passage.sentences
    position = next((i for i, s in enumerate(sentences) if s.start == c.sentence.start), None)
    if position is None or position + 1 >= len(sentences):
        return None
    after = sentences[position + 1]
    return next((x for x in ranked if x.passage is c.passage and x.sentence.start == after.start), None)


def _similar(a: str, b: str) -> bool:
    ta, tb = set(terms(a)), set(terms(b))
    return bool(ta and tb) and len(ta & tb) / len(ta | tb) > 0.6


def as_written(word: str, text: str) -> str:
    found = re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE)
    return found.group() if found else word


def refusal(reason: str | None = None) -> Reply:
    text = NOT_IN_ARTICLE if not reason else f"The article does not say: {reason}."
    return Reply(text + " The closest passages are shown for you to check.", refused=True)
