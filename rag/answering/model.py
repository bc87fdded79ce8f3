"""The learned part of the answer decision: a logistic model over the best candidate's signals, shipped
as plain numbers in `answerability.json` (trained by `make train`, `rag.evaluation.train`), and the row it reads.
Below its threshold the decision is a refusal."""
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


@dataclass(frozen=True)
class AnswerabilityModel:
    """Logistic weights over standardised `features` (a subset of FEATURES) of the best sentence, and the
    refusal threshold."""
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    fitted_on: tuple[str, ...] = ()

    @property
    def reads_verifier(self) -> bool:
        return any(f in VERIFIER_FEATURES for f in self.features)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """`rows`: full decision rows (one per question, columns in FEATURES order)."""
        columns = [FEATURES.index(f) for f in self.features]
        z = (np.atleast_2d(rows)[:, columns] - np.asarray(self.mean)) / np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.weights) + self.bias)))

    def to_json(self) -> dict:
        return {"features": list(self.features), "mean": [round(x, 6) for x in self.mean],
                "scale": [round(x, 6) for x in self.scale], "weights": [round(x, 6) for x in self.weights],
                "bias": round(self.bias, 6), "threshold": self.threshold, "fitted_on": list(self.fitted_on)}

    @classmethod
    def from_json(cls, data: dict) -> AnswerabilityModel:
        model = cls(tuple(data["features"]), tuple(data["mean"]), tuple(data["scale"]), tuple(data["weights"]),
                    float(data["bias"]), float(data["threshold"]), tuple(data.get("fitted_on", ())))
        unknown = set(model.features) - set(FEATURES)
        if unknown or not (len(model.features) == len(model.mean) == len(model.scale) == len(model.weights)):
            raise ValueError(f"the model does not fit this code (features {sorted(unknown)} unknown): refit it")
        return model

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> AnswerabilityModel:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def decision_row(candidates: list[Candidate]) -> np.ndarray:
    """The model's input: the best sentence's signals, its score, eligibility and leads, and the verifier's
    reading of it and of the best it verified."""
    best = candidates[0]
    gap = best.score - candidates[1].score if len(candidates) > 1 else best.score
    lead = best.signals["dense"] - float(np.mean([c.signals["dense"] for c in candidates]))
    verified = max((c.signals.get("verifier", 0.0) for c in candidates), default=0.0)
    return np.array([best.signals[f] for f in SIGNALS] + [best.score, float(best.eligible), gap, lead,
                                                          best.signals.get("verifier", 0.0), verified])
