"""Two-step questions: "The surveyor who mapped the delta died on what date?" names its subject only by
a description. The first retrieval finds the sentence that fits the description ("the delta was mapped by
the surveyor Ilse Marren"): the bridge. The question is then asked again with the bridge's name in place of the
description ("Ilse Marren died on what date?"), and the evidence judge decides on that second
question as on any other. The answer quotes both sentences.

    split(question) -> Split | None  (read by `rag.answering.query.analyse`: `Query.described`)
    find_bridge(description query, candidates) -> Bridge | None, with the second question, `Bridge.question`
    (`EvidenceJudge.bridged` and `EvidenceJudge.conclude` weigh its answer against the first)
"""
from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass

from rag.text import lexicon
from rag.text.patterns import NAME_RUN, TOKEN
from rag.text.terms import STOPWORDS, bare, terms, words
from rag.types import Candidate, Query

# "the surveyor who mapped ...", "a governor that vetoed ...", "the wheel worked out by ...": a person or thing
# named only by what it did. Group 1 is the description's head noun phrase, group 2 the clause's first word.
DESCRIPTION = re.compile(
    r"\b(?:the|a|an)\s+((?:[\w'-]+\s+){0,3}?[\w'-]+)\s+(?:who|whom|whose|that|which)\s+(?!is\b|are\b|was\b|were\b)(\w+)"
    r"|\b(?:the|a|an)\s+((?:[\w'-]+\s+){0,2}?[\w'-]+)\s+(\w+(?:ed|en))\s+(?:out\s+)?by\s+(?=(?-i:[A-Z]))", re.I)
WINDOW = 6  # words either side of a name that tell whether the description is about it
CLAUSE_TERMS = 3  # content words of a clause of unknown end that describe (the rest may be the question's)
WH_WORDS = frozenset("what which who whom whose when where how".split())
PREPOSITIONS = frozenset("on in at to for by with from of until during since into onto".split())
AUXILIARIES = frozenset("was were is are be been being has have had did does do".split())
IDENTITY = re.compile(r"^\W*(?:(?:who|what|which)\s+(?:is|was|are|were)|name|identify|list|tell me)\W*$", re.I)


@dataclass(frozen=True)
class Bridge:
    name: str  # the name the description stands for, as written ("Ilse Marren")
    keys: tuple[str, ...]  # its words, lower-cased: an answer about it names one of them ("mao")
    candidate: Candidate  # the sentence that fits the description
    question: str = ""  # the rest of the question asked about the name ("Ilse Marren died on what date?")

    def named_in(self, text: str) -> bool:
        return bool(set(self.keys) & set(words(text)))


@dataclass(frozen=True)
class Split:
    head: str  # "surveyor": the noun the description is about
    clause: str  # "led the harbour board's delegation to the ministry in Oslo"
    before: str  # the question around the description: "" and "died on what date?"
    after: str
    open_end: bool = False  # where the clause ends is not known yet ("Where was the man who found it born?")

    @property
    def description(self) -> str:
        """What to find first: "surveyor led the harbour board's delegation to the ministry in Oslo". Of a
        clause of unknown end, the first `CLAUSE_TERMS` content words (a name is never cut), so that the
        question's own verb ("... receive at the fair") does not steer the search."""
        if not self.open_end:
            return f"{self.head} {self.clause}"
        return " ".join([self.head, *self.clause.split()[:self.searched()]])

    def searched(self) -> int:
        """How many words of a clause of unknown end the description keeps: `CLAUSE_TERMS` content words."""
        kept, taken = 0, 0
        for token in self.clause.split():
            if taken >= CLAUSE_TERMS and not token[:1].isupper():
                break
            kept += 1
            taken += token.lower() not in STOPWORDS
        return kept

    def about(self, name: str, bridge_sentence: str = "") -> str:
        """The question asked of the name the description stands for: "Ilse Marren died on what date?".
        A clause of unknown end ends at the last word the bridge sentence holds before the question's own
        last word that it does not hold ("who humiliated the chairman | send troops")."""
        rest = ""
        if self.open_end:
            tokens = self.clause.split()
            covered = set(terms(bridge_sentence))
            content = [i for i, t in enumerate(tokens) if terms(t)]
            own = [i for i in content if not set(terms(tokens[i])) & covered]
            held = [i for i in content if i not in own and (not own or i < own[-1])]
            last = held[-1] if held else self.searched() - 1
            rest = " ".join(tokens[last + 1:])
        text = re.sub(r"\s+", " ", f"{self.before} {name} {rest} {self.after}")
        return re.sub(r"\s+([?.!,])", r"\1", text).strip()


@functools.lru_cache(maxsize=256)  # analyse splits the question and find_bridge words the second one from it
def split(question: str) -> Split | None:
    """The description (its head and its relative clause) and the rest of the question, or None when the
    question names its subject, when the description is what is asked ("Name the governor who kept Hale
    waiting"), or when "the tariff refused by Hale" is a passive main clause ("Why was the tariff
    refused by Hale?")."""
    opening = re.match(r"\W*(\w+)", question)
    for match in DESCRIPTION.finditer(question):
        if opening and match.start() == opening.start(1) and opening.group(1).lower() in lexicon.QUESTION_WORDS:
            continue
        before = question[:match.start()].strip()
        if match.group(4) and AUXILIARIES & set(words(before)):
            continue  # "was the tariff refused by": the participle is the question's own verb
        head = match.group(1) or match.group(3)
        clause_start = match.start(2) if match.group(2) else match.start(4)
        end = main_verb(question, clause_start)
        if end is None:  # "What did the woman who designed the crane receive?": the bridge sentence will tell
            clause = question[clause_start:].rstrip(" ?!.")
            parts = Split(head, clause, before, question[clause_start + len(clause):].strip(), open_end=True)
        else:
            parts = Split(head, question[clause_start:end].strip(), before, question[end:].strip(" ,"))
        if not asks_more(parts):
            return None
        return parts
    return None


def asks_more(parts: Split) -> bool:
    """The question asks something of the one described, not only who it is ("Who was the man who
    refused the tariff?", "Name the governor who kept Hale waiting")."""
    if IDENTITY.match(parts.before):
        return False
    return parts.open_end or any(w not in STOPWORDS and w not in lexicon.QUESTION_WORDS
                                 for w in words(f"{parts.before} {parts.after}"))


def main_verb(question: str, start: int) -> int | None:
    """Where a relative clause starting at `start` ends when a wh-word follows it: before the main verb
    ("The surveyor who mapped the delta | died on what date?"); None when no wh-word follows."""
    tokens = list(re.finditer(r"[\w'’-]+|[,;?!.]", question[start:]))
    wh = next((i for i, t in enumerate(tokens) if i and t.group().lower() in WH_WORDS), None)
    if wh is None:
        return None
    verb = wh - 1
    while verb > 1 and tokens[verb].group().lower() in PREPOSITIONS:
        verb -= 1
    if verb > 1 and tokens[verb - 1].group().lower() in AUXILIARIES:
        verb -= 1  # "was founded when?": the auxiliary belongs to the main verb
    return start + tokens[verb - 1].end() if verb > 1 else None


def find_bridge(query: Query, candidates: list[Candidate], names: frozenset[str], depth: int = 3) -> Bridge | None:
    """`query`: the description (its context, the question it was split from). The name, in one of the
    `depth` best sentences for it, that the question does not mention and whose neighbouring words share
    most with the description; with the question asked again about that name."""
    asked = set(words(query.text)) | set(query.names) | set(words(query.context))
    question_terms = set(query.terms)
    best: tuple[int, int, Bridge] | None = None  # (shared words, -position, bridge)
    for position, candidate in enumerate(candidates[:depth]):
        text = candidate.sentence.text
        for run in NAME_RUN.finditer(text):
            parts = [p for p in TOKEN.findall(run.group()) if p.lower() not in lexicon.TITLES]
            if not parts:
                continue
            keys = tuple(bare(p).lower() for p in parts)
            if set(keys) & asked or not set(keys) & names or all(k in STOPWORDS for k in keys) \
                    or any(lexicon.DEMONYM.search(k) for k in keys):
                continue
            around = text[max(0, run.start() - 60):run.end() + 60]
            near = set(terms(" ".join(around.split()[:WINDOW * 2 + len(parts)])))
            shared = len(near & question_terms)
            if shared and (best is None or (shared, -position) > best[:2]):
                best = (shared, -position, Bridge(" ".join(parts), keys, candidate))
    if best is None:
        return None
    bridge, parts = best[2], split(query.context)
    if parts is None:
        return bridge
    return dataclasses.replace(bridge, question=parts.about(bridge.name, bridge.candidate.sentence.text))
