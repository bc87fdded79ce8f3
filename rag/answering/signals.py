"""What the answer decision reads: every sentence of the retrieved passages described by signals that
mean the same on any document (its meaning next to the question's, how much of the question it and its
passage cover, whether the question's names and rarest words are there, soft matches for the words that
are not, whether it holds the kind of answer asked for, whether it says the opposite of what is asked),
ranked by a weighted sum of a few of them (`RankWeights`), and, for the best few, the verifier's reading,
which reorders them.

    SignalReader(stats).candidates(query, passages) -> [Candidate], best first
    SignalReader(stats, verifier=...).verify(query, candidates) -> the same, the best few verified and reordered
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np

from rag.answering.query import document_names, has_date, has_day, has_new_name, quantities, years_covered, years_in
from rag.answering.rules import ALL_RULES, Rule
from rag.answering.verifier import Verifier, asked_text, pair_text
from rag.text import lexicon
from rag.text.patterns import QUANTITY, UNITS
from rag.text.terms import STOPWORDS, stem, terms, words
from rag.types import Candidate, Passage, Query, Sentence

# The verifier reads the best VERIFIED sentences and its probability, times VERIFIER_WEIGHT, joins their
# ranking score: chosen on validation by answer accuracy with nothing refused (bench/results.md, 2026-12-03).
VERIFIED = 8
VERIFIER_WEIGHT = 0.25
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
    "unit_missing",     # "how far", "what did it cost": the sentence holds no quantity of the unit asked for
)


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


class SignalReader:
    """Describes and ranks the candidate sentences of a question. `verified`: how many of the best the
    verifier reads (its cost is one model run per pair); `verifier_weight`: how much its probability adds
    to their ranking score, so it reorders them."""

    def __init__(self, stats: DocumentStats, weights: RankWeights = RankWeights(),
                 verifier: Verifier | None = None, verified: int = VERIFIED,
                 verifier_weight: float = VERIFIER_WEIGHT, rules: frozenset[Rule] = ALL_RULES) -> None:
        self.stats = stats
        self.weights = weights
        self.verifier = verifier
        self.verified = verified
        self.verifier_weight = verifier_weight
        self.rules = rules  # those of them that decide whether a sentence is eligible

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
                eligible = self.eligible(query, features)
                out.append(Candidate(p, s, features, self.weights.score(features, year_in_sentence), eligible))
        # Eligible sentences first: "how many" is answered by a sentence with a number if there is one.
        return sorted(out, key=lambda c: (not c.eligible, -c.score, c.passage.n, c.sentence.start))

    def verify(self, query: Query, ranked: list[Candidate]) -> list[Candidate]:
        """The verifier's probability as a signal of the `verified` best candidates (none without a
        verifier), added to their score (`verifier_weight`) and those few reordered by it, as new
        candidates (the given ones unchanged)."""
        if self.verifier is None or not ranked:
            return ranked
        top = ranked[:self.verified]
        probabilities = self.verifier.probabilities(asked_text(query.text, query.context),
                                                    [pair_text(c.passage.section, c.sentence.text) for c in top])
        verified = [dataclasses.replace(c, signals={**c.signals, "verifier": float(p)},
                                        score=c.score + self.verifier_weight * float(p))
                    for c, p in zip(top, probabilities)]
        # Only the verified few move, among themselves, and an ineligible one stays below every eligible one.
        # The extractive answerer's runner-up and follow-on ratios read these raised scores too.
        verified.sort(key=lambda c: (not c.eligible, -c.score))
        return verified + ranked[self.verified:]

    def eligible(self, query: Query, features: dict[str, float]) -> bool:
        """The sentence may answer at all: it holds a number, year or date where one is asked (a rule that
        can be switched off)."""
        return not (Rule.TYPED_ANSWER in self.rules and query.kind in ("count", "year", "date")
                    and not features["kind_ok"])

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
            "unit_missing": float(unit_missing(query.units, s.text)),
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


def unit_missing(units: frozenset[str], sentence: str) -> bool:
    """The question asks for a measured quantity (`Query.units`: a distance, a price, a time of day...) and
    the sentence holds none of that kind: on topic, without the asked detail."""
    return bool(units) and not any(UNITS[unit].search(sentence) for unit in units)


@lru_cache(maxsize=4096)
def counted_words(question: str) -> tuple[str, ...]:
    """"How many Elbonian river pilots ..." -> ("elbonian", "river", "pilots"): the first three
    content words after "how many", among them what the answer's number must count."""
    found = re.search(r"\bhow many\s+((?:[\w'-]+\s+){0,2}[\w'-]+)", question, re.I)
    if not found:
        return ()
    return tuple(w for w in words(found.group(1)) if w not in STOPWORDS)[:3]
