"""Cleaning, sections, sentences and chunks: offsets stay exact and no debris gets through."""
from __future__ import annotations

import re
import string

import pytest
from conftest import ARTICLE
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.ingest.chunking import ChunkSettings, chunk_sections, pack
from rag.ingest.document import ABBREVIATIONS, clean, mask_debris, parse, sentences_in, split_sentences

RAW = ARTICLE.read_text(encoding="utf-8")
DEBRIS = re.compile(r"\[\d+\]|\[[a-z]\]|citation needed|clarification needed|\]\s*:\s*\d")


def article_chunks():
    return chunk_sections(parse(RAW), "sino-soviet-relations.txt", ChunkSettings())


def test_every_chunk_maps_back_to_its_raw_span():
    for chunk in article_chunks():
        assert chunk.text == clean(mask_debris(RAW)[chunk.start:chunk.end])
        for s in chunk.sentences:
            assert chunk.start <= s.start < s.end <= chunk.end
            assert s.text == clean(mask_debris(RAW[s.start:s.end]))
            assert s.text in chunk.text


def test_no_citation_debris_or_back_matter_in_chunks():
    chunks = article_chunks()
    for chunk in chunks:
        assert not DEBRIS.search(chunk.text), chunk.text
        assert chunk.text.strip() and chunk.text == chunk.text.strip()
    text = " ".join(c.text for c in chunks)
    assert "Retrieved 10 January 2023" not in text and "Zhao 2022" not in text
    assert max(c.end for c in chunks) < RAW.index("See also")


def test_debris_inside_a_sentence_is_removed_cleanly():
    text = " ".join(c.text for c in article_chunks())
    assert "make the Hui hostile to China." in text
    assert "establish diplomatic relations." in text  # "[citation needed\n]." folded away
    assert "Soviet advisors were the academy's primary instructors." in text


def test_section_titles_of_the_article():
    titles = [s.title for s in parse(RAW)]
    for expected in ["Russian Civil War and Mongolia", "Sino-Soviet conflict, 1929", "Ili Rebellion",
                     "Second Sino-Japanese War and World War II", "Sino-Soviet split",
                     "Post-Mao era and stabilizing relations", "Dissolution of the Soviet Union"]:
        assert expected in titles
    # Cut-off sentence starts and photo captions are not headings.
    for not_heading in ["In 1926 KMT", "China's", "In 1976, Mao died, and in 1978, the",
                        "Mao (2nd left) visiting Stalin (2nd right) in Moscow, December 1949", "See also"]:
        assert not_heading not in titles


def test_text_before_the_first_heading_is_the_lead():
    sections = parse("Some opening words here. More of them.\n\nHistory\n\nIt began in 1900 with a long story.\n",
                     lead_title="Introduction")
    assert [s.title for s in sections] == ["Introduction", "History"]


def test_markdown_headings():
    md = "# Title\n\nLead text is here.\n\n## Early years\n\nA sentence. Another one.\n\n## References\n\n1. x\n"
    sections = parse(md, markdown=True)
    assert [(s.title, s.skipped) for s in sections] == [("Title", False), ("Early years", False), ("References", True)]
    assert [s.text for s in sections[1].sentences] == ["A sentence.", "Another one."]


@pytest.mark.parametrize("markdown, indexed, skipped", [
    # "## Notes" in the middle of a guide is text like any other; only the closing back matter is left out
    ("# Guide\n\nStart here now.\n\n## Notes\n\nKeep the lid shut.\n\n## Cleaning\n\nRinse the pot twice.\n",
     ["Guide", "Notes", "Cleaning"], []),
    ("# Guide\n\nStart here now.\n\n## See also\n\nOther guides.\n\n## References\n\n1. A book.\n",
     ["Guide"], ["See also", "References"]),
    ("# Guide\n\nStart here now.\n\n## Sources\n\nA list.\n\n## Usage\n\nPour slowly.\n",
     ["Guide", "Sources", "Usage"], []),
])
def test_only_trailing_back_matter_is_left_out(markdown, indexed, skipped):
    sections = parse(markdown, markdown=True)
    assert [s.title for s in sections if not s.skipped] == indexed
    assert [s.title for s in sections if s.skipped] == skipped


def test_sentence_splitting_keeps_abbreviations_initials_decimals_and_quotes():
    text = ('The U.S. Army met Gen. Smith and Mr. Jones at St. Petersburg. It mobilized 1.5 million men. '
            'J. R. Brown said, "We will win." Then they left.')
    sentences = [s.text for s in split_sentences(text, 0, len(text))]
    assert sentences == [
        "The U.S. Army met Gen. Smith and Mr. Jones at St. Petersburg.",
        "It mobilized 1.5 million men.",
        'J. R. Brown said, "We will win."',
        "Then they left.",
    ]


WORDS = "the ferry left the harbour at dawn and the crew counted the crates on deck "


@pytest.mark.parametrize("text, longest", [
    (WORDS * 200, 1000),  # no full stop at all, as a transcript
    ((WORDS.strip() + ", ") * 200, 1000),  # commas only
    ("x" * 2500, 1000),  # not even a space
    (WORDS * 20, 300),
])
def test_text_without_full_stops_is_cut_into_units_that_map_back(text, longest, monkeypatch):
    monkeypatch.setattr("rag.ingest.document.MAX_SENTENCE_CHARS", longest)
    sentences = split_sentences(text, 0, len(text))
    assert len(sentences) > 1 and all(len(s.text) <= longest for s in sentences)
    assert all(text[s.start:s.end] == s.text for s in sentences)
    assert "".join(s.text for s in sentences).replace(" ", "") == text.replace(" ", "")


def test_a_megabyte_without_a_full_stop_is_cut_without_running_out_of_stack():
    text = "item one two three four five six seven " * 30000
    sentences = split_sentences(text, 0, len(text))
    assert len(sentences) > 1000 and all(len(s.text) <= 1000 for s in sentences)


def test_a_comma_in_the_second_half_is_where_a_long_run_is_cut():
    text = "a" * 600 + ", " + "b" * 600
    assert [s.text for s in split_sentences(text, 0, len(text))] == ["a" * 600 + ",", "b" * 600]


def test_article_sentences_with_decimals_are_whole():
    text = " ".join(c.text for c in article_chunks())
    assert "mobilizing 1.5 million soldiers against one million Kwantung Army troops" in text


def test_chunks_respect_size_overlap_and_sections():
    chunks = article_chunks()
    settings_ = ChunkSettings()
    for a, b in zip(chunks, chunks[1:]):
        if a.section == b.section:
            assert a.sentences[-1] == b.sentences[0]  # one sentence of overlap
        else:
            assert not set(a.sentences) & set(b.sentences)
    for chunk in chunks:
        assert len(chunk.text) <= settings_.max_chars or len(chunk.sentences) == 1


# Words that are not abbreviations or initials, which by design do not end a sentence.
words = st.text(alphabet=string.ascii_lowercase, min_size=2, max_size=12).filter(lambda w: w not in ABBREVIATIONS)
sentence = st.builds(lambda ws, end: " ".join(ws).capitalize() + end,
                     st.lists(words, min_size=1, max_size=40), st.sampled_from([".", "!", "?"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(sentence, min_size=1, max_size=30), st.integers(min_value=40, max_value=800))
def test_packing_invariants(sentences, max_chars):
    text = " ".join(sentences)
    split = split_sentences(text, 0, len(text))
    assert [s.text for s in split] == sentences  # generated sentences split back exactly
    groups = pack(split, ChunkSettings(max_chars=max_chars))
    covered = [s for g in groups for s in g]
    assert set(covered) == set(split)  # nothing lost
    for g in groups:
        size = len(" ".join(s.text for s in g))
        assert size <= max_chars or len(g) == 1  # never over the limit but for one long sentence
        assert g == split[split.index(g[0]):split.index(g[0]) + len(g)]  # contiguous, whole sentences
    for a, b in zip(groups, groups[1:]):
        assert split.index(b[0]) <= split.index(a[-1]) + 1  # no gap between neighbours
        assert split.index(b[0]) > split.index(a[0])  # always moving forward


def test_a_document_titled_like_back_matter_is_still_indexed():
    sections = parse("# Notes\n\nThe garden gate sticks in winter.\n", markdown=True)
    assert [(s.title, s.skipped) for s in sections] == [("Notes", False)]


@pytest.mark.parametrize("text, expected", [
    ("Who built the mill? And when did Dr. Orla Venn leave it?", ["Who built the mill?", "And when did Dr. Orla Venn leave it?"]),
    ("The U.S. Navy bought 2.5 tons in 1911.", ["The U.S. Navy bought 2.5 tons in 1911."]),
    ("no capital after it. so one sentence", ["no capital after it. so one sentence"]),
])
def test_a_short_text_is_split_as_the_index_splits_a_document(text, expected):
    assert sentences_in(text) == expected
