"""The answer decision's models as they are shipped: plain numbers in JSON, read back to the same
probabilities, and a file for other code refused with a message that says what to do."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rag.answering.model import FEATURES, BoostedTrees, LogisticModel, model_from_json, model_text

# One tree over (score, gap): score <= 0.5 -> -2; else gap <= 0.1 -> 1, else 3. Baseline 0.5.
TREE = {"feature": [0, 0, 1, 0, 0], "split": [0.5, 0.0, 0.1, 0.0, 0.0], "left": [1, 0, 3, 0, 0],
        "right": [2, 0, 4, 0, 0], "value": [0.0, -2.0, 0.0, 1.0, 3.0]}
STUMP = {"feature": [1, 0, 0], "split": [0.3, 0.0, 0.0], "left": [1, 0, 0], "right": [2, 0, 0],
         "value": [0.0, -1.0, 1.0]}  # gap <= 0.3 -> -1, else 1: shorter than TREE, so padded


def row(**values: float) -> np.ndarray:
    out = np.zeros(len(FEATURES))
    for name, value in values.items():
        out[FEATURES.index(name)] = value
    return out


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


@pytest.mark.parametrize("score, gap, raw", [
    (0.2, 0.0, 0.5 - 2 - 1),
    (0.2, 0.9, 0.5 - 2 + 1),
    (0.9, 0.05, 0.5 + 1 - 1),
    (0.9, 0.2, 0.5 + 3 - 1),
    (0.9, 0.9, 0.5 + 3 + 1),
    (0.5, 0.1, 0.5 - 2 - 1),  # a value at a split goes left
])
def test_trees_add_the_leaf_each_row_reaches(score, gap, raw):
    model = BoostedTrees.from_trees(("score", "gap"), [TREE, STUMP], baseline=0.5, threshold=0.5)
    assert model.probabilities(row(score=score, gap=gap))[0] == pytest.approx(sigmoid(raw))


def test_trees_read_many_rows_at_once_and_survive_json():
    model = BoostedTrees.from_trees(("score", "gap"), [TREE, STUMP], baseline=0.5, threshold=0.4)
    rows = np.array([row(score=0.2), row(score=0.9, gap=0.2), row(score=0.9, gap=0.9)])
    again = model_from_json(model.to_json())
    assert isinstance(again, BoostedTrees) and again.threshold == 0.4
    assert again.probabilities(rows).tolist() == model.probabilities(rows).tolist()
    assert model.probabilities(rows)[0] == pytest.approx(sigmoid(-2.5))


def test_a_missing_value_goes_the_way_the_tree_learnt():
    stump = {**STUMP, "missing_left": [1, 0, 0]}
    for tree, raw in ((stump, -1.0), (STUMP, 1.0)):  # without the flag, a missing value goes right
        model = BoostedTrees.from_trees(("score", "gap"), [tree], baseline=0.0, threshold=0.5)
        assert model.probabilities(row(score=0.5, gap=np.nan))[0] == pytest.approx(sigmoid(raw))


@pytest.mark.parametrize("model", [
    BoostedTrees.from_trees(("score", "gap"), [TREE, STUMP], baseline=0.5, threshold=0.4, fitted_on=("a",)),
    LogisticModel(("score",), (0.1,), (2.0,), (3.0,), -1.0, 0.6, ("a", "b")),
])
def test_the_written_text_reads_back_to_the_same_model(model):
    text = model_text(model)
    assert json.loads(text) == model.to_json()
    rows = np.array([row(score=0.2, gap=0.9), row(score=0.9, gap=0.05)])
    assert model_from_json(json.loads(text)).probabilities(rows).tolist() == model.probabilities(rows).tolist()


def test_a_file_without_a_kind_is_the_logistic_model():
    data = {"features": ["score"], "mean": [0], "scale": [1], "weights": [2], "bias": 0, "threshold": 0.5}
    model = model_from_json(data)
    assert isinstance(model, LogisticModel)
    assert model.probabilities(row(score=1.0))[0] == pytest.approx(sigmoid(2.0))


@pytest.mark.parametrize("data, message", [
    ({"kind": "forest"}, "expected one of logistic, boosted_trees"),
    ({"features": ["no_such_signal"], "mean": [0], "scale": [1], "weights": [1], "bias": 0, "threshold": 0.5},
     "refit"),
    ({"kind": "boosted_trees", "features": ["no_such_signal"], "baseline": 0, "threshold": 0.5, "trees": [STUMP]},
     "refit"),
    ({"kind": "boosted_trees", "features": ["score"], "baseline": 0, "threshold": 0.5, "trees": [STUMP]},
     "does not list"),  # the stump reads a second feature the model does not list
    ({"features": ["score", "gap"], "mean": [0], "scale": [1], "weights": [1], "bias": 0, "threshold": 0.5},
     "differ in number"),
    ({"kind": "boosted_trees", "features": ["score"], "baseline": 0, "threshold": 0.5}, "lacks a field"),
    ({"kind": "boosted_trees", "features": ["score"], "baseline": 0, "threshold": 0.5, "trees": []}, "no tree"),
    ({"kind": "boosted_trees", "features": ["score", "gap"], "baseline": 0, "threshold": 0.5,
      "trees": [{**STUMP, "left": [0, 0, 0, 0]}]}, "differ in length"),
    ({"kind": "boosted_trees", "features": ["score", "gap"], "baseline": 0, "threshold": 0.5,
      "trees": [{**STUMP, "left": [0, 0, 0], "right": [0, 0, 0], "split": [0.3, 0.0]}]}, "differ in length"),
    ({"kind": "boosted_trees", "features": ["score", "gap"], "baseline": 0, "threshold": 0.5,
      "trees": [{**STUMP, "left": [1, 1, 0], "right": [2, 1, 0]}]}, "back up it"),  # node 1 loops on itself
    ({"kind": "boosted_trees", "features": ["score", "gap"], "baseline": 0, "threshold": 0.5,
      "trees": [{**STUMP, "right": [7, 0, 0]}]}, "outside the tree"),
    ({"kind": "boosted_trees", "features": ["score", "gap"], "baseline": 0, "threshold": 0.5,
      "trees": [{**STUMP, "feature": [-1, 0, 0]}]}, "does not list"),
])
def test_a_model_for_other_code_is_refused(data, message):
    with pytest.raises(ValueError, match=message):
        model_from_json(data)


def test_scikit_learns_trees_export_to_the_same_probabilities():
    from sklearn.ensemble import HistGradientBoostingClassifier

    from rag.evaluation.train import exported

    rng = np.random.default_rng(0)
    x = rng.random((400, len(FEATURES)))
    y = (x[:, 0] + x[:, 3] * x[:, 5] > 0.8).astype(int)
    classifier = HistGradientBoostingClassifier(max_depth=3, max_iter=30, random_state=0).fit(x, y)
    model = model_from_json(exported(classifier, 0.3).to_json())
    assert model.threshold == 0.3
    assert np.abs(model.probabilities(x) - classifier.predict_proba(x)[:, 1]).max() < 1e-9


def test_a_candidate_gets_the_threshold_that_separates_its_validation_questions():
    from rag.evaluation.fit import Example
    from rag.evaluation.train import thresholded

    column = FEATURES.index("score")
    n = len(FEATURES)
    model = LogisticModel(("score",), (0.0,), (1.0,), (10.0,), -5.0, 0.5)  # probability 0.5 at score 0.5

    def example(score: float, outcome: str) -> Example:
        row = np.zeros(n)
        row[column] = score
        return Example("made-up", {}, row, outcome)

    validation = [example(0.9, "right"), example(0.8, "right"), example(0.35, "none"), example(0.2, "none")]
    candidate = thresholded("logistic", {"l2": 1.0}, model, validation)
    assert candidate.settings == {"l2": 1.0, "threshold": candidate.model.threshold}
    assert candidate.validation["made-up"] == {"answer_acc": 1.0, "false_refusal": 0.0, "refusal_unanswerable": 1.0}
    assert candidate.score == 2.0
