"""Question analysis: one table per heuristic (answer kind, names, language, dates, quantities)."""
from __future__ import annotations

import pytest

from rag.answering.language import is_english
from rag.answering.query import analyse, answer_kind, asked_units, has_date, quantities, question_names, search_text
from rag.errors import QuestionError
from rag.text.terms import bare
from rag.types import Outcome, QuestionKind


@pytest.mark.parametrize("question, kind", [
    ("How many tractors did the kingdom supply?", "count"),
    ("What was the population of Graustark?", "count"),
    ("In what year did the kingdom open the mint?", "year"),
    ("On what date was the harbour toll abolished?", "date"),
    ("When did the queen visit Strelsau?", "when"),
    ("Who led the river pilots' strike?", "who"),
    ("Which general commanded the harbour fort?", "who"),
    ("Which city hosted the summit?", "where"),
    ("Which company built the barges?", "who"),  # a maker, a team, a party: answered by a name
    ("Which river feeds the canal?", "where"),
    ("In which state was the dam built?", "where"),
    ("What state is the boiler in?", "other"),  # a condition, not a place
    ("Why did the mayor distrust the canal company?", "why"),
    ("What caused the flood?", "why"),
    ("How did banning the tolls help the mayor?", "how"),
    ("How was the envoy received when he arrived?", "how"),  # the "when" of a clause is not about time
    ("When the river freezes, which boats stay in port?", "other"),  # a leading clause sets no kind
    ("What were the main causes of the strike?", "summary"),
    ("How did trade improve in the 1880s?", "summary"),
    ("What is the Zenda guide chiefly about?", "summary"),  # the whole document asked about
    ("In short, what does the Strelsau fee cover?", "summary"),
    ("May barges moor in short-stay berths?", "other"),  # "in short" inside a compound is no summary
    ("What language did both guilds use?", "other"),
])
def test_answer_kind(question, kind):
    assert answer_kind(question) == kind


@pytest.mark.parametrize("question, units", [
    ("How far is the lighthouse from the harbour?", {"length"}),
    ("How long did the Zenda pickers' walkout run?", {"time", "length"}),  # a duration or a length: the wording does not say
    ("How far in advance must Zenda barge pilots reserve a mooring?", {"time", "length"}),  # ahead of time, not a distance
    ("How much did the granite quay cost the Strelsau guild?", {"money", "percent"}),  # a price may be a share of another
    ("How much notice does the Zenda harbour master want?", set()),  # "how much" alone names no unit
    ("How often is the lighthouse lamp cleaned?", {"frequency", "time", "percent"}),
    ("What time does the Zenda market bell ring?", {"clock", "time"}),
    ("What time of year do the barges sail?", set()),  # a season, not a time of day
    ("Which telephone number reaches the Zenda tea guild?", {"phone"}),
    ("What share of the tea is sold abroad?", {"percent"}),
    ("Who built the quay?", set()),
])
def test_asked_units(question, units):
    assert asked_units(question) == units


@pytest.mark.parametrize("question, names", [
    ("When did Rudolf visit Strelsau?", ("rudolf", "strelsau")),
    ("Did Brian Duncan meet the delegates?", ("brian", "duncan")),  # first names, not demonyms
    ("Did the American and Vietnamese delegates meet?", ()),  # demonyms a text may write otherwise
    ("What did Rudolf's envoy say?", ("rudolf",)),  # possessive
    ("Who won? Then Flavia left.", ("flavia",)),  # "Then" opens a second sentence: not a name
    ("What did Chairman Varga say?", ("varga",)),  # titles are not names
])
def test_question_names(question, names):
    assert question_names(question) == names


@pytest.mark.parametrize("question, english", [
    ("When did Gorbachev visit Beijing?", True),
    ("Gorbachev Beijing summit", True),
    ("What is la Niña?", True),
    ("中苏关系什么时候破裂？", False),
    ("Когда был основан совет?", False),
    ("¿Cuándo visitó Gorbachov Pekín?", False),
    ("Quand est-ce que la guerre a commencé?", False),
    ("Wer war der Führer der Sowjetunion?", False),
    ("Chi ha costruito il ponte?", False),
    ("Who is Olek Varga?", True),  # names say nothing of the language
    ("When did Van der Berg die?", True),
    ("Did Sadat visit Kraków in 1975?", True),
])
def test_is_english(question, english):
    assert is_english(question) is english


@pytest.mark.parametrize("text, found", [
    ("in May 1989", True), ("on 26 April", True), ("in the 1960s", True),
    ("about 2.4 billion years ago", True), ("in the 19th century", True), ("three days later", True),
    ("on a Monday", False), ("the two countries", False),
])
def test_has_date(text, found):
    assert has_date(text) is found


@pytest.mark.parametrize("text, numbers", [
    ("about 4,000 tonnes", {"4,000"}), ("in 1969", set()), ("the two countries", set()),
    ("several hundred advisers", {"several", "hundred"}),
])
def test_quantities(text, numbers):
    assert quantities(text) == numbers


def test_a_follow_up_takes_its_topic_from_the_conversation():
    query = analyse("and what did he do in 1972?", ["Why did Nixon go to China?"])
    assert query.context == "Why did Nixon go to China?"
    assert query.years == frozenset({"1972"}) and "nixon" in query.names
    assert query.search.startswith("why did nixon go to china?")


def test_search_text_folds_case_and_punctuation():
    assert search_text("“WHO led the Mongolian guerrillas???”") == search_text("who led the mongolian guerrillas")


@pytest.mark.parametrize("question, message", [
    ("", "Please type a question"), ("x" * 2001, "too long"), (None, "must be text"),
    ("?", "Please type a question"), ("... !!", "Please type a question"), ("_", "Please type a question"),
])
def test_unusable_questions_raise_a_question_error(question, message):
    with pytest.raises(QuestionError, match=message):
        analyse(question)


@pytest.mark.parametrize("question", ["5?", "K2", "Où?"])
def test_one_letter_or_digit_is_enough_to_be_read(question):
    assert analyse(question).text == question


def test_an_earlier_question_of_punctuation_alone_is_passed_over():
    query = analyse("and what did it cost?", ["How tall is the old mill?", "???"])
    assert query.context == "How tall is the old mill?"


def test_the_analysed_kind_is_the_enum():
    assert analyse("Why did the ferry stop sailing?").kind is QuestionKind.WHY


@pytest.mark.parametrize("enum, bad, listed", [
    (QuestionKind, "colour", "count, year, date, when, who, where, why, how, summary, other"),
    (Outcome, "maybe", "answered, refused, not_english"),
])
def test_an_unknown_kind_or_outcome_names_the_valid_ones(enum, bad, listed):
    with pytest.raises(ValueError, match=f"Unknown {enum.__name__} '{bad}': choose from {listed}."):
        enum(bad)


@pytest.mark.parametrize("token, expected", [("Venn's", "Venn"), ("Venn’s", "Venn"), ("Venns", "Venns"), ("its", "its")])
def test_a_possessive_ending_is_dropped_and_case_kept(token, expected):
    assert bare(token) == expected
