"""The shipped answer verifier: its file is the one its card describes, it loads without PyTorch, and it
reads a question and a sentence together (made-up sentences; none is from an evaluation document)."""
from __future__ import annotations

import argparse
import itertools
import json
import shutil

import numpy as np
import pytest
from conftest import FakeEmbedder

from rag.answering.signals import VERIFIED
from rag.answering.verifier import MODEL_FOLDER, Verifier, asked_text, pair_text
from rag.evaluation import checkpoint, evaluate, pairs, train, train_verifier
from rag.evaluation.pairs import Gathered, answer_removed, gather
from rag.evaluation.train_verifier import (
    INT8_TOLERANCE,
    Schedule,
    lr_factor,
    main,
    pair_counts,
    question_figures,
    readable,
    soup_problem,
    soup_weights_problem,
    trained_on,
)

CARD = json.loads((MODEL_FOLDER / "card.json").read_text(encoding="utf-8"))

# (question, a sentence that answers it, an on-topic sentence that does not hold what is asked)
PAIRS = (
    ("When did the Quillan ferry first sail?",
     "The Quillan ferry first sailed across the estuary in 1874, carrying mail and cattle.",
     "The Quillan ferry was painted green and white, the colours of the harbour board."),
    ("Who designed the Harrowgate clock tower?",
     "The Harrowgate clock tower was designed by the engineer Mirela Vost.",
     "The Harrowgate clock tower stands 40 metres tall and is lit at night."),
    ("What does the Tarn valley Blueline card cost?",
     "The Tarn valley Blueline card costs 6 euros and is valid on every bus until midnight.",
     "The Tarn valley Blueline card can be bought from the driver or at the kiosk."),
)


def test_the_file_is_the_one_its_card_describes():
    assert evaluate.file_hash(MODEL_FOLDER / CARD["model"]) == CARD["onnx"]["sha256"]
    assert (MODEL_FOLDER / CARD["model"]).stat().st_size < 30 * 2**20


def test_the_card_records_its_data_and_figures():
    assert set(CARD["data"]) == {"train", "validation"}  # test documents are never read in training
    auc = CARD["figures"]["validation_pair_auc"]
    if CARD["settings"].get("soup_only"):
        assert set(auc) == {"soup"}  # the mean of runs trained before: no export of its own to compare with
    else:
        assert auc["int8"] >= auc["fp32"] - INT8_TOLERANCE
    served = CARD["figures"]["validation_per_question_as_shipped"][f"first_{VERIFIED}_as_served"]
    assert served["question_auc"] > 0.5  # tells the two kinds apart among the candidates it reads
    before = CARD["figures"]["shipped_before_on_the_same_validation"][f"first_{VERIFIED}_as_served"]
    # Against what it replaced, on the same pairs: as good at telling the two kinds apart and at putting gold
    # evidence first, within 0.005 on each (the soup of 2026-12-04: question AUC 0.835 against
    # 0.816, best is gold 0.7575 against 0.7582; the soup of 2026-12-05 on 192 documents: 0.836 against 0.839,
    # best is gold 0.787 against 0.772, pair AUC 0.949 against 0.936; the soup of 2026-12-06 on 360 documents:
    # 0.855 against 0.843 and 0.798 against 0.791 for the single run it was measured beside, itself 0.843 and
    # 0.791 against the 2026-12-05 soup's 0.836 and 0.787; the weighted soup of four runs of rule 17: 0.862
    # against 0.855 and 0.821 against 0.798; rule 24's soup of it and one run on 888 documents: 0.865 against
    # 0.862 and 0.830 against 0.821; rule 25's soup of that and one run on 1,008 documents: 0.873 against 0.865
    # and 0.837 against 0.830; the rules fixed before the runs allowed 0.005 less on both).
    # A verifier that reads worse than the one it replaces by more fails here.
    assert served["best_is_gold"] >= before["best_is_gold"] - 0.005
    assert served["question_auc"] >= before["question_auc"] - 0.005


def test_the_card_describes_the_documents_as_they_are_now():
    # a run may read the training documents the decision has not read yet (`--incoming`)
    folders = (train.TRAIN, evaluate.INCOMING_TRAIN, train.VALIDATION)
    documents = {d.name: d for split in folders for d in train.discover(split)}
    for split, recorded in CARD["data"].items():
        for name, hashes in recorded.items():
            # validation follow-ups are read (and hashed) by the cards that report figures on them
            followups = CARD["settings"].get("followups", False) if split == "train" else \
                "validation_followups_as_shipped" in CARD["figures"]
            assert documents[name].hashes(followups=followups) == hashes, name


@pytest.mark.parametrize("question, answer, miss", PAIRS)
def test_the_sentence_that_answers_scores_above_the_one_that_does_not(question, answer, miss):
    scores = Verifier().probabilities(question, [pair_text("History", answer), pair_text("History", miss)])
    assert scores[0] > scores[1]


@pytest.mark.parametrize("question, context, read", [
    ("When did the mill open?", "", "When did the mill open?"),
    # a follow-up's own words lead, then the turn it leans on
    ("And who built it?", "When did the granary open?", "And who built it? When did the granary open?"),
])
def test_the_verifier_reads_a_follow_up_before_its_turns(question, context, read):
    assert asked_text(question, context) == read


@pytest.mark.parametrize("texts, expected", [([], 0), (["One sentence."], 1), (["A.", "B.", "C."], 3)])
def test_one_probability_per_text(texts, expected):
    scores = Verifier().probabilities("What is it?", texts)
    assert len(scores) == expected and all(0.0 <= s <= 1.0 for s in scores)


def test_a_missing_model_is_a_clear_error(tmp_path):
    from rag.errors import RagError

    with pytest.raises(RagError, match="make train-verifier"):
        Verifier(tmp_path).probabilities("What is it?", ["One sentence."])


@pytest.mark.parametrize("sentence, answers, left", [
    # the answer goes with the preposition that introduces it
    ("The mill was rebuilt in 1874 by the miller Hanne Lund.", ["1874"], "The mill was rebuilt by the miller Hanne Lund."),
    ("The bell was cast on 3 June 1702 at the Vell foundry.", ["3 June 1702", "1702"],
     "The bell was cast at the Vell foundry."),
    # else the clause that holds it, and no leading "and"
    ("The café charges 3 crowns a cup, and the shop opens early.", ["3 crowns"], "The shop opens early."),
    # nothing left that a document would hold, or no way to take the answer out
    ("Capacity: 2 litres", ["2 litres"], None),
    ("Hanne Lund rebuilt the mill.", ["Hanne Lund"], None),
])
def test_a_slot_missing_negative_is_the_gold_sentence_without_its_answer(sentence, answers, left):
    assert answer_removed(sentence, answers) == left


# Three questions of two candidates each: 0 and 1 answerable (1's gold is its second candidate), 2 not.
GATHERED = Gathered(pairs=[("q", "s")] * 6, labels=[1, 0, 0, 1, 0, 0], question=[0, 0, 1, 1, 2, 2],
                    rank=[0, 1, 0, 1, 0, 1], trap=[False, False, False, False, True, True], hard=[])


@pytest.mark.parametrize("logits, read, question_auc, best_is_gold", [
    ([3.0, 1.0, 2.0, 0.0, -1.0, -2.0], None, 1.0, 0.5),  # the unanswerable question's best is the lowest
    ([3.0, 1.0, 0.0, 2.0, 2.5, -2.0], None, 0.5, 1.0),  # it outranks one answerable question's best
    ([3.0, 1.0, 0.0, 2.0, 2.5, -2.0], 1, 0.5, 1.0),  # first candidates only: question 1's gold is not read
    ([3.0, 1.0, 0.0, 2.0, -1.0, 2.5], 1, 1.0, 1.0),  # nor the unanswerable question's high second one
])
def test_per_question_figures_read_each_question_by_its_best_candidate(logits, read, question_auc, best_is_gold):
    figures = question_figures(np.array(logits), GATHERED, read)
    assert figures == {"question_auc": question_auc, "best_is_gold": best_is_gold}


@pytest.mark.parametrize("step, steps, schedule, factor", [
    (0, 100, Schedule.CONSTANT, 1.0),
    (99, 100, Schedule.CONSTANT, 1.0),
    (0, 100, Schedule.LINEAR, 0.1),  # warming up over the first tenth
    (9, 100, Schedule.LINEAR, 1.0),  # the full rate when the warm-up ends
    (10, 100, Schedule.LINEAR, 1.0),
    (55, 100, Schedule.LINEAR, 0.5),  # then down in a straight line
    (99, 100, Schedule.LINEAR, 1 / 90),  # to almost nothing at the last step
])
def test_the_learning_rate_follows_its_schedule(step, steps, schedule, factor):
    assert lr_factor(step, steps, schedule) == pytest.approx(factor)


class Stopped(Exception):
    """A session ending halfway through a run."""


def tiny_run() -> Gathered:
    pairs = [(q, a) for q, a, _ in PAIRS] + [(q, miss) for q, _, miss in PAIRS]
    return Gathered(pairs=pairs, labels=[1, 1, 1, 0, 0, 0], question=[0, 1, 2, 0, 1, 2], rank=[0, 0, 0, 1, 1, 1],
                    trap=[False] * 6, hard=[])


def test_a_run_stopped_halfway_ends_on_the_weights_of_one_never_stopped(tmp_path, monkeypatch, capsys):
    import torch

    settings = {"steps": 4, "batch": 4, "lr": 1e-4, "seed": 0, "schedule": Schedule.LINEAR}
    whole, _ = train_verifier.train(tiny_run(), **settings)
    save = checkpoint.save

    def stopping_save(folder, key, step, model, optimizer):
        save(folder, key, step, model, optimizer)
        raise Stopped

    monkeypatch.setattr(checkpoint, "save", stopping_save)
    with pytest.raises(Stopped):
        train_verifier.train(tiny_run(), **settings, resume_from=tmp_path / "state", save_every=2)
    monkeypatch.setattr(checkpoint, "save", save)
    capsys.readouterr()
    resumed, _ = train_verifier.train(tiny_run(), **settings, resume_from=tmp_path / "state", save_every=2)
    assert "resumed at step 2" in capsys.readouterr().err
    assert json.loads((tmp_path / "state" / "state.json").read_text())["step"] == 4
    assert all(torch.equal(a, b) for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()))


def test_a_run_started_from_kept_weights_begins_on_them(tmp_path):
    import torch

    first, _ = train_verifier.train(tiny_run(), steps=2, batch=4, lr=1e-4, seed=0, resume_from=tmp_path / "state",
                                    save_every=2)
    started, _ = train_verifier.train(tiny_run(), steps=0, batch=4, lr=1e-4, seed=0, start_from=tmp_path / "state")
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), started.state_dict().values()))


def test_a_run_from_other_weights_does_not_resume_a_run_from_the_base(tmp_path, capsys):
    train_verifier.train(tiny_run(), steps=2, batch=4, lr=1e-4, seed=0, resume_from=tmp_path / "state", save_every=2)
    shutil.copytree(tmp_path / "state", tmp_path / "start")
    capsys.readouterr()
    train_verifier.train(tiny_run(), steps=2, batch=4, lr=1e-4, seed=0, resume_from=tmp_path / "state", save_every=2,
                         start_from=tmp_path / "start")
    assert "resumed" not in capsys.readouterr().err


def test_start_from_needs_a_folder_with_weights(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--start-from", str(tmp_path)])
    assert "no model.safetensors" in capsys.readouterr().err


def test_the_command_hands_start_from_to_the_training(tmp_path, monkeypatch):
    (tmp_path / "start").mkdir()
    (tmp_path / "start" / "model.safetensors").write_bytes(b"weights")
    handed = {}

    def recording_train(data, *args, **kwargs):
        handed.update(kwargs)
        raise Stopped  # nothing to train: what reached the training is all this test reads

    monkeypatch.setattr(train_verifier, "create_embedder", lambda: None)
    monkeypatch.setattr(train_verifier, "gather", lambda *args, **kwargs: tiny_run())
    monkeypatch.setattr(train_verifier, "train", recording_train)
    with pytest.raises(Stopped):
        main(["--start-from", str(tmp_path / "start"), "--work", str(tmp_path / "work"),
              "--out", str(tmp_path / "out")])
    assert handed["start_from"] == tmp_path / "start"
    assert handed["resume_from"] == tmp_path / "work" / "verifier-checkpoint"


@pytest.mark.parametrize("start, weights, problem", [
    ("kept", True, None),
    ("kept", False, "no model.safetensors"),
    ("work/verifier-checkpoint", True, "keeps its own state"),  # the run would write over its starting point
    ("work/verifier-checkpoint.writing", True, "keeps its own state"),
])
def test_start_from_is_refused_where_it_cannot_work(tmp_path, start, weights, problem):
    (tmp_path / start).mkdir(parents=True)
    if weights:
        (tmp_path / start / "model.safetensors").write_bytes(b"weights")
    found = train_verifier.start_problem(tmp_path / start, tmp_path / "work")
    assert (found is None) if problem is None else (problem in found)


def test_a_run_from_the_base_keeps_the_key_it_had_before_start_from(tmp_path):
    data = tiny_run()
    train_verifier.train(data, steps=2, batch=4, lr=1e-4, seed=0, resume_from=tmp_path / "state", save_every=2)
    settings = {"steps": 2, "batch": 4, "lr": 1e-4, "seed": 0, "hard_share": 0.0, "trap_share": 0.0, "read": None,
                "schedule": "constant"}
    rows = itertools.chain(zip(data.pairs, data.labels, data.trap, data.rank), data.hard)
    assert json.loads((tmp_path / "state" / "state.json").read_text())["key"] == checkpoint.run_key(settings, rows)


@pytest.mark.parametrize("kept, expected", [
    (["state"], "state"),
    (["state.writing"], "state.writing"),  # stopped between removing the old state and renaming the new
    (["state", "state.writing"], "state"),  # stopped while writing the new one: the old is whole
    ([], None),
])
def test_the_last_whole_state_is_found(tmp_path, kept, expected):
    for name in kept:
        (tmp_path / name).mkdir()
        (tmp_path / name / checkpoint.STATE_FILE).write_text("{}")
    found = checkpoint.kept_state(tmp_path / "state")
    assert (found.name if found else None) == expected


def test_another_runs_checkpoint_is_not_resumed(tmp_path):
    (tmp_path / "state.json").write_text(json.dumps({"key": "another run", "step": 100}))
    assert checkpoint.resume(tmp_path, "this run", model=None, optimizer=None) == 0


def test_an_unknown_schedule_names_the_valid_ones():
    with pytest.raises(argparse.ArgumentTypeError, match="constant, linear"):
        Schedule.parse("cosine")


MADE_UP_QUESTIONS = [
    {"id": "t1", "question": "Who brought tea to Ruritania?", "answerable": True, "answer_any": ["Anton Vell"],
     "evidence": "Tea was brought to Ruritania by the merchant Anton Vell in 1802.", "type": "fact"},
    {"id": "t2", "question": "What colour is the royal teapot?", "answerable": False, "answer_any": [],
     "evidence": "", "type": "unanswerable"},
]
MADE_UP_FOLLOWUP = {"id": "f1", "history": ["Who brought tea to Ruritania?"], "question": "and in which year?",
                    "answerable": True, "answer_any": ["1802"],
                    "evidence": "Tea was brought to Ruritania by the merchant Anton Vell in 1802.", "type": "followup"}


@pytest.mark.parametrize("followups, questions, asked, followed", [
    (False, True, 2, 0),  # the document's own questions
    (True, True, 3, 1),  # and its follow-up
    (True, False, 1, 1),  # the follow-up alone, to measure follow-ups apart
])
def test_gather_reads_the_question_sets_asked_for(tmp_path, small_source, fake_embedder, followups, questions,
                                                  asked, followed):
    folder = tmp_path / "doc"
    folder.mkdir()
    (folder / "article.txt").write_text(small_source.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(q) for q in MADE_UP_QUESTIONS), encoding="utf-8")
    (folder / "followups.jsonl").write_text(json.dumps(MADE_UP_FOLLOWUP), encoding="utf-8")
    data = gather([evaluate.SuiteDocument("doc", folder / "article.txt", folder / "questions.jsonl")],
                  tmp_path / "work", fake_embedder, followups=followups, own_questions=questions)
    assert len(set(data.question)) == asked and data.followups == followed
    if followed:  # the follow-up, gathered last, has its gold sentence among its candidates
        assert any(y for y, q in zip(data.labels, data.question) if q == data.question[-1])


def made_up_document(tmp_path, small_source, questions=MADE_UP_QUESTIONS) -> evaluate.SuiteDocument:
    folder = tmp_path / "doc"
    folder.mkdir(exist_ok=True)
    (folder / "article.txt").write_text(small_source.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(q) for q in questions), encoding="utf-8")
    return evaluate.SuiteDocument("doc", folder / "article.txt", folder / "questions.jsonl")


def test_a_document_gathered_once_is_read_back_not_gathered_again(tmp_path, small_source, fake_embedder,
                                                                  monkeypatch):
    doc = made_up_document(tmp_path, small_source)
    first = gather([doc, doc], tmp_path / "work", fake_embedder)

    def never(*args):
        raise AssertionError("gathered again")
    monkeypatch.setattr(pairs, "gather_document", never)
    again = gather([doc, doc], tmp_path / "work", fake_embedder)
    assert again == first and again.questions == 4 and again.question[-1] == 3


def test_a_document_whose_questions_changed_is_gathered_again(tmp_path, small_source, fake_embedder):
    doc = made_up_document(tmp_path, small_source)
    assert gather([doc], tmp_path / "work", fake_embedder).questions == 2
    made_up_document(tmp_path, small_source, MADE_UP_QUESTIONS[:1])
    assert gather([doc], tmp_path / "work", fake_embedder).questions == 1


def test_a_document_gathered_with_other_options_is_gathered_apart(tmp_path, small_source, fake_embedder):
    doc = made_up_document(tmp_path, small_source)
    (tmp_path / "doc" / "followups.jsonl").write_text(json.dumps(MADE_UP_FOLLOWUP), encoding="utf-8")
    both = gather([doc], tmp_path / "work", fake_embedder, followups=True)  # the same files are read below
    followed = gather([doc], tmp_path / "work", fake_embedder, followups=True, own_questions=False)
    assert (both.questions, both.followups) == (3, 1) and (followed.questions, followed.followups) == (1, 1)


class FakeEmbedderWithWeights(FakeEmbedder):
    """The same vectors, under a record of weights such as the served embedder describes."""

    def __init__(self, weights_sha256: str) -> None:
        super().__init__()
        self.weights_sha256 = weights_sha256

    def describe(self) -> dict:
        return {"precision": "fp32", "weights_sha256": self.weights_sha256}


def test_a_document_gathered_with_other_weights_is_gathered_again(tmp_path, small_source, monkeypatch):
    doc = made_up_document(tmp_path, small_source)
    gather([doc], tmp_path / "work", FakeEmbedderWithWeights("aaaa"))
    gathered_again = []
    monkeypatch.setattr(pairs, "gather_document", lambda *args: gathered_again.append(1) or tiny_run())
    gather([doc], tmp_path / "work", FakeEmbedderWithWeights("aaaa"))
    assert gathered_again == []
    gather([doc], tmp_path / "work", FakeEmbedderWithWeights("bbbb"))
    assert gathered_again == [1]


def test_a_damaged_kept_file_is_gathered_again(tmp_path, small_source, fake_embedder):
    doc = made_up_document(tmp_path, small_source)
    first = gather([doc], tmp_path / "work", fake_embedder)
    [kept] = (tmp_path / "work" / "gathered").glob("*.json")
    kept.write_text('{"pairs": [["a question", "a sent', encoding="utf-8")  # a write cut short
    assert gather([doc], tmp_path / "work", fake_embedder) == first


def test_joined_documents_number_their_questions_on():
    one = Gathered(pairs=[("a", "s")], labels=[1], question=[1], rank=[0], trap=[False], hard=[], questions=2)
    two = Gathered(pairs=[("b", "s")], labels=[0], question=[0], rank=[0], trap=[True], hard=[("b", "t")],
                   followups=1, questions=1)
    both = pairs.joined([one, two])
    assert both.question == [1, 2] and both.questions == 3 and both.followups == 1 and both.hard == [("b", "t")]


def test_a_soup_of_fewer_than_two_runs_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--soup-only", "--soup-with", "one-run"])
    assert "two or more" in capsys.readouterr().err


@pytest.mark.parametrize("trained, keys", [
    (False, {"validation", "validation_positive", "validation_followups", "validation_followups_positive"}),
    (True, {"validation", "validation_positive", "validation_followups", "validation_followups_positive", "train",
            "train_positive", "train_of_unanswerable_questions", "slot_missing_negatives",
            "train_near_miss_questions", "train_followups"}),
])
def test_the_card_counts_training_pairs_only_when_a_run_was_trained(trained, keys):
    counts = pair_counts(GATHERED if trained else None, GATHERED, GATHERED)
    assert set(counts) == keys and counts["validation"] == 6 and counts["validation_positive"] == 2


@pytest.mark.parametrize("given, named", [
    (["--steps", "100", "--followups"], "drop --steps, --followups"),
    (["--incoming"], "drop --incoming"),  # which documents a run reads is a training setting too
])
def test_a_soup_only_run_refuses_training_settings(capsys, given, named):
    with pytest.raises(SystemExit):
        main(["--soup-only", "--soup-with", "a", "b", *given])
    assert f"trains nothing: {named}" in capsys.readouterr().err


@pytest.mark.parametrize("weights, runs, problem", [
    (None, 3, None),  # each run counts once
    ([2.0, 2.0, 3.0], 3, None),
    ([1.0, 1.0], 3, "needs 3 weights"),
    ([1.0, 0.0, 1.0], 3, "above zero"),
    ([2.0, -1.0], 2, "above zero"),  # taking a run out of a soup is soup.recover's business
    ([1.0], 1, "two or more runs"),
])
def test_soup_weights_are_one_positive_weight_per_run(weights, runs, problem):
    found = soup_weights_problem(weights, runs)
    assert found is None if problem is None else problem in found


def test_a_soup_only_run_counts_its_weights_against_its_runs(capsys):
    with pytest.raises(SystemExit):
        main(["--soup-only", "--soup-with", "a", "b", "--soup-weights", "1", "2", "3"])
    assert "needs 2 weights" in capsys.readouterr().err


def test_a_trained_run_is_weighed_as_one_more_run_of_its_soup(capsys):
    with pytest.raises(SystemExit):
        main(["--soup-with", "a", "--soup-weights", "1"])
    assert "needs 2 weights" in capsys.readouterr().err


def run_folder(root, name: str, card: dict | None, model: bool = True):
    folder = root / name
    folder.mkdir()
    if model:
        (folder / "model.onnx").write_bytes(b"weights")
    if card is not None:
        (folder / "card.json").write_text(json.dumps(card), encoding="utf-8")
    return folder


@pytest.mark.parametrize("model, card, soup_only, problem", [
    (True, {"base_model": {"weights_sha256": "base"}}, True, None),
    (False, {"base_model": {"weights_sha256": "base"}}, False, "holds no model.onnx"),
    (True, None, True, "holds no card.json"),
    (True, None, False, None),  # souped with a trained run, a card-less partner is recorded as such
    (True, {"base_model": {"weights_sha256": "other"}}, False, "other base weights"),
])
def test_runs_are_souped_only_when_they_can_be(tmp_path, model, card, soup_only, problem):
    folder = run_folder(tmp_path, "run", card, model)
    found = soup_problem([folder], soup_only, "base")
    assert found is None if problem is None else problem in found


@pytest.mark.parametrize("labels, trap, expected", [
    ([1, 0, 0, 0], [False, False, True, True], True),
    ([0, 0, 0, 0], [False, False, True, True], False),  # no gold evidence at all
    ([1, 0, 0, 0], [False, False, False, False], False),  # no unanswerable question
])
def test_per_question_figures_need_both_labels_and_both_kinds(labels, trap, expected):
    data = Gathered(pairs=[("q", "s")] * 4, labels=labels, question=[0, 0, 1, 1], rank=[0, 1, 0, 1], trap=trap, hard=[])
    assert readable(data) is expected


def test_a_soup_records_the_training_documents_any_of_its_runs_read():
    partners = [{"data": {"train": {"mill": {"article": "a", "questions": "q"}}}},
                {"data": {"train": {"mill": {"article": "a", "questions": "q", "followups": "f"},
                                    "ferry": {"article": "b"}}}}]
    assert trained_on(partners) == {"mill": {"article": "a", "questions": "q", "followups": "f"},
                                    "ferry": {"article": "b"}}
