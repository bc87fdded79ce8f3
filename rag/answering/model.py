"""The learned part of the answer decision: its probability that the best candidate answers the question,
and the row it reads. Below the model's threshold the decision is a refusal.

Two kinds, each shipped as plain numbers in `answerability.json` (`make train`, `rag.evaluation.train`,
writes the one that wins on validation): a logistic model over the signals, and gradient-boosted trees
over the same row (they can read an interaction of signals, say a high verifier score on a sentence
without the asked kind, that a weighted sum cannot). `load_model` picks the kind by its name in the file.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.answering.signals import SIGNALS
from rag.types import Candidate

MODEL_FILE = Path(__file__).with_name("answerability.json")
# The verifier's (rag.answering.verifier): its probability for the best sentence, and its best over the
# `verified` top candidates; 0 when the judge has no verifier (a model that reads them needs one).
VERIFIER_FEATURES = ("verifier", "verifier_best")
FEATURES = SIGNALS + ("score", "eligible", "gap", "dense_lead") + VERIFIER_FEATURES
# What the shipped model reads: every signal. Left out in turn (`python -m rag.evaluation.fit --loo`), a
# five-signal model refused fewer unanswerable questions (0.57 against 0.77) for slightly fewer false
# refusals (0.07 against 0.11): bench/results.md has both.
DECISION_FEATURES = FEATURES


def columns_of(features: tuple[str, ...]) -> list[int]:
    """Where a model's features sit in the full decision row; a feature this code does not compute is refused."""
    unknown = sorted(set(features) - set(FEATURES))
    if unknown:
        raise ValueError(f"the model does not fit this code (features {unknown} unknown): refit it")
    return [FEATURES.index(f) for f in features]


class ReadsFeatures:
    """What both kinds share: the columns they read, so the pipeline loads the verifier only for a model
    that reads its probabilities."""
    features: tuple[str, ...]

    @property
    def reads_verifier(self) -> bool:
        return any(f in VERIFIER_FEATURES for f in self.features)


@dataclass(frozen=True)
class LogisticModel(ReadsFeatures):
    """Logistic weights over standardised `features` (a subset of FEATURES) of the best sentence, and the
    refusal threshold."""
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    fitted_on: tuple[str, ...] = ()
    kind = "logistic"

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """`rows`: full decision rows (one per question, columns in FEATURES order)."""
        z = (np.atleast_2d(rows)[:, columns_of(self.features)] - np.asarray(self.mean)) / np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.weights) + self.bias)))

    def to_json(self) -> dict:
        return {"kind": self.kind, "features": list(self.features), "mean": [round(x, 6) for x in self.mean],
                "scale": [round(x, 6) for x in self.scale], "weights": [round(x, 6) for x in self.weights],
                "bias": round(self.bias, 6), "threshold": self.threshold, "fitted_on": list(self.fitted_on)}

    @classmethod
    def from_json(cls, data: dict) -> LogisticModel:
        model = cls(tuple(data["features"]), tuple(data["mean"]), tuple(data["scale"]), tuple(data["weights"]),
                    float(data["bias"]), float(data["threshold"]), tuple(data.get("fitted_on", ())))
        columns_of(model.features)
        if not len(model.features) == len(model.mean) == len(model.scale) == len(model.weights):
            raise ValueError("the model's features and weights differ in number: refit it")
        return model


NODE_FIELDS = ("feature", "split", "left", "right", "value")


def checked_tree(tree: dict, features: int) -> dict:
    """A tree as written in the file, refused unless it can be walked: node lists of one length, children
    after their parent (so no walk loops) and inside the tree, features the model lists."""
    if not isinstance(tree, dict) or any(not isinstance(tree.get(k), list) for k in NODE_FIELDS):
        raise ValueError(f"a tree lacks one of {', '.join(NODE_FIELDS)}: refit it")
    n = len(tree["left"])
    if n == 0 or any(len(tree[k]) != n for k in NODE_FIELDS) or len(tree.get("missing_left", [0] * n)) != n:
        raise ValueError("a tree's node lists differ in length: refit it")
    for i, (left, right, feature) in enumerate(zip(tree["left"], tree["right"], tree["feature"])):
        if left == 0 and right == 0:
            continue  # a leaf
        if not (i < left < n and i < right < n):
            raise ValueError(f"a tree's node {i} points outside the tree or back up it: refit it")
        if not 0 <= feature < features:
            raise ValueError("a tree reads a feature the model does not list: refit it")
    return tree


@dataclass(frozen=True, eq=False)
class BoostedTrees(ReadsFeatures):
    """A sum of regression trees over `features`, through a sigmoid (scikit-learn's histogram gradient
    boosting, exported by `rag.evaluation.train`). Each array is trees x nodes; node 0 is a tree's root,
    an inner node sends a row left when its feature is at most `split` (a missing value, NaN, left where
    `missing_left`, as scikit-learn learnt), and a node whose `left` is 0 is a leaf holding `value`.
    Shorter trees are padded with leaves that are never reached."""
    features: tuple[str, ...]
    feature: np.ndarray
    split: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    missing_left: np.ndarray
    baseline: float
    threshold: float
    fitted_on: tuple[str, ...] = ()
    kind = "boosted_trees"

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """All trees walked at once, one level a step: a few array lookups per level, not a loop per tree."""
        x = np.atleast_2d(rows)[:, columns_of(self.features)]
        trees = np.arange(self.left.shape[0])
        row = np.arange(len(x))[:, None]
        node = np.zeros((len(x), len(trees)), dtype=np.int64)
        while (inner := self.left[trees, node] != 0).any():
            seen = x[row, self.feature[trees, node]]
            go_left = np.where(np.isnan(seen), self.missing_left[trees, node], seen <= self.split[trees, node])
            step = np.where(go_left, self.left[trees, node], self.right[trees, node])
            node = np.where(inner, step, node)
        raw = self.baseline + self.value[trees, node].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-raw))

    def to_json(self) -> dict:
        trees = []
        for t in range(self.left.shape[0]):
            n = self.size(t)
            trees.append({"feature": self.feature[t, :n].tolist(), "split": self.split[t, :n].tolist(),
                          "left": self.left[t, :n].tolist(), "right": self.right[t, :n].tolist(),
                          "value": self.value[t, :n].tolist(),
                          "missing_left": self.missing_left[t, :n].astype(int).tolist()})
        return {"kind": self.kind, "features": list(self.features), "baseline": self.baseline,
                "threshold": self.threshold, "fitted_on": list(self.fitted_on), "trees": trees}

    def size(self, tree: int) -> int:
        """Nodes the tree really has: past them, only padding."""
        return int(max(self.left[tree].max(), self.right[tree].max())) + 1

    @classmethod
    def from_trees(cls, features: tuple[str, ...], trees: list[dict], baseline: float, threshold: float,
                   fitted_on: tuple[str, ...] = ()) -> BoostedTrees:
        """`trees`: one dict of equal-length node lists (feature, split, left, right, value, and
        `missing_left`: without it, a missing value goes right) per tree."""
        columns_of(tuple(features))
        if not trees:
            raise ValueError("the model holds no tree: refit it")
        trees = [checked_tree(t, len(features)) for t in trees]
        width = max(len(t["left"]) for t in trees)

        def padded(key: str, dtype) -> np.ndarray:
            return np.array([list(t.get(key, [0] * len(t["left"]))) + [0] * (width - len(t["left"]))
                             for t in trees], dtype=dtype)

        return cls(tuple(features), padded("feature", np.int64), padded("split", float), padded("left", np.int64),
                   padded("right", np.int64), padded("value", float), padded("missing_left", bool),
                   float(baseline), float(threshold), tuple(fitted_on))

    @classmethod
    def from_json(cls, data: dict) -> BoostedTrees:
        return cls.from_trees(tuple(data["features"]), data["trees"], data["baseline"], data["threshold"],
                              tuple(data.get("fitted_on", ())))


AnswerabilityModel = LogisticModel | BoostedTrees
KINDS: dict[str, type] = {model.kind: model for model in (LogisticModel, BoostedTrees)}


def model_from_json(data: dict) -> AnswerabilityModel:
    kind = data.get("kind", "logistic")  # files written before the trees name no kind: logistic
    if kind not in KINDS:
        raise ValueError(f"unknown answer model kind {kind!r}: expected one of {', '.join(KINDS)}")
    try:
        return KINDS[kind].from_json(data)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"the {kind} model file lacks a field or has one of the wrong type ({exc}): refit it") from None


def load_model(path: Path = MODEL_FILE) -> AnswerabilityModel:
    return model_from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def model_text(model: AnswerabilityModel) -> str:
    """The model's JSON, one field a line, and a tree (if any) a line: readable, and diffs stay short."""
    data = model.to_json()
    trees = data.pop("trees", None)
    text = json.dumps(data, indent=1)
    if trees is None:
        return text + "\n"
    return text.removesuffix("\n}") + ',\n "trees": [\n' + ",\n".join(f"  {json.dumps(t)}" for t in trees) + "\n ]\n}\n"


def save_model(model: AnswerabilityModel, path: Path = MODEL_FILE) -> None:
    Path(path).write_text(model_text(model), encoding="utf-8")


def decision_row(candidates: list[Candidate]) -> np.ndarray:
    """The model's input: the best sentence's signals, its score, eligibility and leads, and the verifier's
    reading of it and of the best it verified."""
    best = candidates[0]
    gap = best.score - candidates[1].score if len(candidates) > 1 else best.score
    lead = best.signals["dense"] - float(np.mean([c.signals["dense"] for c in candidates]))
    verified = max((c.signals.get("verifier", 0.0) for c in candidates), default=0.0)
    return np.array([best.signals[f] for f in SIGNALS] + [best.score, float(best.eligible), gap, lead,
                                                          best.signals.get("verifier", 0.0), verified])
