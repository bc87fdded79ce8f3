"""The firewall between what is tuned and what is tested: no six-word run of a validation or test
question may appear in the code or the tests. A rule or a unit test written from an evaluation
question shows up here (the questions are read from their files, never written in this test)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import ROOT

RUN = 6
WORD = re.compile(r"[a-z0-9]+")
HELD_OUT = [*ROOT.glob("data/corpus/validation/*/questions.jsonl"), *ROOT.glob("data/corpus/test/*/questions.jsonl"),
            ROOT / "data" / "eval" / "dev.jsonl", *ROOT.glob("data/eval/docs/*/questions.jsonl")]
GUARDED = ("rag", "tests")
TEXT_SUFFIXES = {".py", ".json", ".jsonl", ".md", ".txt", ".toml", ".cfg"}


def runs(text: str, n: int = RUN) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def held_out_runs() -> dict[tuple[str, ...], str]:
    out = {}
    for path in HELD_OUT:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                question = json.loads(line)
                for run in runs(question["question"]):
                    out[run] = f"{path.relative_to(ROOT)}:{question['id']}"
    return out


def guarded_files() -> list[Path]:
    """Code and tests. tests/data/ is training data (questions on training documents): common phrasing
    (a stock opening of a question) shared with a held-out question is no leak there."""
    training = ROOT / "tests" / "data"
    return [p for folder in GUARDED for p in sorted((ROOT / folder).rglob("*"))
            if p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts
            and not p.is_relative_to(training)]


def test_the_held_out_question_files_are_there():
    assert len(HELD_OUT) >= 10 and all(p.exists() for p in HELD_OUT)


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
