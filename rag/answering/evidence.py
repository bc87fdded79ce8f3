"""The one answerability decision: which sentences of the retrieved passages support an answer, or why
none does. Every answerer asks this before it answers; no other module decides a refusal.

It combines three parts, each in its own module: the candidates and their signals
(`rag.answering.signals`, with the verifier's reading of the best few), the learned model over the
best candidate's signals (`rag.answering.model`), and the hand rules (`rag.answering.rules`).

A two-step question is decided in two rounds: `decide` with its description's passages beside its own
finds the name the description stands for (`rag.answering.bridge`); when its own evidence does not
already name it, the evidence says what to ask next (`Evidence.follow`), and `conclude` weighs the
answer to that against the first.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from rag.answering.bridge import Bridge, find_bridge
from rag.answering.model import AnswerabilityModel, decision_row, load_model
from rag.answering.rules import ALL_RULES, Rule, as_written, unknown_names
from rag.answering.signals import VERIFIED, VERIFIER_WEIGHT, DocumentStats, RankWeights, SignalReader
from rag.answering.verifier import Verifier
from rag.types import Candidate, Passage, Query

NOT_ENGLISH = "not English"  # the reason for a question in another language: the model reads English only


@dataclass(frozen=True)
class Evidence:
    """The decision: the supporting sentences (best first), or a refusal and its reason."""
    supported: list[Candidate]
    candidates: list[Candidate] = field(default_factory=list)  # every sentence scored, best first
    confidence: float = 0.0  # the model's probability that the best sentence answers the question
    reason: str | None = None  # why it was refused, when one reason stands out
    passages: list[Passage] = field(default_factory=list)  # reordered by their best sentence, renumbered
    chain: list[Candidate] = field(default_factory=list)  # quoted with the answer, which rests on them (a bridge)
    follow: Bridge | None = None  # a second round is due: the rest of the question, asked about this name

    @property
    def refused(self) -> bool:
        return not self.supported


class EvidenceJudge:
    """Ranks the sentences and decides. `threshold` overrides the fitted one; `rules` are the hand rules
    in force (all by default; the ablation switches them off one at a time)."""

    def __init__(self, stats: DocumentStats, model: AnswerabilityModel | None = None,
                 threshold: float | None = None, weights: RankWeights = RankWeights(), rerank: bool = True,
                 verifier: Verifier | None = None, verified: int = VERIFIED, verifier_weight: float = VERIFIER_WEIGHT,
                 rules: frozenset[Rule] = ALL_RULES) -> None:
        self.model = model or load_model()
        self.threshold = self.model.threshold if threshold is None else threshold
        self.rerank = rerank
        self.rules = rules
        self.reader = SignalReader(stats, weights, verifier, verified, verifier_weight, rules)

    @property
    def stats(self) -> DocumentStats:
        return self.reader.stats

    def candidates(self, query: Query, passages: list[Passage]) -> list[Candidate]:
        """The ranked sentences with every signal the decision reads, the verifier's included."""
        return self.reader.verify(query, self.reader.candidates(query, passages))

    def ranked(self, query: Query, passages: list[Passage]) -> list[Candidate]:
        """The ranked sentences without the verifier's reading: for finding a two-step question's bridge."""
        return self.reader.candidates(query, passages)

    def decide(self, query: Query, passages: list[Passage],
               described: tuple[Query, list[Passage]] | None = None) -> Evidence:
        """The decision, with the passages put in the order of their best sentences (renumbered), so the
        passage that holds the answer comes first. `described`: a two-step question's description and
        its passages (`bridged`)."""
        first = self.decided(query, passages)
        return first if described is None else self.bridged(first, *described)

    def decided(self, query: Query, passages: list[Passage]) -> Evidence:
        """The decision on one question's own passages."""
        if not query.english:
            return Evidence([], reason=NOT_ENGLISH, passages=passages)
        candidates = self.candidates(query, passages)
        if not candidates:
            return Evidence([], candidates, reason="no passage holds a full sentence", passages=passages)
        if self.rerank:
            passages, candidates = renumbered(rerank(passages, candidates), candidates)
        confidence = float(self.model.probabilities(decision_row(candidates))[0])
        missing = unknown_names(query, self.reader.name_known, self.stats.names) \
            if Rule.UNKNOWN_NAMES in self.rules else []
        if missing:  # "the Amazon rainforest" in a document that never names it
            written_names = ", ".join(as_written(n, f"{query.text} {query.context}") for n in missing)
            return Evidence([], candidates, confidence, reason=f"it never mentions {written_names}",
                            passages=passages)
        if confidence < self.threshold:
            return Evidence([], candidates, confidence, passages=passages)
        return Evidence([c for c in candidates if c.eligible], candidates, confidence, passages=passages)

    def bridged(self, first: Evidence, described: Query, passages: list[Passage]) -> Evidence:
        """A two-step question's first round: the name its description stands for (the bridge), found
        among the description's best sentences. The first evidence quotes the bridge sentence beside its
        own when its answer already names the bridge (and is not the bridge sentence itself); else, with
        a bridge found, it asks for a second round (`follow`); else it stands as it is."""
        bridge = find_bridge(described, self.ranked(described, passages), self.stats.names)
        if bridge is None:
            return first
        if names_bridge(first, bridge):
            return with_bridge(first, bridge.candidate)
        return dataclasses.replace(first, follow=bridge)

    def conclude(self, first: Evidence, query: Query, passages: list[Passage]) -> Evidence:
        """The second round: the rest of the question asked about the bridge's name (`query`, searched for
        `first.follow.question`). Its answer is taken, quoting the bridge sentence beside it, when it
        names the bridge (by any word of its name: the text may say "Mao" where the bridge sentence says
        "Mao Zedong"; so those words are not asked for as names); else the first evidence stands."""
        bridge = first.follow
        first = dataclasses.replace(first, follow=None)
        second = self.decided(dataclasses.replace(query, names=tuple(n for n in query.names if n not in bridge.keys)),
                              passages)
        return with_bridge(second, bridge.candidate) if names_bridge(second, bridge) else first


def names_bridge(evidence: Evidence, bridge: Bridge) -> bool:
    """The evidence's answer names the bridge and is not the bridge sentence itself."""
    best = None if evidence.refused else evidence.supported[0]
    return best is not None and not same_sentence(best, bridge.candidate) and bridge.named_in(best.sentence.text)


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
    passages, moved = renumbered(passages, [*evidence.supported, *evidence.candidates, link])
    supported, rest = moved[:len(evidence.supported)], moved[len(evidence.supported):]
    return dataclasses.replace(evidence, passages=passages, supported=supported,
                               candidates=rest[:len(evidence.candidates)], chain=[rest[-1]])


def rerank(passages: list[Passage], candidates: list[Candidate]) -> list[Passage]:
    """Passages by their best sentence's score (eligible sentences first), ties by retrieval rank."""
    best: dict[int, tuple[bool, float]] = {}
    for c in candidates:
        key = (not c.eligible, -c.score)
        best[id(c.passage)] = min(best.get(id(c.passage), key), key)
    return sorted(passages, key=lambda p: (best.get(id(p), (True, 0.0)), p.n))


def renumbered(passages: list[Passage], candidates: list[Candidate]) -> tuple[list[Passage], list[Candidate]]:
    """The passages numbered 1, 2, ... in this order, and the candidates pointing at the renumbered
    copies (a candidate of a passage not in the list keeps its own): new values, the given ones unchanged."""
    fresh = [dataclasses.replace(p, n=n) for n, p in enumerate(passages, 1)]
    by_id = {id(old): new for old, new in zip(passages, fresh)}
    return fresh, [dataclasses.replace(c, passage=by_id.get(id(c.passage), c.passage)) for c in candidates]
