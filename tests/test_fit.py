"""The refit's own pieces: logistic regression, near-miss questions, threshold choice."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from rag.answering.model import FEATURES, LogisticModel
from rag.evaluation import fit

STATS = SimpleNamespace(names=frozenset({"gorbachev", "khrushchev", "beijing"}),
                        section_years={("a", "s"): {"1959", "1989", "1960s"}})


@pytest.mark.parametrize("question, evidence, variants", [
    ({"id": "q1", "question": "When did Gorbachev visit Beijing in 1989?"},
     "Gorbachev visited Beijing in May 1989",
     ["When did Khrushchev visit Beijing in 1989?", "When did Gorbachev visit Beijing in 1959?"]),
    ({"id": "q2", "question": "What did the treaty set?"}, "The treaty set a border", []),  # nothing to swap
])
def test_near_misses_swap_one_name_or_one_year(question, evidence, variants):
    assert fit.near_misses({**question, "evidence": evidence}, STATS) == variants


def test_logistic_regression_separates_a_separable_signal():
    x = np.array([[0.0], [0.1], [0.2], [0.8], [0.9], [1.0]])
    y = np.array([0, 0, 0, 1, 1, 1], dtype=float)
    weights, bias = fit.fit_logistic((x - 0.5) / 0.4, y, np.ones(6), l2=0.1)
    p = 1 / (1 + np.exp(-(((x - 0.5) / 0.4) @ weights + bias)))
    assert weights[0] > 0 and (p[:3] < 0.5).all() and (p[3:] > 0.5).all()


def test_threshold_counts_a_false_refusal_as_costly():
    model = LogisticModel(("score",), (0.0,), (1.0,), (10.0,), -5.0, 0.5)  # p = sigmoid(10 * score - 5)
    def at(score: float) -> np.ndarray:
        values = np.zeros(len(FEATURES))
        values[FEATURES.index("score")] = score
        return values

    cases = [(at(0.9), "right", 1.0), (at(0.6), "right", 1.0), (at(0.4), "none", 1.0), (at(0.1), "none", 1.0)]
    threshold = fit.choose_threshold(model, cases, refusal_cost=5.0)
    probability = lambda s: float(model.probabilities(at(s))[0])  # noqa: E731
    assert probability(0.4) < threshold <= probability(0.6)


def test_our_own_documents_are_told_apart_from_the_suite(tmp_path, fake_embedder):
    question = '{"id": "x1", "question": "Where is most tea sold?", "answerable": true, "answer_any": ["Graustark"], ' \
               '"evidence": "Most tea is sold to Graustark.", "type": "fact"}\n'
    for folder in ("suite/tea", "train/coffee"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "article.txt").write_text("Tea\n\nMost tea is sold to Graustark. It goes by barge.\n")
        (tmp_path / folder / "questions.jsonl").write_text(question)
    suite = fit.load_suite(tmp_path / "suite", [], tmp_path / "work", fake_embedder, tmp_path / "train")
    assert (suite["tea"].scored, suite["tea"].ours) == (tmp_path / "suite" / "tea" / "questions.jsonl", False)
    assert (suite["coffee"].scored, suite["coffee"].ours) == (tmp_path / "train" / "coffee" / "questions.jsonl", True)
    assert [q["id"] for q in suite["coffee"].questions] == ["x1"]
