"""The shipped answer decision and its model card agree: the card describes the data it was trained on
as it is now, and the model, run on a fixed sample of held-out documents, gives the card's figures."""
from __future__ import annotations

import json

import numpy as np
import pytest

from rag.answering.model import MODEL_FILE, load_model
from rag.evaluation import heldout, train

CARD = json.loads(train.CARD_FILE.read_text(encoding="utf-8"))
SAMPLE = (("validation", "library-faq"), ("test", "transit-fares-faq"))
FIGURES = ("recall@1", "answer_acc", "false_refusal", "refusal_unanswerable")


def test_the_card_names_the_shipped_model_and_its_settings():
    model = load_model()
    assert CARD["model"] == MODEL_FILE.name
    assert list(model.features) == CARD["settings"]["feature_list"]
    assert model.threshold == pytest.approx(CARD["settings"]["threshold"])
    assert set(CARD["data"]) == {"train", "validation", "test"}


def test_the_card_describes_the_documents_as_they_are_now():
    documents = {d.name: d for split in (train.TRAIN, train.VALIDATION, train.TEST) for d in train.discover(split)}
    for split, recorded in CARD["data"].items():
        for name, hashes in recorded.items():
            assert documents[name].hashes(followups=split != "test") == hashes, name


def test_no_document_is_in_two_splits():
    names = [name for recorded in CARD["data"].values() for name in recorded]
    assert len(names) == len(set(names))


@pytest.mark.slow
@pytest.mark.parametrize("split, name", SAMPLE)
def test_the_shipped_model_gives_the_cards_figures_on_a_fixed_sample(tmp_path, split, name):
    from rag.embedding.embedders import create_embedder

    folders = train.VALIDATION if split == "validation" else train.TEST
    doc = next(d for d in train.discover(folders) if d.name == name)
    measured = heldout.scored(load_model(), [doc], tmp_path, create_embedder())[name]
    recorded = CARD["figures"]["chosen"][split]["documents"][name]
    for key in FIGURES:
        assert measured[key] == pytest.approx(recorded[key], abs=0.01), key


class CountingEmbedder:
    """A fake embedder: a text's length as its vector, and every text it was asked to embed."""
    name = "counting"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def embed(self, texts):
        self.asked += texts
        return [[float(len(t))] for t in texts]


def test_the_training_embedder_embeds_each_text_once_and_lends_the_rest():
    inner = CountingEmbedder()
    embedder = heldout.RememberingEmbedder(inner)
    first = embedder.embed(["a cat", "a dog"])
    again = embedder.embed(["a dog", "a cat", "a cow"])
    assert inner.asked == ["a cat", "a dog", "a cow"]
    assert again.tolist() == [[5.0], [5.0], [5.0]] and first.tolist() == [[5.0], [5.0]]
    assert embedder.name == "counting"


def test_the_training_verifier_reads_each_pair_once(monkeypatch):
    read: list[tuple[str, str]] = []

    def logits(self, pairs):
        read.extend(pairs)
        return np.array([float(len(b)) for _, b in pairs])

    monkeypatch.setattr(heldout.Verifier, "logits", logits)
    verifier = heldout.RememberingVerifier()
    verifier.probabilities("q?", ["one", "three"])
    p = verifier.probabilities("q?", ["three", "one", "three"])
    assert read == [("q?", "one"), ("q?", "three")]
    assert p[0] == p[2] > p[1]


def test_a_stopped_run_reads_its_verifier_readings_again(monkeypatch, tmp_path):
    read: list[tuple[str, str]] = []

    def logits(self, pairs):
        read.extend(pairs)
        return np.array([float(len(b)) for _, b in pairs])

    monkeypatch.setattr(heldout.Verifier, "logits", logits)
    (tmp_path / "model.onnx").write_bytes(b"weights")
    first = heldout.RememberingVerifier()
    first.path = tmp_path / "model.onnx"
    store = first.remember_in(tmp_path)
    before = first.probabilities("q?", ["one", "three"])
    store.write_text(store.read_text() + '["q?", "fi', encoding="utf-8")  # stopped while writing
    again = heldout.RememberingVerifier()
    again.path = tmp_path / "model.onnx"
    again.remember_in(tmp_path)
    assert list(again.probabilities("q?", ["three", "one"])) == [before[1], before[0]]
    assert read == [("q?", "one"), ("q?", "three")]


def test_readings_of_another_verifier_are_not_read(tmp_path):
    verifier = heldout.RememberingVerifier()
    verifier.path = tmp_path / "model.onnx"
    verifier.path.write_bytes(b"weights")
    kept = verifier.remember_in(tmp_path)
    verifier.path.write_bytes(b"other weights")
    assert verifier.remember_in(tmp_path) != kept


@pytest.mark.parametrize("splits, shared", [
    ({"train": ["a", "b"], "validation": ["c"]}, []),
    ({"train": ["a", "b"], "validation": ["a"]}, ["a"]),  # across splits
    ({"train": ["a", "b", "b"], "validation": []}, ["b"]),  # within one split
])
def test_two_documents_of_one_name_are_found(splits, shared):
    docs = {split: [train.evaluate.SuiteDocument(n, None, None) for n in names] for split, names in splits.items()}
    assert train.shared_names(docs) == shared
