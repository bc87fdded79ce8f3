"""Answers: citations are valid and verbatim, refusals are honest, answer types are respected."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ARTICLE, EVAL, ROOT, FakeEmbedder

from rag import Pipeline, RagError
from rag.answering.citations import finalize, refusal, strip_invalid_markers
from rag.answering.evidence import Evidence
from rag.answering.extractive import ExtractiveAnswerer
from rag.answering.query import analyse
from rag.evaluation.fit import LABELLING_ANSWERER
from rag.index.folder import load_index
from rag.ingest.document import clean, mask_debris
from rag.types import Candidate, Passage, Reply, Sentence

MARK = re.compile(r"\[(\d+)\]")


@pytest.fixture
def small_pipeline(small_index: Path) -> Pipeline:
    return Pipeline(load_index(small_index), embedder=FakeEmbedder())


def assert_valid_citations(answer, raw: str) -> None:
    """Every marker points at a shown passage; every answer sentence is quoted verbatim from it."""
    shown = {p.n for p in answer.passages}
    markers = [int(n) for n in MARK.findall(answer.answer)]
    assert set(markers) <= shown
    assert answer.citations == list(dict.fromkeys(markers))
    if answer.refused:
        assert answer.citations == [] and all(p.used_sentences == [] for p in answer.passages)
        return
    assert markers, answer.answer
    by_n = {p.n: p for p in answer.passages}
    # "sentence [n] sentence [m]": each piece before a marker is text of passage n.
    for piece, n in re.findall(r"(.+?)\s*\[(\d+)\]", answer.answer):
        assert piece.strip() in by_n[int(n)].text, (piece, n)
    for p in answer.passages:
        for start, end in p.used_sentences:
            quoted = clean(mask_debris(raw[start:end]))
            assert quoted in p.text and quoted in answer.answer
        if p.n in answer.citations:
            assert p.used_sentences


# ---------------------------------------------------------------- unit: fake embedder, small document

def test_when_how_many_and_who(small_pipeline: Pipeline, small_source: Path):
    raw = small_source.read_text()
    cases = {
        "When was the Royal Tea Board founded?": "1851",
        "How many tonnes of tea does the kingdom export?": "4,000",
        "Who brought tea to Ruritania?": "Anton Vell",
        "Where is most tea sold?": "Graustark",
    }
    for question, expected in cases.items():
        answer = small_pipeline.ask(question)
        assert not answer.refused, question
        assert expected in answer.answer, (question, answer.answer)
        assert_valid_citations(answer, raw)


def test_refuses_what_the_document_does_not_cover(small_pipeline: Pipeline, small_source: Path):
    raw = small_source.read_text()
    for question in ["Who founded the Ruritanian Coffee Guild?",  # names the document lacks
                     "How many tea plantations did Elbonia have in 1920?",  # a year the document lacks
                     "What did Napoleon think of Ruritania?",  # a name the document lacks
                     "How many residents does Graustark count?"]:  # no quantity about that
        answer = small_pipeline.ask(question)
        assert answer.refused, (question, answer.answer)
        assert "does not say" in answer.answer
        assert answer.passages, "a refusal still shows the closest passages"
        assert_valid_citations(answer, raw)


def test_json_has_exactly_the_documented_fields(small_pipeline: Pipeline):
    data = small_pipeline.ask("When was the Royal Tea Board founded?").to_json()
    assert set(data) == {"question", "answer", "refused", "outcome", "citations", "passages", "timings_ms",
                         "answerer", "confidence"}
    assert 0.0 <= data["confidence"] <= 1.0
    assert isinstance(data["question"], str) and isinstance(data["answer"], str)
    assert isinstance(data["refused"], bool) and all(isinstance(n, int) for n in data["citations"])
    assert set(data["timings_ms"]) == {"retrieve", "answer", "total"}
    assert all(isinstance(v, float) for v in data["timings_ms"].values())
    assert [p["n"] for p in data["passages"]] == list(range(1, len(data["passages"]) + 1))
    for p in data["passages"]:
        assert set(p) == {"n", "chunk_id", "source", "section", "text", "start", "end", "score", "similarity",
                          "page", "last_page", "retrievers", "used_sentences", "chunk_ids",
                         "quoted_pages"}
        assert isinstance(p["start"], int) and isinstance(p["end"], int) and p["start"] < p["end"]
        assert set(p["retrievers"]) <= {"dense", "bm25"} and p["retrievers"]
        assert all(len(span) == 2 and all(isinstance(x, int) for x in span) for span in p["used_sentences"])
    json.dumps(data)  # serialisable as is


def test_stream_yields_text_then_the_answer(small_pipeline: Pipeline):
    items = list(small_pipeline.ask_stream("When was the Royal Tea Board founded?"))
    *pieces, answer = items
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces).strip() == answer.answer


@pytest.mark.parametrize("question, message", [
    ("", "Please type a question"),
    ("   \n\t ", "Please type a question"),
    ("?" * 1999, "Please type a question"),
    ("x" * 2001, "too long"),
    (None, "must be text"),
])
def test_bad_questions_get_a_clear_message(small_pipeline: Pipeline, question, message):
    with pytest.raises(RagError, match=message):
        small_pipeline.ask(question)


@pytest.mark.parametrize("question", [
    "When was the\x00 Royal\x1b[31m Tea Board\u200b founded?\x07",
    "<script>alert('x')</script> When was the Royal Tea Board founded?",
    "<img src=x onerror=alert(1)>",
    "Когда был основан Королевский чайный совет?",
    "茶叶委员会是什么时候成立的？",
    "🍵🍵🍵 ?",
    "' OR 1=1 --",
])
def test_odd_questions_get_an_answer_or_a_refusal_not_an_exception(small_pipeline: Pipeline, question):
    answer = small_pipeline.ask(question)
    refusal = answer.answer.startswith(("The document", "Questions are answered in English only", "Please "))
    assert (answer.refused and refusal) or (not answer.refused and answer.citations and answer.passages)
    assert "\x00" not in answer.question and "\x1b" not in answer.question


@pytest.mark.parametrize("question", ["Когда был основан Королевский чайный совет?", "茶叶委员会是什么时候成立的？",
                                      "¿Cuándo se fundó la Junta Real del Té?",
                                      "Quand le conseil royal du thé a-t-il été fondé ?"])
def test_a_question_not_in_english_is_told_so(small_pipeline: Pipeline, question):
    answer = small_pipeline.ask(question)
    assert answer.refused and answer.answer.startswith("Questions are answered in English only")
    assert "does not say" not in answer.answer


def test_markers_outside_the_passages_are_removed():
    passages = [Passage(1, "c1", "s", "Sec", "Alpha beta.", 0, 11, 0.5, ["dense"])]
    answer = finalize("q", Reply("Alpha beta. [1] Gamma. [9] Delta [0]."), passages)
    assert answer.answer == "Alpha beta. [1] Gamma. Delta."
    assert answer.citations == [1]
    assert strip_invalid_markers("x [2] y [1]", {1}) == "x y [1]"


ZENDA = ["The Zenda ferry crosses the lake twice a day.", "Its captain, Rudolf Rassendyll, took command in 1894.",
         "The ferry's hull was rebuilt in Strelsau.", "Tickets are sold on the quay.", "The lake freezes in January."]


def zenda_candidates() -> list[Candidate]:
    text, sentences, start = " ".join(ZENDA), [], 0
    for sentence in ZENDA:
        sentences.append(Sentence(start, start + len(sentence), sentence))
        start += len(sentence) + 1
    passage = Passage(1, "c1", "zenda.txt", "Ferry", text, 0, len(text), 0.5, ["dense"], sentences=sentences)
    return [Candidate(passage, s, {}, score=1.0 - i / 100) for i, s in enumerate(sentences)]


@pytest.mark.parametrize("bridged", [False, True])
def test_an_answer_quotes_at_most_three_sentences_its_bridge_among_them(bridged):
    ranked = zenda_candidates()
    bridge = [ranked[4]] if bridged else []
    chosen = ExtractiveAnswerer().compose(analyse("Who captains the ferry?"), Evidence(ranked[:4], chain=bridge))
    assert len(chosen) == 3 and chosen[0] == ranked[0]
    assert (ranked[4] in chosen) == bridged


@pytest.mark.parametrize("verifier, verified_join, joins", [
    (0.9, 0.7, True),  # read as answering: it joins though its ranking score is far below the best's
    (0.6, 0.7, False),  # read as doubtful: the ranking score decides, and it is too low
    (0.9, None, False),  # the verifier's reading not asked (the default)
])
def test_a_runner_up_the_verifier_reads_as_answering_joins_the_best(verifier, verified_join, joins):
    ranked = zenda_candidates()
    ranked[3] = Candidate(ranked[3].passage, ranked[3].sentence, {"verifier": verifier}, score=0.2)
    chosen = ExtractiveAnswerer(verified_join=verified_join).compose(analyse("Who captains the ferry?"),
                                                                    Evidence([ranked[0], ranked[3]]))
    assert chosen[0] == ranked[0]
    assert (ranked[3] in chosen) == joins


@pytest.mark.parametrize("verifier, neighbour_join, joins", [
    (0.4, 0.3, True),  # the sentence before the best, supported: it joins though its ranking score is low
    (0.2, 0.3, False),  # not supported enough
    (0.4, None, False),  # the neighbour's reading not asked (as the decision's labels are read)
])
def test_a_neighbour_of_the_best_sentence_joins_when_the_verifier_supports_it(verifier, neighbour_join, joins):
    ranked = zenda_candidates()
    best = Candidate(ranked[2].passage, ranked[2].sentence, {}, score=1.0)
    before = Candidate(ranked[1].passage, ranked[1].sentence, {"verifier": verifier}, score=0.2)
    far = Candidate(ranked[4].passage, ranked[4].sentence, {"verifier": verifier}, score=0.2)  # two places away
    chosen = ExtractiveAnswerer(neighbour_join=neighbour_join).compose(
        analyse("Who captains the ferry?"), Evidence([best, before, far]))
    assert chosen == ([before, best] if joins else [best])  # in reading order; the one two places away never joins


@pytest.mark.parametrize("answerer, joins", [
    (ExtractiveAnswerer(), True),  # as served: a supported neighbour joins (rule 22)
    (LABELLING_ANSWERER, False),  # as the decision's labels are read: the composition it was first fitted on
])
def test_served_answers_quote_a_supported_neighbour_and_the_decisions_labels_do_not(answerer, joins):
    ranked = zenda_candidates()
    best = Candidate(ranked[2].passage, ranked[2].sentence, {}, score=1.0)
    after = Candidate(ranked[3].passage, ranked[3].sentence, {"verifier": 0.5}, score=0.2)
    chosen = answerer.compose(analyse("Who captains the ferry?"), Evidence([best, after]))
    assert chosen == ([best, after] if joins else [best])


@pytest.mark.parametrize("per_passage, quoted", [
    (1, ["A0", "B0"]),  # one point a passage: the weaker sentence of the second passage joins the best
    (3, ["A0", "A1", "A2", "B0"]),  # as served (rule 28): the best passage's next points come first
])
def test_a_summary_takes_at_most_so_many_points_from_one_passage(per_passage, quoted):
    points = ["A0 hull rebuilt in Strelsau.", "A1 engines replaced by steam.", "A2 deck widened for carts.",
              "A3 paint turned green.", "B0 tickets sold on the quay."]
    a = [Sentence(i * 40, i * 40 + len(t), t) for i, t in enumerate(points[:4])]
    b = [Sentence(200, 200 + len(points[4]), points[4])]
    pa = Passage(1, "a", "zenda.txt", "Ferry", "", 0, 160, 0.5, ["dense"], sentences=a)
    pb = Passage(2, "b", "zenda.txt", "Lake", "", 200, 240, 0.4, ["dense"], sentences=b)
    ranked = [Candidate(pa, s, {}, score=1.0 - i / 10) for i, s in enumerate(a)] + [Candidate(pb, b[0], {}, score=0.1)]
    chosen = ExtractiveAnswerer(summary_per_passage=per_passage).compose(
        analyse("Summarise the ferry's history."), Evidence(ranked))
    assert [c.sentence.text[:2] for c in chosen] == quoted


def test_the_first_sentence_of_a_passage_has_no_neighbour_before_it():
    ranked = zenda_candidates()
    last = Candidate(ranked[4].passage, ranked[4].sentence, {"verifier": 0.9}, score=0.2)
    chosen = ExtractiveAnswerer(neighbour_join=0.3).compose(analyse("Who captains the ferry?"),
                                                            Evidence([ranked[0], last]))
    assert chosen == [ranked[0]]


# ---------------------------------------------------------------- integration: real model, the article

@pytest.mark.slow
def test_citations_are_valid_over_many_questions(real_pipeline: Pipeline):
    raw = ARTICLE.read_text(encoding="utf-8")
    questions = [json.loads(line)["question"] for path in (EVAL / "dev.jsonl", ROOT / "tests/data/questions.jsonl")
                 if path.exists() for line in path.read_text().splitlines() if line.strip()]
    # Plus one question per section title, phrased as a user would.
    questions += [f"What happened in the {c.section}?" for c in load_index(ROOT / "index").chunks[::3]]
    assert len(questions) > 40
    for question in questions:
        for k in (1, 3, 5):
            answer = real_pipeline.ask(question, k=k)
            assert len(answer.passages) <= k
            assert_valid_citations(answer, raw)
            assert answer.answer.count("[") <= 3 or answer.refused  # 1-3 sentences


@pytest.mark.slow
def test_the_example_question(real_pipeline: Pipeline):
    answer = real_pipeline.ask("When did Gorbachev visit Beijing?")
    assert not answer.refused and "May 1989" in answer.answer
    cited = answer.passages[answer.citations[0] - 1]
    assert "Gorbachev visited Beijing in May 1989" in cited.text


@pytest.mark.slow
def test_lowercase_and_punctuation_do_not_matter(real_pipeline: Pipeline):
    a = real_pipeline.ask("Who led the Mongolian guerrillas?")
    b = real_pipeline.ask("who led the mongolian guerrillas")
    c = real_pipeline.ask("“WHO led the Mongolian guerrillas???”")
    assert "Sükhbaatar" in a.answer and "Sükhbaatar" in b.answer and "Sükhbaatar" in c.answer
    # The same passages, the answer's first; the verifier reads the question mark, so the order of the
    # passages after it may differ (they are ordered by their best sentence's score, which it joins).
    assert a.passages[0].chunk_id == b.passages[0].chunk_id
    assert sorted(p.chunk_id for p in a.passages) == sorted(p.chunk_id for p in b.passages)


@pytest.mark.slow
def test_batch_keeps_order_and_count(tmp_path: Path):
    questions = ["When did Gorbachev visit Beijing?", "", "What is the capital of France?",
                 "Who led the Mongolian guerrillas?"]
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps({"question": q}) for q in questions) + "\nnot json\n{\"q\": \"x\"}\n"
                    + json.dumps({"question": "Which fighting marked the split in 1969?"}) + "\n"
                    + json.dumps({"question": "What did he say to the Chinese magazine?",
                                  "history": ["When did Gorbachev visit Beijing?"]}) + "\n"
                    + json.dumps({"question": "When did Gorbachev visit Beijing?", "k": 1}) + "\n",
                    encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "--batch", str(path), "--json"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    answers = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(answers) == 9  # a bad line gets an error line and the batch goes on
    assert "May 1989" in answers[0]["answer"]
    assert answers[1]["error"] == "line 2: Please type a question." and answers[1]["question"] == ""
    assert answers[2]["refused"] is True
    assert "Sükhbaatar" in answers[3]["answer"]
    assert answers[4]["error"] == "line 5 is not valid JSON."
    assert answers[5]["error"] == 'line 6 has no "question" field.'
    assert "border conflict" in answers[6]["answer"]  # the line after the bad ones is answered, in its place
    assert "special interest" in answers[7]["answer"]  # a line's history makes it a follow-up
    assert len(answers[8]["passages"]) == 1  # a line's own k


def test_a_batch_whose_every_line_fails_exits_1(tmp_path, capsys, small_index, fake_embedder_name):
    from rag.cli import main

    path = tmp_path / "q.jsonl"
    path.write_text("not json\n" + json.dumps({"question": ""}) + "\n")
    assert main(["ask", "--batch", str(path), "--json", "--index", str(small_index)]) == 1
    assert [json.loads(line)["error"] for line in capsys.readouterr().out.splitlines()] == [
        "line 1 is not valid JSON.", "line 2: Please type a question."]


@pytest.mark.slow
def test_cli_bad_question_is_one_line_on_stderr():
    out = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "   "], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == "error: Please type a question."
    assert "Traceback" not in out.stderr


def test_render_escapes_once_and_links_markers():
    from conftest import plain

    from rag.types import Answer, Outcome
    from rag.web.render import answer_html, escape_text

    text = "China's <b>\"bold\"</b> & *stars* [x](http://evil) #1"
    assert plain(escape_text(text)) == text  # shown exactly as written, nothing interpreted
    assert "<b>" not in escape_text(text) and "](" not in escape_text(text)
    answer = Answer("q", "It's <i>here</i>. [2]", Outcome.ANSWERED, [2], [])
    rendered = answer_html(answer)
    assert '<a href="#source-2" class="cite"' in rendered and "<i>" not in rendered
    assert plain(rendered) == "It's <i>here</i>. [2]"


@pytest.mark.parametrize("title, reason, text", [
    ("Tea", None, "The document (Tea) does not say."),
    ("", "it never mentions kilns", "The document does not say: it never mentions kilns."),
    ("6 documents", None, "The 6 documents do not say."),
    ("1,200 documents", "it never mentions kilns", "The 1,200 documents do not say: it never mentions kilns."),
])
def test_a_refusal_names_what_does_not_say(title, reason, text):
    assert refusal(title, reason).text == text + " The closest passages are shown for you to check."


@pytest.mark.parametrize("reply, outcome, heading", [
    (Reply("The quay opened in 1990. [1]"), "answered", "Sources for: q"),
    (refusal("Tea", None), "refused", "The document does not say."),
    (refusal("6 documents", None), "refused", "The document does not say."),
    (refusal("Tea", "not English"), "not_english", "Questions are answered in English only."),
])
def test_the_outcome_is_told_in_the_json_and_the_sources_heading(reply, outcome, heading):
    from rag.web.render import sources_html

    answer = finalize("q", reply, [])
    assert answer.to_json()["outcome"] == outcome
    assert answer.to_json()["refused"] is (outcome != "answered")
    assert heading in sources_html(answer)
