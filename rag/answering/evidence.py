"""The one answerability decision: which sentences of the retrieved passages support an answer, or why
none does. Every answerer asks this before it answers; no other module decides a refusal.

Two steps. First every sentence of the passages is described by signals that mean the same on any
document (its meaning next to the question's, how much of the question it and its passage cover,
whether the question's names and rarest words are there, soft matches for the words that are not,
whether it holds the kind of answer asked for, whether it says the opposite of what is asked) and
ranked by a weighted sum of the first few (`RankWeights`). Then the best sentence's signals go to a
logistic model, fitted on labelled questions by `rag.fit` and shipped as plain numbers in
`answerability.json`: the probability that the question is answered by it. Below the threshold the
decision is a refusal.
"""
from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from rag.answer import Passage
from rag.answering import lexicon
from rag.answering.query import (NAME_RUN, QUANTITY, Query, document_names, has_date, has_day, has_new_name, quantities,
                                 years_covered, years_in)
from rag.ingest.document import Sentence
from rag.terms import STOPWORDS, normalize, stem, terms, words

if TYPE_CHECKING:
    from rag.answering.bridge import Bridge

MODEL_FILE = Path(__file__).with_name("answerability.json")
NOT_ENGLISH = "not English"  # the reason for a question in another language: the model reads English only
MIN_SENTENCE_WORDS = 4  # scrape fragments such as "In 1921," or a bare title are not answers
TYPED_KINDS = ("count", "year", "date", "when", "who", "where")
OPPOSITE = {a: b for a, b in lexicon.OPPOSITES} | {b: a for a, b in lexicon.OPPOSITES}

# The signals of a sentence. The decision reads them from the best-ranked sentence, plus "score" (its
# ranking score), "eligible" (it passes the typed checks), "gap" (its lead over the next sentence) and
# "dense_lead" (its cosine above the mean of all candidates: similarity relative to this document).
SIGNALS = (
    "dense",            # cosine of the sentence and the question
    "passage_dense",    # cosine of the sentence's passage and the question
    "rank",             # 1 / the passage's rank
    "cover",            # IDF-weighted share of the question's terms in the sentence (and its section title)
    "cover_passage",    # the same over the whole passage
    "missing_rare",     # the rarest question term the document knows but the sentence lacks (its IDF, 0-1)
    "missing_rare_passage",  # the same for the passage
    "unknown",          # share of the question's terms the document never uses
    "names",            # share of the question's names in the sentence (1 when it names none)
    "names_passage",    # the same for the passage
    "names_unknown",    # share of the question's names the document never mentions, aliases allowed
    "kind_missing",     # a typed question (a year, a count, a person...) and the sentence holds none
    "kind_ok",          # the sentence holds the kind of answer asked for
    "causal",           # a why/how question and the sentence gives a cause or a mechanism
    "novelty",          # share of the sentence's terms the question does not already contain
    "year_missing",     # the question's year is neither in the sentence nor in its section
    "opposite",         # the sentence has the opposite of a question word (lowest for highest) and not it
    "unfinished",       # no closing punctuation: a caption or a fragment
    "soft_weakest",     # the question word worst matched by the sentence: 1 if present, else its best cosine
    "soft_cover",       # IDF-weighted mean of those matches
    "soft_weakest_passage",  # the worst-matched question word over the passage
    "counts_asked",     # "how many sailors": how well the words after the sentence's numbers match "sailors"
)
FEATURES = SIGNALS + ("score", "eligible", "gap", "dense_lead")
# What the shipped model reads: every signal. Left out in turn (`python -m rag.fit --loo`), a
# five-signal model refused fewer unanswerable questions (0.57 against 0.77) for slightly fewer false
# refusals (0.07 against 0.11): bench/results.md has both.
DECISION_FEATURES = FEATURES


@dataclass(frozen=True)
class RankWeights:
    """How sentences are ranked: a weighted sum of a few signals. Set by hand on the Sino-Soviet questions
    (dev set and tests/data); the refusal, not the ranking, is what `fit` learns."""
    dense: float = 0.55  # meaning: the sentence's cosine, read in its passage's context
    context: float = 0.3  # share of the passage's cosine in that meaning
    cover: float = 0.15
    soft_cover: float = 0.15  # paraphrases: question words matched by meaning, not spelling
    rank: float = 0.05
    kind: float = 0.10
    year: float = 0.05  # the sentence itself names the question's year
    unfinished: float = 0.05

    def score(self, f: dict[str, float], year_in_sentence: bool) -> float:
        meaning = (1 - self.context) * f["dense"] + self.context * f["passage_dense"]
        return (self.dense * meaning + self.cover * f["cover"] + self.soft_cover * f["soft_cover"]
                + self.rank * f["rank"] + self.kind * f["kind_ok"]
                + self.year * year_in_sentence - self.unfinished * f["unfinished"])


@dataclass
class Candidate:
    passage: Passage
    sentence: Sentence
    signals: dict[str, float]
    score: float = 0.0  # the ranking score
    eligible: bool = True  # holds the kind of answer a typed question needs, its year, the birth or death asked


@dataclass
class Evidence:
    """The decision: the supporting sentences (best first), or a refusal and its reason."""
    supported: list[Candidate]
    candidates: list[Candidate] = field(default_factory=list)  # every sentence scored, best first
    confidence: float = 0.0  # the model's probability that the best sentence answers the question
    reason: str | None = None  # why it was refused, when one reason stands out
    passages: list[Passage] = field(default_factory=list)  # reordered by their best sentence, renumbered
    chain: list[Candidate] = field(default_factory=list)  # quoted with the answer, which rests on them (a bridge)

    @property
    def refused(self) -> bool:
        return not self.supported


@dataclass(frozen=True)
class AnswerabilityModel:
    """Logistic weights over standardised `features` (a subset of FEATURES) of the best sentence, and the
    refusal threshold."""
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    fitted_on: tuple[str, ...] = ()

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """`rows`: full decision rows (one per question, columns in FEATURES order)."""
        columns = [FEATURES.index(f) for f in self.features]
        z = (np.atleast_2d(rows)[:, columns] - np.asarray(self.mean)) / np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.weights) + self.bias)))

    def to_json(self) -> dict:
        return {"features": list(self.features), "mean": [round(x, 6) for x in self.mean],
                "scale": [round(x, 6) for x in self.scale], "weights": [round(x, 6) for x in self.weights],
                "bias": round(self.bias, 6), "threshold": self.threshold, "fitted_on": list(self.fitted_on)}

    @classmethod
    def from_json(cls, data: dict) -> AnswerabilityModel:
        model = cls(tuple(data["features"]), tuple(data["mean"]), tuple(data["scale"]), tuple(data["weights"]),
                    float(data["bias"]), float(data["threshold"]), tuple(data.get("fitted_on", ())))
        unknown = set(model.features) - set(FEATURES)
        if unknown or not (len(model.features) == len(model.mean) == len(model.scale) == len(model.weights)):
            raise ValueError(f"the model does not fit this code (features {sorted(unknown)} unknown): refit it")
        return model

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> AnswerabilityModel:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def decision_row(candidates: list[Candidate]) -> np.ndarray:
    """The model's input: the best sentence's signals, its score, eligibility and leads."""
    best = candidates[0]
    gap = best.score - candidates[1].score if len(candidates) > 1 else best.score
    lead = best.signals["dense"] - float(np.mean([c.signals["dense"] for c in candidates]))
    return np.array([best.signals[f] for f in SIGNALS] + [best.score, float(best.eligible), gap, lead])


@dataclass
class DocumentStats:
    """What the decision needs to know of the whole document, computed once per index."""
    idf: object  # term -> inverse document frequency (the keyword index's)
    knows: object  # term -> whether the document uses it
    names: frozenset[str]  # words the document writes capitalised: its names
    initialisms: dict[str, set[str]]  # "un" -> {"unit", "nation"}: initials of capitalised runs
    sentence_vectors: np.ndarray  # by sentence row
    section_years: dict[tuple[str, str], set[str]]
    max_idf: float
    word_rows: dict[str, int]  # the document's vocabulary -> row of word_vectors
    word_vectors: np.ndarray
    _text_vectors: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def has_word(self, word: str) -> bool:
        return word in self.word_rows

    def word_vector(self, word: str) -> np.ndarray:
        return self.word_vectors[self.word_rows[word]]

    def text_word_vectors(self, text: str) -> np.ndarray:
        """The vectors of a text's words (cached: the same sentences come back question after question)."""
        vectors = self._text_vectors.get(text)
        if vectors is None:
            rows = sorted({self.word_rows[w] for w in words(text) if w in self.word_rows})
            vectors = self._text_vectors[text] = self.word_vectors[rows]
        return vectors

    @classmethod
    def from_index(cls, index) -> DocumentStats:
        section_years: dict[tuple[str, str], set[str]] = {}
        for chunk in index.chunks:
            section_years.setdefault((chunk.source, chunk.section), set()).update(years_in(chunk.text))
        texts = [chunk.text for chunk in index.chunks]
        keyword = index.keyword
        max_idf = float(np.log(1 + (keyword.num_docs + 0.5) / 0.5))
        return cls(keyword.idf, keyword.knows, document_names(texts), initialisms(texts),
                   index.sentence_vectors, section_years, max_idf,
                   {w: i for i, w in enumerate(index.words)}, index.word_vectors)


def initialisms(texts) -> dict[str, set[str]]:
    """Initials of runs of capitalised words and of their parts ("the United Nations" -> "un"; "Royal Tea
    Board of Ruritania" -> "rtb", "rtbr", ...), to accept "UN" in a question where the text spells it out."""
    out: dict[str, set[str]] = {}
    for text in texts:
        for run in re.findall(r"(?:\b[A-Z][\w'-]+(?:\s+(?:of|the|and|for)\s+|\s+)){1,5}[A-Z][\w'-]+", text):
            parts = [p for p in run.split() if p[:1].isupper() and p.lower() not in lexicon.TITLES]
            for i in range(len(parts)):
                for j in range(i + 2, min(len(parts), i + 6) + 1):
                    key = "".join(p[0] for p in parts[i:j]).lower()
                    out.setdefault(key, set()).update(terms(" ".join(parts[i:j])))
    return out


class EvidenceJudge:
    """Ranks the sentences and decides. `threshold` overrides the fitted one."""

    def __init__(self, stats: DocumentStats, model: AnswerabilityModel | None = None,
                 threshold: float | None = None, weights: RankWeights = RankWeights(), rerank: bool = True) -> None:
        self.stats = stats
        self.model = model or AnswerabilityModel.load()
        self.threshold = self.model.threshold if threshold is None else threshold
        self.weights = weights
        self.rerank = rerank

    def decide(self, query: Query, passages: list[Passage]) -> Evidence:
        """The decision, with the passages put in the order of their best sentences (renumbered), so the
        passage that holds the answer comes first."""
        if not query.english:
            return Evidence([], reason=NOT_ENGLISH, passages=passages)
        candidates = self.candidates(query, passages)
        if not candidates:
            return Evidence([], candidates, reason="no passage holds a full sentence", passages=passages)
        passages = rerank(passages, candidates) if self.rerank else passages
        confidence = float(self.model.probabilities(decision_row(candidates))[0])
        missing = self.unknown_names(query)
        if missing:  # "the Amazon rainforest" in a document that never names it
            written_names = ", ".join(as_written(n, f"{query.text} {query.context}") for n in missing)
            return Evidence([], candidates, confidence, reason=f"it never mentions {written_names}",
                            passages=passages)
        if confidence < self.threshold:
            return Evidence([], candidates, confidence, passages=passages)
        similarity = self.word_similarity(query)
        contrastable = may_contrast(query.text)  # most questions ask for no extreme, opposite or sibling
        misses = [contrast(query.text, c.sentence.text, similarity) if contrastable else None for c in candidates]
        rest = [c for c, miss in zip(candidates, misses) if miss is None]
        supported = [c for c in rest if c.eligible]  # a near miss supports nothing
        near_miss = next((miss for c, miss in zip(candidates, misses) if c.eligible), None)
        if near_miss:  # the closest sentence gives the lowest where the highest is asked: only a sentence
            asked = set(terms(near_miss[0]))  # that names the highest can answer, and the model decides again
            rest = [c for c in rest if asked <= set(terms(c.sentence.text))]
            supported = [c for c in rest if c.eligible]
            confidence = float(self.model.probabilities(decision_row(rest))[0]) if rest else 0.0
            if not supported or confidence < self.threshold:
                asked, given = near_miss
                return Evidence([], candidates, confidence, reason=f"it gives “{given}”, not “{asked}”",
                                passages=passages)
        return Evidence(supported, candidates, confidence, passages=passages)

    def two_step(self, query: Query, first: Evidence, bridge: Bridge, rest: str,
                 ask_second: Callable[[], Evidence]) -> Evidence:
        """The decision for a question that names its subject by a description, given the name the
        description fits (`bridge`, from `rag.answering.bridge`), the rest of the question (`rest`) and a
        way to ask that rest about the name. The answer quotes the bridge sentence beside its own:
        - the first evidence, when its best sentence already names the bridge (and is not the bridge
          sentence itself);
        - else the second question's, when it is supported by another sentence that names the bridge;
        - else a refusal, when the first answer is only the bridge sentence and it holds nothing of the
          rest of the question (it says who is meant, not what is asked of them);
        - else the first evidence as it is."""
        link = bridge.candidate
        first_best = None if first.refused else first.supported[0]
        first_is_link = first_best is not None and same_sentence(first_best, link)
        if first_best is not None and not first_is_link and bridge.named_in(first_best.sentence.text):
            return with_bridge(first, link)
        second = ask_second()
        answer = None if second.refused else second.supported[0]
        if answer is not None and not same_sentence(answer, link) and bridge.named_in(answer.sentence.text):
            return with_bridge(second, link)
        if first_is_link and answer is None and not self.speaks_to(query, rest, first_best):
            return Evidence([], first.candidates, first.confidence, passages=first.passages)
        return first

    def unknown_names(self, query: Query) -> list[str]:
        """The question's names the document never mentions, in any spelling (`name_known`), except
        those written beside a name it does mention, as a name: "Mikhail Gorbachev" where the text says
        "Gorbachev"; but "Lake Tanganyika" where it writes "the lake" is not let through."""
        missing = [n for n in query.names if not self.name_known(n, query)]
        if not missing:
            return []
        beside = set()
        for run in NAME_RUN.finditer(f"{query.context} {query.text}"):
            parts = [re.sub(r"['’]s$", "", p).lower() for p in re.findall(r"[^\W\d_][\w'’]*", run.group())]
            if any(p in query.names and p not in missing and p in self.stats.names for p in parts):
                beside.update(parts)
        return [n for n in missing if n not in beside]

    # -- the signals

    def candidates(self, query: Query, passages: list[Passage]) -> list[Candidate]:
        out: list[Candidate] = []
        seen: set[tuple[str, int]] = set()
        for p in passages:
            rows = [row for row, s in zip(p.sentence_rows, p.sentences)]
            vectors = self.stats.sentence_vectors[rows] if rows and query.vector is not None else None
            dense = vectors @ query.vector if vectors is not None else np.zeros(len(p.sentences))
            passage_terms = set(terms(p.text)) | set(terms(p.section))
            passage_match = self.word_matches(query, passage_terms, f"{p.section} {p.text}")
            for s, d in zip(p.sentences, dense):
                if (p.source, s.start) in seen or len(s.text.split()) < MIN_SENTENCE_WORDS:
                    continue  # overlapping passages share sentences: cite the better-ranked one
                seen.add((p.source, s.start))
                features = self.signals(query, p, s, float(d), passage_terms)
                match = self.word_matches(query, set(terms(s.text)) | set(terms(p.section)), f"{p.section} {s.text}")
                weights = np.array([self.stats.idf(stem(w)) for w in match]) if match else np.ones(0)
                values = np.array(list(match.values()))
                features["soft_weakest"] = float(values.min()) if match else 1.0
                features["soft_cover"] = float(values @ weights / weights.sum()) if match and weights.sum() else 1.0
                features["soft_weakest_passage"] = min(passage_match.values(), default=1.0)
                features["counts_asked"] = self.counts_asked(query, s.text)
                year_in_sentence = bool(query.years and years_covered(query.years, years_in(s.text)))
                eligible = not features["year_missing"] and not (
                    query.kind in ("count", "year", "date") and not features["kind_ok"]) \
                    and not event_missing(query, s.text)
                out.append(Candidate(p, s, features, self.weights.score(features, year_in_sentence), eligible))
        # Eligible sentences first: "how many" is answered by a sentence with a number if there is one.
        return sorted(out, key=lambda c: (not c.eligible, -c.score, c.passage.n, c.sentence.start))

    def signals(self, query: Query, p: Passage, s: Sentence, dense: float, passage_terms: set[str]) -> dict[str, float]:
        stats = self.stats
        section_terms = set(terms(p.section))
        sentence_terms = set(terms(s.text)) | section_terms
        weights = {t: 0.5 * stats.idf(t) for t in set(query.context_terms)}
        weights.update({t: stats.idf(t) for t in set(query.terms)})
        total = sum(weights.values()) or 1.0
        own = set(query.terms)
        known = [t for t in own if stats.knows(t)]
        names = query.names
        kind_ok = self.kind_matches(query, s.text)
        typed = query.kind in TYPED_KINDS
        asked = own | set(query.context_terms)
        s_terms = set(terms(s.text))
        return {
            "dense": dense,
            "passage_dense": p.similarity,
            "rank": 1.0 / p.n,
            "cover": sum(w for t, w in weights.items() if t in sentence_terms) / total,
            "cover_passage": sum(w for t, w in weights.items() if t in passage_terms) / total,
            "missing_rare": max((stats.idf(t) for t in known if t not in sentence_terms), default=0.0) / stats.max_idf,
            "missing_rare_passage": max((stats.idf(t) for t in known if t not in passage_terms),
                                        default=0.0) / stats.max_idf,
            "unknown": (len(own) - len(known)) / len(own) if own else 0.0,
            "names": self.name_share(names, sentence_terms, s.text),
            "names_passage": self.name_share(names, passage_terms, p.text),
            "names_unknown": sum(not self.name_known(n) for n in names) / len(names) if names else 0.0,
            "kind_missing": float(typed and not kind_ok),
            "kind_ok": float(kind_ok),
            "causal": float(query.kind in ("why", "how", "summary") and bool(lexicon.CAUSAL.search(s.text))),
            "novelty": len(s_terms - asked) / len(s_terms) if s_terms else 0.0,
            "year_missing": float(bool(query.years) and not years_covered(
                query.years, stats.section_years.get((p.source, p.section), set()) | years_in(s.text))),
            "opposite": float(any(OPPOSITE.get(t) in s_terms and t not in s_terms for t in own)),
            "unfinished": float(s.text[-1] not in ".!?\"'”’)"),
        }

    def word_matches(self, query: Query, present: set[str], text: str) -> dict[str, float]:
        """Each question word: 1 when the text has it (stemmed), else its best cosine with the text's words."""
        out = {}
        missing = []
        for word in query.content_words:
            if stem(word) in present:
                out[word] = 1.0
            elif word in query.word_vectors:
                missing.append(word)
        if missing:
            vectors = self.stats.text_word_vectors(text)
            best = (np.stack([query.word_vectors[w] for w in missing]) @ vectors.T).max(axis=1) \
                if len(vectors) else np.zeros(len(missing))
            out.update((w, min(max(float(b), 0.0), 1.0)) for w, b in zip(missing, best))
        return out

    def counts_asked(self, query: Query, sentence: str, window: int = 3) -> float:
        """For "how many X": the best match between X's words and the `window` words after each number of
        the sentence (1 for the same stem, else their cosine); 1 for other questions. "About 120 tons" is
        a number, but it does not count sailors."""
        counted = counted_words(query.text)
        if not counted:
            return 1.0
        similarity = self.word_similarity(query)
        best = 0.0
        for number in QUANTITY.finditer(sentence):
            for word in words(sentence[number.end():number.end() + 60])[:window]:
                for asked in counted:
                    best = max(best, 1.0 if stem(word) == stem(asked) else similarity(asked, word))
        return min(max(best, 0.0), 1.0)

    def speaks_to(self, query: Query, asked: str, candidate: Candidate, threshold: float = 0.4) -> bool:
        """Some content word of `asked` (a part of the question) is in the candidate's sentence, or close
        in meaning to one of its words ("faith" and "Muslims": 0.43; "born" and "exiled": 0.33)."""
        part = dataclasses.replace(query, text=asked)
        sentence = candidate.sentence.text
        matches = self.word_matches(part, set(terms(sentence)), sentence)
        return max(matches.values(), default=0.0) >= threshold

    def word_similarity(self, query: Query) -> Callable[[str, str], float]:
        """Cosine of a question word and a document word (0 when either has no vector)."""
        def similarity(asked: str, given: str) -> float:
            if asked not in query.word_vectors or not self.stats.has_word(given):
                return 0.0
            return float(query.word_vectors[asked] @ self.stats.word_vector(given))
        return similarity

    def name_known(self, name: str, query: Query | None = None, spelling: float = 0.9) -> bool:
        """The document mentions the name, as written, as a possessive, spelled out for an initialism, or
        spelled otherwise ("Lubeck" for "Lübeck": a word of the document at cosine `spelling` or more)."""
        stems = terms(name)
        if (bool(stems) and self.stats.knows(stems[0])) or name in self.stats.initialisms:
            return True
        vector = query.word_vectors.get(name) if query is not None else None
        if vector is None or not len(self.stats.word_vectors):
            return False
        return float((self.stats.word_vectors @ vector).max()) >= spelling

    def name_share(self, names: tuple[str, ...], present: set[str], text: str) -> float:
        if not names:
            return 1.0
        hits = 0
        for name in names:
            stems = terms(name)
            if stems and stems[0] in present:
                hits += 1
            elif name in self.stats.initialisms and self.stats.initialisms[name] <= present:
                hits += 1
        return hits / len(names)

    def kind_matches(self, query: Query, sentence: str) -> bool:
        kind = query.kind
        if kind == "count":
            return bool(quantities(sentence) - query.numbers - set(query.years))
        if kind == "year":
            return bool(years_in(sentence) - set(query.years))
        if kind == "date":
            return has_day(sentence)
        if kind == "when":
            return has_date(sentence)
        if kind in ("who", "where"):
            return has_new_name(sentence, query, self.stats.names)
        if kind in ("why", "how", "summary"):
            return bool(lexicon.CAUSAL.search(sentence))
        return False


# "the most abundant", "its least", "largest", "best"; not "most local parties" or "absorbs most strongly".
SUPERLATIVE = re.compile(r"(?<=\bthe\s)(?:most|least)\s+[a-z]{3,}\b|(?<=\bits\s)(?:most|least)\s+[a-z]{3,}\b"
                         r"|\b[a-z]{2,}est\b|\b(?:best|worst)\b")
MARK = r"(?:[a-z]|[ivx]{1,4}|\d{1,3})\b(?![.,]\d)"
QUALIFIED = re.compile(rf"\b([a-z]{{3,}})\s+({MARK}(?:\s*(?:,|and|or|&)\s*{MARK})*)")
SUBORDINATE = re.compile(r"\b(?:after|before|since|until|once|following)\b", re.I)
ORDINAL_BEFORE = re.compile(r"\b(\d{1,3}(?:st|nd|rd|th))\s+([a-z]{3,})\b")  # "the 36th Division"


def event_missing(query: Query, sentence: str) -> bool:
    """A question about when someone was born or died, and a sentence that dates no birth or death."""
    return query.kind in ("year", "date", "when") and any(
        not given.search(sentence) for given in events_asked(query.text))


@lru_cache(maxsize=4096)
def events_asked(question: str) -> tuple[re.Pattern, ...]:
    """What a sentence must hold to date the birth or death the question asks about; nothing when the
    birth or death only dates something else ("... after Mao died?")."""
    if SUBORDINATE.search(question):
        return ()
    return tuple(given for asked, given in lexicon.LIFE_EVENTS if asked.search(question))


@lru_cache(maxsize=4096)
def counted_words(question: str) -> tuple[str, ...]:
    """"How many Soviet military advisers ..." -> ("soviet", "military", "advisers"): the first three
    content words after "how many", among them what the answer's number must count."""
    found = re.search(r"\bhow many\s+((?:[\w'-]+\s+){0,2}[\w'-]+)", question, re.I)
    if not found:
        return ()
    return tuple(w for w in words(found.group(1)) if w not in STOPWORDS)[:3]


@lru_cache(maxsize=65_536)
def superlatives(text: str) -> frozenset[str]:
    """"largest", "most abundant", "best": what a near miss swaps ("most of" is no superlative)."""
    found = set()
    for match in SUPERLATIVE.findall(normalize(text)):
        parts = match.split()
        if match in lexicon.NOT_SUPERLATIVES or (len(parts) == 2 and parts[1] in STOPWORDS):
            continue
        found.add(match)
    return frozenset(found)


@lru_cache(maxsize=65_536)
def qualifiers(text: str) -> dict[str, frozenset[str]]:
    """"chlorophyll b" -> {"chlorophyl": {"b"}}; "Apollo 13", "photosystems I and II": the letters, numerals
    or numbers that tell siblings apart, by the stem of the word they follow. Cached, as `superlatives` is:
    the same sentences come back question after question."""
    out: dict[str, set[str]] = {}
    for word, marks in QUALIFIED.findall(normalize(text)):
        if word not in STOPWORDS and word not in lexicon.QUESTION_WORDS:
            out.setdefault(stem(word), set()).update(m for m in re.split(r"\s*(?:,|\band\b|\bor\b|&)\s*", marks) if m)
    for mark, word in ORDINAL_BEFORE.findall(normalize(text)):
        out.setdefault(stem(word), set()).add(mark)
    return {word: frozenset(marks) for word, marks in out.items()}


def qualifier_class(mark: str) -> str:
    if mark.isdigit():
        return "number"
    if re.fullmatch(r"\d+(?:st|nd|rd|th)", mark):
        return "ordinal"
    return "roman" if set(mark) <= set("ivx") else "letter"


def may_contrast(question: str) -> bool:
    """The question has a word a near miss could swap: one with an opposite, a superlative, a qualifier."""
    return bool(superlatives(question) or qualifiers(question) or any(t in OPPOSITE for t in terms(question)))


def contrast(question: str, sentence: str, similarity: Callable[[str, str], float] | None = None,
             synonym: float = 0.5) -> tuple[str, str] | None:
    """(asked, given) when the sentence gives an alternative to what the question asks and not the asked
    thing itself: the opposite ("lowest" for "highest", "opened" for "closed"), another superlative ("most
    abundant" for "largest"; "biggest" is the same when `similarity` of the two words reaches `synonym`),
    or a sibling ("chlorophyll a" for "chlorophyll b"). A near miss, not an answer; else None."""
    asked, given = set(terms(question)), set(terms(sentence))
    for t in sorted(asked):
        if OPPOSITE.get(t) in given and t not in given:
            return written(t, question), written(OPPOSITE[t], sentence)
    wanted, offered = superlatives(question), superlatives(sentence)
    if wanted and offered and not any(
            w == o or (similarity and similarity(w.split()[-1], o.split()[-1]) >= synonym)
            for w in wanted for o in offered):
        return sorted(wanted)[0], sorted(offered)[0]
    siblings = qualifiers(sentence)
    for word, marks in sorted(qualifiers(question).items()):
        others = siblings.get(word, frozenset())
        classes = {qualifier_class(m) for m in marks}
        if others and not others & marks and {qualifier_class(m) for m in others} <= classes:
            return written(word, question, sorted(marks)[0]), written(word, sentence, sorted(others)[0])
    return None


def same_sentence(a: Candidate, b: Candidate) -> bool:
    return (a.passage.source, a.sentence.start) == (b.passage.source, b.sentence.start)


def with_bridge(evidence: Evidence, link: Candidate) -> Evidence:
    """The evidence with the bridge sentence quoted too: in a passage already shown that holds it, else
    in its own passage added after the answer's (only the sentence itself when that passage overlaps one
    already shown, so no text is shown twice); renumbered."""
    passages = list(evidence.passages)
    holder = next((p for p in passages if p.source == link.passage.source
                   and any(s.start == link.sentence.start for s in p.sentences)), None)
    if holder is None:
        holder = link.passage
        shown = {c for p in passages for c in (p.chunk_ids or [p.chunk_id])}
        if shown & set(holder.chunk_ids or [holder.chunk_id]):
            row = next(r for r, s in zip(holder.sentence_rows, holder.sentences) if s.start == link.sentence.start)
            holder = dataclasses.replace(holder, text=link.sentence.text, start=link.sentence.start,
                                         end=link.sentence.end, sentences=[link.sentence], sentence_rows=[row])
        passages.insert(1, holder)
    link = dataclasses.replace(link, passage=holder)
    for n, passage in enumerate(passages, 1):
        passage.n = n
    return dataclasses.replace(evidence, passages=passages, chain=[link])


def rerank(passages: list[Passage], candidates: list[Candidate]) -> list[Passage]:
    """Passages by their best sentence's score (eligible sentences first), ties by retrieval rank; renumbered."""
    best: dict[int, tuple[bool, float]] = {}
    for c in candidates:
        key = (not c.eligible, -c.score)
        best[id(c.passage)] = min(best.get(id(c.passage), key), key)
    ordered = sorted(passages, key=lambda p: (best.get(id(p), (True, 0.0)), p.n))
    for n, p in enumerate(ordered, 1):
        p.n = n
    return ordered


def written(stem_: str, text: str, mark: str = "") -> str:
    """A stem as the text writes it ("increas" -> "increased"), with its qualifier when given ("chlorophyll
    b"; an ordinal comes first: "36th Division")."""
    if mark and qualifier_class(mark) == "ordinal":
        found = re.search(rf"\b{re.escape(mark)}\s+{re.escape(stem_)}\w*", text, re.IGNORECASE)
        return found.group() if found else f"{mark} {stem_}"
    tail = rf"\s+{re.escape(mark)}\b" if mark else ""
    found = re.search(rf"\b{re.escape(stem_)}\w*{tail}", text, re.IGNORECASE)
    return found.group() if found else f"{stem_} {mark}".strip()


def as_written(word: str, text: str) -> str:
    found = re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE)
    return found.group() if found else word
