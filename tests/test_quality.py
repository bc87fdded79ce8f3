"""Quality regression: the dev set and our own questions, end to end with the real model."""
from __future__ import annotations

import importlib.util
import json

import pytest

from rag import evaluate

from conftest import ROOT, SHARED_EVAL

DEV = SHARED_EVAL / "dev.jsonl"
OURS = ROOT / "tests" / "data" / "questions.jsonl"
# Written by a helper from the article alone, without seeing this code: the closest we have to a held-out set.
INDEPENDENT = ROOT / "tests" / "data" / "questions-independent.jsonl"
needs_dev = pytest.mark.skipif(not DEV.exists(), reason=f"{DEV} is not beside the project")


@pytest.fixture(scope="module")
def dev_run(real_pipeline):
    questions = evaluate.load_questions(DEV)
    answers, latencies = evaluate.run(real_pipeline, questions)
    return questions, answers


@pytest.mark.slow
@needs_dev
def test_dev_set_meets_the_targets(dev_run):
    questions, answers = dev_run
    m = evaluate.score(questions, answers)
    assert m["recall@5"] >= 0.95 and m["recall@1"] >= 0.80, m
    assert m["answer_acc"] >= 0.85, m
    assert m["false_refusal"] <= 0.05, m
    assert m["refusal_unanswerable"] >= 0.5, m
    for a in answers:  # three sentences or fewer
        assert a["refused"] or 1 <= len(a["citations"]) and a["answer"].count(" [") <= 3


@pytest.mark.slow
@needs_dev
def test_our_scoring_agrees_with_the_shared_scorer(dev_run):
    spec = importlib.util.spec_from_file_location("shared_score", SHARED_EVAL / "score.py")
    shared = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shared)
    questions, answers = dev_run
    ours = evaluate.score(questions, answers)
    theirs = shared.score([json.loads(line) for line in DEV.read_text().splitlines() if line.strip()], answers)
    for key, value in theirs.items():
        assert ours[key] == value, key


@pytest.mark.slow
def test_our_own_questions(real_pipeline):
    """Questions written for this project (not the dev set), so tuning to the dev set shows up here."""
    questions = evaluate.load_questions(OURS)
    answers, _ = evaluate.run(real_pipeline, questions)
    m = evaluate.score(questions, answers)
    assert m["recall@5"] >= 0.9 and m["answer_acc"] >= 0.85 and m["false_refusal"] <= 0.05, m
    assert m["refusal_unanswerable"] >= 0.6, m


@pytest.mark.slow
def test_independent_questions(real_pipeline):
    """Answerable ones are answered; the unanswerable ones are deliberately tricky (they name things the
    article covers but ask for a detail it never gives), so the bar there is low and reported honestly."""
    questions = evaluate.load_questions(INDEPENDENT)
    answers, _ = evaluate.run(real_pipeline, questions)
    m = evaluate.score(questions, answers)
    assert m["recall@5"] >= 0.95 and m["answer_acc"] >= 0.85 and m["false_refusal"] <= 0.05, m
    assert m["refusal_unanswerable"] >= 0.3, m
