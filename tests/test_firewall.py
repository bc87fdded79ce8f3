"""The firewall between what is tuned and what is tested: no validation or test question, reworded or
not, may stand in the code or the tests. Two checks: no six-word run of such a question in any text file
of rag/ and tests/, and no quoted question (in rag/, tests/, bench/, app.py, the README) sharing most of its
content words with one. A rule or a unit test written from an evaluation question shows up here (the
questions are read from their files, never written in this test). Training questions may be quoted:
they are there to be learnt from.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import ROOT, SHARED_EVAL

RUN = 6
WORD = re.compile(r"[a-z0-9]+")
# Validation documents not yet trained on (data/corpus/incoming/validation) are held out already.
HELD_OUT = [*ROOT.glob("data/corpus/validation/*/questions.jsonl"), *ROOT.glob("data/corpus/test/*/questions.jsonl"),
            *ROOT.glob("data/corpus/incoming/validation/*/questions.jsonl"),
            ROOT / "data" / "eval" / "dev.jsonl", *ROOT.glob("data/eval/docs/*/questions.jsonl"),
            # the follow-ups, and the earlier questions they lean on
            *ROOT.glob("data/corpus/validation/*/followups.jsonl"), *ROOT.glob("data/corpus/test/*/followups.jsonl"),
            *ROOT.glob("data/corpus/incoming/validation/*/followups.jsonl"),
            ROOT / "data" / "eval" / "dev-followups.jsonl", *ROOT.glob("data/eval/docs/*/followups.jsonl")]
GUARDED = ("rag", "tests")
TEXT_SUFFIXES = {".py", ".json", ".jsonl", ".md", ".txt", ".toml", ".cfg"}


def runs(text: str, n: int = RUN) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def asked_in(path: Path) -> list[tuple[str, str]]:
    """(id, text) of every question of a file, a follow-up's earlier questions included."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            question = json.loads(line)
            out += [(question["id"], text) for text in [question["question"], *question.get("history", [])]]
    return out


def held_out_runs() -> dict[tuple[str, ...], str]:
    return {run: f"{path.relative_to(ROOT)}:{id_}" for path in HELD_OUT for id_, text in asked_in(path)
            for run in runs(text)}


def guarded_files() -> list[Path]:
    """Code and tests. tests/data/ is training data (questions on training documents): common phrasing
    (a stock opening of a question) shared with a held-out question is no leak there."""
    training = ROOT / "tests" / "data"
    return [p for folder in GUARDED for p in sorted((ROOT / folder).rglob("*"))
            if p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts
            and not p.is_relative_to(training)]


def test_the_held_out_question_files_are_there():
    assert len(HELD_OUT) >= 20 and all(p.exists() for p in HELD_OUT)


def test_runs_are_six_words_of_letters_and_digits():
    assert runs("One two, three four-five six!") == {("one", "two", "three", "four", "five", "six")}
    assert runs("five words are not enough") == set()


def test_no_six_word_run_of_a_held_out_question_is_in_the_code_or_tests():
    questions = held_out_runs()
    leaks = []
    for path in guarded_files():
        for run in runs(path.read_text(encoding="utf-8", errors="replace")) & questions.keys():
            leaks.append(f"{path.relative_to(ROOT)}: {' '.join(run)!r} (from {questions[run]})")
    assert leaks == [], "held-out question text in code or tests:\n" + "\n".join(sorted(leaks)[:40])


# ---------------------------------------------------------------- reworded questions

SCANNED = ["rag", "tests", "bench", "app.py", "README.md"]
# A quoted question is prose: a string with a backslash, a brace or a bar is a pattern or a template
# ("(?:per|each)\\s*(?"), whose words can match a question by chance.
QUOTED = re.compile(r"""["“']([^"“”'\n\\{}|]{12,}\?)""")
FILLER = set("""a an the of in on at to for by with from about and or but not no is are was were be been do does did
have has had it its this that these those what which who whom whose when where why how many much there
their they he she his her i my me you your we our can could would should will may might""".split())


def content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in FILLER and len(w) > 2)


def too_close(quoted: frozenset[str], asked: frozenset[str]) -> bool:
    """Most content words shared (a reworded question), or three quarters of a short quote's words held by
    an evaluation question; at least three of them either way."""
    if len(quoted) < 3 or len(asked) < 3:  # "What caused the fire?", "why then?": too little to tell a
        return False  # rewording from a stock question, on either side
    shared = len(quoted & asked)
    if shared < 3:  # two words in common ("man", "found") is a coincidence of short questions, not a rewording
        return False
    return shared / len(quoted | asked) >= 0.42 or shared / len(quoted) >= 0.75


def evaluation_questions() -> list[tuple[str, frozenset[str]]]:
    out = []
    shared = sorted(SHARED_EVAL.rglob("*.jsonl")) if SHARED_EVAL.is_dir() else []
    for path in [*HELD_OUT, *shared]:
        out += [(question, content_words(question)) for _, question in asked_in(path)]
    return out


def quoted_questions() -> list[tuple[str, str]]:
    out = []
    for name in SCANNED:
        place = ROOT / name
        files = [place] if place.is_file() else sorted(place.rglob("*.py"))
        for path in files:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                out += [(f"{path.relative_to(ROOT)}:{number}", q) for q in QUOTED.findall(line)]
    return out


@pytest.mark.parametrize("quoted, asked, close", [
    ("Which baker glazed the royal wedding cake?", "Which Zendan baker glazed the royal cake in 1820?", True),
    ("How did banning kites help the orchard?", "How did banning red kites help the Vell orchard grow?", True),
    ("What soured the cream?", "Which heatwave soured the cream of 1821?", False),  # two content words: too short to judge
    ("When do the Zenda barges sail in spring?", "barges in spring?", False),  # the same, on the evaluation side
    ("Who founded the tea board?", "When did the river pilots strike?", False),
    ("Where was the woman who built it buried?", "Who built the woman statue?", False),  # two words shared
])
def test_too_close(quoted, asked, close):
    assert too_close(content_words(quoted), content_words(asked)) is close


@pytest.mark.parametrize("line, found", [
    ('ask("Which ferry sails to the island at dawn?")', ["Which ferry sails to the island at dawn?"]),
    (r"""EVERY = re.compile(rf'|{_EACH}(?:days)\s*(?:/|per|each)\s*(?')""", []),  # a pattern, not a question
])
def test_quoted_questions_are_prose(line, found):
    assert QUOTED.findall(line) == found


def test_no_evaluation_question_is_quoted_in_code_tests_or_readme():
    asked = evaluation_questions()
    assert len(asked) > 300  # the scored sets were found
    leaks = [f"{place}: {quoted!r} ~ {question!r}"
             for place, quoted in quoted_questions()
             for question, words in asked if too_close(content_words(quoted), words)]
    assert leaks == []
