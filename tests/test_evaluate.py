"""`rag eval` scoring on a tiny case computed by hand."""
from __future__ import annotations

import json
import re

import pytest

from rag.errors import RagError
from rag.evaluation import evaluate, shared_score

QUESTIONS = [
    {"id": "a", "question": "q1", "answerable": True, "answer_any": ["1851"], "evidence": "founded in 1851", "type": "numeric"},
    {"id": "b", "question": "q2", "answerable": True, "answer_any": ["Vell"], "evidence": "brought by Anton Vell", "type": "fact"},
    {"id": "c", "question": "q3", "answerable": True, "answer_any": ["barge"], "evidence": "by river barge", "type": "fact"},
    {"id": "d", "question": "q4", "answerable": False, "answer_any": [], "evidence": "", "type": "unanswerable"},
    {"id": "e", "question": "q5", "answerable": False, "answer_any": [], "evidence": "", "type": "unanswerable"},
]


def passages(*texts):
    return [{"text": t} for t in texts]


ANSWERS = [
    # evidence at rank 1, right answer
    {"answer": "It was founded in 1851. [1]", "refused": False, "passages": passages("The board was founded in 1851.[1]", "x")},
    # evidence at rank 3, wrong answer
    {"answer": "Somebody. [1]", "refused": False, "passages": passages("a", "b", "Tea was brought by Anton Vell.", "c")},
    # evidence nowhere, refused (a false refusal)
    {"answer": "The article does not say.", "refused": True, "passages": passages("a", "b")},
    # unanswerable, refused
    {"answer": "The article does not say.", "refused": True, "passages": passages("a")},
    # unanswerable, answered
    {"answer": "Something. [1]", "refused": False, "passages": passages("a")},
]


def test_metrics_by_hand():
    m = evaluate.score(QUESTIONS, ANSWERS)
    assert m["recall@1"] == round(1 / 3, 3)
    assert m["recall@3"] == round(2 / 3, 3) and m["recall@5"] == round(2 / 3, 3)
    assert m["mrr"] == round((1 + 1 / 3) / 3, 3)
    assert m["answer_acc"] == round(1 / 3, 3)
    assert m["false_refusal"] == round(1 / 3, 3)
    assert m["refusal_unanswerable"] == 0.5
    assert m["wrong"] == ["b", "c", "e"]
    assert m["by_type"]["numeric"]["answer_acc"] == 1.0
    assert m["by_type"]["fact"]["recall@3"] == 0.5
    assert m["by_type"]["unanswerable"]["refusal_unanswerable"] == 0.5


def test_evidence_matching_ignores_citation_marks_and_dashes():
    assert shared_score.covers("joint Soviet–Chinese administration[1]: 55 of the railway", "joint Soviet-Chinese administration of the railway")
    assert not shared_score.covers("completely different text", "joint Soviet-Chinese administration")


def test_latency_summary():
    assert evaluate.latency_summary([10, 20, 30, 40, 1000]) == {"median_ms": 30, "p95_ms": 1000}


def test_question_file_errors(tmp_path):
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"question": "x"}\n')
    with pytest.raises(RagError, match="answerable"):
        evaluate.load_questions(bad)
    bad.write_text("not json\n")
    with pytest.raises(RagError, match="not valid JSON"):
        evaluate.load_questions(bad)
    with pytest.raises(RagError, match="Cannot read"):
        evaluate.load_questions(tmp_path / "missing.jsonl")
    bad.write_text(json.dumps({"question": "x", "answerable": False, "history": "earlier?"}) + "\n")
    with pytest.raises(RagError, match="list of earlier questions"):
        evaluate.load_questions(bad)
    ok = tmp_path / "ok.jsonl"
    ok.write_text(json.dumps({"question": "x", "answerable": False}) + "\n")
    assert evaluate.load_questions(ok)[0]["type"] == "unanswerable"


@pytest.mark.parametrize("line, message", [
    ({"question": 42, "answerable": False}, '"question" must be text, not 42'),
    ({"question": "x", "answerable": "false"}, '"answerable" must be true or false'),
    ({"question": "x", "answerable": True, "answer_any": "99 gallons"}, '"answer_any" must be a list'),
    ({"question": "x", "answerable": True, "answer_any": ["a", 3]}, 'every item of "answer_any" must be text'),
    ({"question": "x", "answerable": True, "answer_any": ["a"], "evidence": None}, '"evidence" must be the text'),
    ({"question": "x", "answerable": True, "answer_any": ["a"], "type": ["fact"]}, '"type" must be a word'),
    ({"question": "x", "answerable": True}, 'an answerable question needs "answer_any"'),
])
def test_a_question_line_of_the_wrong_shape_names_the_field(tmp_path, line, message):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(RagError, match=f"line 1: {re.escape(message)}"):
        evaluate.load_questions(path)


def test_a_question_the_bot_cannot_take_is_told_not_only_scored(capsys):
    class Refusing:
        def ask(self, *args, **kwargs):
            raise RagError("k must be a whole number from 1 to 20.")

    answers, _ = evaluate.run(Refusing(), [{"id": "q7", "question": "Where is the kiln?"}])
    assert answers[0]["refused"] and "q7 could not be asked" in capsys.readouterr().err


def test_table_lists_wrong_answers():
    result = evaluate.report(QUESTIONS, {"hybrid": (ANSWERS, [5.0] * 5)})
    table = evaluate.format_table(result)
    assert "== hybrid ==" in table and "e: q5" in table and "median 5.0 ms" in table


class HistoryPipeline:
    """A fake pipeline that answers with the history it was given."""

    def ask(self, question, k, history=None, retrieval="hybrid"):
        class Reply:
            def to_json(self):
                return {"answer": " / ".join([*(history or []), question]), "refused": False, "passages": []}
        return Reply()


def test_a_follow_up_is_asked_with_its_history():
    questions = [{"question": "and who built it?", "history": ["When was the granary opened?"]}, {"question": "q2"}]
    answers, _ = evaluate.run(HistoryPipeline(), questions)
    assert [a["answer"] for a in answers] == ["When was the granary opened? / and who built it?", "q2"]


@pytest.mark.parametrize("asked, found", [
    (evaluate.QuestionSet.QUESTIONS, ["shipped", "mill"]),
    (evaluate.QuestionSet.FOLLOWUPS, ["shipped", "harbour"]),
])
def test_a_suite_finds_the_question_set_asked(tmp_path, asked, found):
    for name, files in {"mill": ["questions.jsonl"], "harbour": ["followups.jsonl"]}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "article.txt").write_text("Text.")
        for file in files:
            (tmp_path / name / file).write_text("")
    (tmp_path / "dev.jsonl").write_text("")
    (tmp_path / "dev-followups.jsonl").write_text("")
    docs = evaluate.discover(tmp_path, tmp_path / "shipped.txt", asked)
    assert [d.name for d in docs] == found
    assert docs[0].questions.name == asked.dev_file


def test_an_unknown_question_set_lists_the_valid_ones():
    with pytest.raises(ValueError, match="choose from questions, followups"):
        evaluate.QuestionSet("conversations")


def test_followups_without_a_suite_is_a_clear_error(capsys):
    from rag.cli import main

    assert main(["eval", "--questions", "q.jsonl", "--followups"]) == 1
    assert "give it with --suite" in capsys.readouterr().err
