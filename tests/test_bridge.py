"""Two-step questions: finding the description, the name it stands for, and the chained answer."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FakeEmbedder

from rag import Pipeline
from rag.answering.bridge import find_bridge, split
from rag.answering.evidence import Evidence
from rag.index.build import build_index
from rag.index.folder import load_index

TEA_HISTORY = """Tea in Ruritania

History

Tea was brought to Ruritania by the merchant Anton Vell in 1802. King Rudolf III founded the Royal Tea Board in 1851.

Vell's later life

Vell died in the port of Strelsau in 1830. His warehouse became a museum.

Trade

Most tea is sold to Graustark. A smaller share goes to Elbonia by river barge.
"""


@pytest.mark.parametrize("question, description, bridge_sentence, about", [
    # a description opening the question: it ends at the main verb before the wh-word
    ("The surveyor who mapped the delta for Strelsau died on what date?",
     "surveyor mapped the delta for Strelsau", "", "N died on what date?"),
    ("The governor who vetoed the tariff gave which captain the command?",
     "governor vetoed the tariff", "", "N gave which captain the command?"),
    ("The academy that trained the commanders was founded when?",  # the auxiliary goes with the main verb
     "academy trained the commanders", "", "N was founded when?"),
    # inside the question: the clause ends at the last word the bridge sentence holds before the
    # question's own last word that it does not hold
    ("Where did the duke who insulted the mayor send guards?",
     "duke insulted the mayor send", "Otto Brenn insulted the mayor and later sent guards.",
     "Where did N send guards?"),
    ("What prize did the woman who designed the harbour crane receive at the fair?",
     "woman designed the harbour crane", "Mira Holt designed the crane.",
     "What prize did N receive at the fair?"),
    ("Where was the botanist who first described the tulips born?",
     "botanist first described the tulips", "The tulips were first described by Lindqvist.",
     "Where was N born?"),
    # a reduced relative clause, "worked out by"
    ("Name some mills that use the wheel worked out by Sorel and Vane.",
     "wheel worked out by Sorel and Vane", "It was worked out by Sorel and Vane in 1876.",
     "Name some mills that use N."),
])
def test_split_finds_the_description(question, description, bridge_sentence, about):
    parts = split(question)
    assert parts.description == description
    assert parts.about("N", bridge_sentence) == about


@pytest.mark.parametrize("question", [
    "Who led the embassy to Strelsau?",  # the relative word opens the question
    "Which tariff did Governor Hale refuse?",
    "When did the board open?",
    "What is the powder produced by shredding batteries called?",  # "by" a process, not by a name
    "Why was the tariff refused by Hale?",  # a passive question: "refused" is its own verb
    "Name the governor who kept Hale waiting.",  # the one described is what is asked
    "Who is the man who refused the tariff?",
])
def test_questions_that_name_their_subject_are_not_split(question):
    assert split(question) is None


@pytest.fixture
def tea(tmp_path: Path) -> Pipeline:
    source = tmp_path / "tea.txt"
    source.write_text(TEA_HISTORY, encoding="utf-8")
    build_index(source, tmp_path / "index", FakeEmbedder())
    # The fake embedder's similarities are not the model's: every sentence passes the threshold, so the
    # test is about which sentences are chosen, not about the confidence.
    return Pipeline(load_index(tmp_path / "index"), embedder=FakeEmbedder(), threshold=0.0)


def test_the_bridge_is_the_name_the_description_fits(tea: Pipeline):
    described = tea.analyse("merchant brought tea to Ruritania")
    candidates = tea.judge.candidates(described, tea.search(described, 3))
    found = find_bridge(described, candidates, tea.judge.stats.names)
    assert found.name == "Anton Vell"
    assert found.keys == ("anton", "vell")


def test_a_two_step_question_quotes_the_bridge_and_the_answer(tea: Pipeline):
    answer = tea.ask("In what year did the merchant who brought tea to Ruritania die?")
    assert not answer.refused
    assert "Vell died in the port of Strelsau in 1830. [1]" in answer.answer
    assert "the merchant Anton Vell in 1802. [2]" in answer.answer  # who "the merchant" is
    assert answer.citations == [2, 1]  # read in document order; the answer's passage is shown first


def test_when_the_second_step_finds_nothing_the_first_evidence_stands(tea: Pipeline):
    described = tea.analyse("merchant brought tea to Ruritania")
    found = find_bridge(described, tea.judge.candidates(described, tea.search(described, 3)), tea.judge.stats.names)
    first = Evidence([found.candidate], [found.candidate], 0.9, passages=[found.candidate.passage], follow=found)
    kept = tea.judge.conclude(first, tea.analyse(found.question or "When did Anton Vell die?"), [])  # no passage
    assert not kept.refused and kept.supported == [found.candidate] and kept.chain == [] and kept.follow is None
