"""rag.ingest.pdf: PDFs generated with fpdf2 (each line placed where the test says), read back as Markdown-like text."""
from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF

from rag.ingest import readers
from rag.ingest.pdf import pdf_text

Line = tuple[float, float, float, str, str]  # x, baseline y from the top (points), size, style ("" or "B"), text
BODY = 10.5


def make_pdf(tmp_path: Path, pages: list[list[Line]]) -> bytes:
    """An A4 PDF with these lines in Helvetica, written in the order given."""
    doc = FPDF(unit="pt", format="A4")
    doc.core_fonts_encoding = "windows-1252"
    doc.set_auto_page_break(False)
    for lines in pages:
        doc.add_page()
        for x, y, size, style, text in lines:
            doc.set_font("helvetica", style, size)
            doc.text(x, y, text)
    path = tmp_path / "made.pdf"
    doc.output(str(path))
    return path.read_bytes()


def paragraph(lines: list[str], x: float = 56, y: float = 100, leading: float = 14) -> list[Line]:
    return [(x, y + i * leading, BODY, "", text) for i, text in enumerate(lines)]


def read(tmp_path: Path, pages: list[list[Line]], limits: readers.ReadLimits = readers.ReadLimits()):
    return pdf_text(make_pdf(tmp_path, pages), limits)


LAMP = ["The lighthouse lamp on Gull Rock turns once every twelve seconds and can be seen",
        "from the harbour wall on a clear night, and from the ferry long before it rounds the cape."]


def test_running_header_and_footer_are_removed_and_counted(tmp_path):
    pages = [[(56, 40, 8, "", "Gull Rock Lighthouse Keepers' Guild"), (56, 812, 8, "", "Printed 3 April 2026"),
              (500, 812, 8, "", f"{n}/3")] + paragraph([f"Watch {n}: " + LAMP[0], LAMP[1]]) for n in range(1, 4)]
    out = read(tmp_path, pages)
    assert [p.startswith(f"Watch {n}: The lighthouse lamp") for n, p in enumerate(out.pages, 1)] == [True] * 3
    for page in out.pages:
        assert not any(s in page for s in ("Guild", "Printed", "2026", "/3")), page
        assert page.endswith("rounds the cape."), page
    assert out.removed_lines == 9


@pytest.mark.parametrize("number", ["Page 7 of 9", "7/9", "- 7 -", "7", "Page 7", "vii"])
def test_a_lone_page_number_is_removed_without_repeating(tmp_path, number):
    out = read(tmp_path, [paragraph(LAMP) + [(290, 812, 8, "", number)]])
    assert out.pages[0] == " ".join(LAMP)
    assert out.removed_lines == 1


def test_a_line_in_the_band_on_one_page_only_is_kept(tmp_path):
    pages = [[(56, 40, 8, "", "Ferry times changed in May")] + paragraph(LAMP)] + [paragraph(LAMP)] * 2
    out = read(tmp_path, pages)
    assert out.pages[0].startswith("Ferry times changed in May")
    assert out.removed_lines == 0


@pytest.mark.parametrize("size, style, marks", [(20, "B", "#"), (14, "", "#"), (BODY, "B", "#")])
def test_a_heading_is_a_hash_line_apart_from_the_next_sentence(tmp_path, size, style, marks):
    lines = [(56, 80, size, style, "Winding the clockwork")] + paragraph(LAMP, y=80 + size + 4)
    text = read(tmp_path, [lines]).pages[0]
    assert text.split("\n\n")[:2] == [f"{marks} Winding the clockwork", " ".join(LAMP)]


def test_headings_are_ranked_by_size(tmp_path):
    lines = [(56, 60, 22, "B", "Gull Rock Light"), (56, 100, 15, "B", "The lamp room")] + paragraph(LAMP, y=130)
    lines += [(56, 180, BODY, "B", "Before the first watch")] + paragraph(LAMP, y=200)
    text = read(tmp_path, [lines]).pages[0]
    assert [b for b in text.split("\n\n") if b.startswith("#")] == [
        "# Gull Rock Light", "## The lamp room", "### Before the first watch"]


@pytest.mark.parametrize("first, second, joined", [
    ("The keeper trims the wick and polishes the descal-", "ing tank before the evening watch.", "descaling tank"),
    ("The keeper orders paraffin from the North-", "Sea depot before the winter storms arrive.", "North-Sea depot"),
    ("The logbook notes each ship by name, a well-known habit, and every well-", "known ship by its flag.",
     "every well-known ship"),
])
def test_a_word_hyphenated_at_a_line_end(tmp_path, first, second, joined):
    text = read(tmp_path, [paragraph([first, second])]).pages[0]
    assert joined in text
    assert "\n" not in text  # one paragraph


def test_pages_of_two_wide_spaced_lines_keep_each_paragraph_whole(tmp_path):
    first = ["The pump house at Gull Rock is inspected every April", "by the harbour engineer on duty."]
    second = ["The fog bell is rung every thirty seconds", "whenever the far buoy cannot be seen."]
    pages = read(tmp_path, [paragraph(first, leading=24), paragraph(second, leading=24)]).pages
    assert list(pages) == [" ".join(first), " ".join(second)]


def test_two_columns_are_read_left_column_first(tmp_path):
    left = ["The left column tells how the lamp", "is lit at dusk by the keeper on", "duty, who records the hour."]
    right = ["The right column tells how the", "fog bell is rung in thick weather", "every thirty seconds."]
    lines = [(56, 60, 16, "B", "Night duties at Gull Rock")]
    for i, (a, b) in enumerate(zip(left, right)):  # written row by row: stream order is not reading order
        lines += [(56, 100 + 14 * i, BODY, "", a), (310, 100 + 14 * i, BODY, "", b)]
    text = read(tmp_path, [lines]).pages[0]
    assert text.split("\n\n") == ["# Night duties at Gull Rock", " ".join(left), " ".join(right)]


def test_table_rows_come_out_one_per_line(tmp_path):
    rows = [("Code", "Meaning", "Remedy"), ("E05", "Water tank empty", "Refill the tank"),
            ("E12", "Grinder jammed", "Clear the burrs")]
    lines = [(56 + x, 100 + 18 * i, BODY, "", cell) for i, row in enumerate(rows) for x, cell in zip((0, 80, 240), row)]
    text = read(tmp_path, [paragraph(["The coffee machine shows a code when it stops."], y=70) + lines]).pages[0]
    assert text.split("\n\n")[1].split("\n") == [
        "| Code | Meaning | Remedy |", "|---|---|---|", "| E05 | Water tank empty | Refill the tank |",
        "| E12 | Grinder jammed | Clear the burrs |"]


@pytest.mark.parametrize("indent", [14, 30])  # a bullet close to its text, and one set apart from it
def test_bullets_become_list_items(tmp_path, indent):
    lines = [(56, 100, BODY, "", "•"), (56 + indent, 100, BODY, "", "Descale the boiler every month."),
             (56, 114, BODY, "", "•"), (56 + indent, 114, BODY, "", "Empty the drip tray after each"),
             (56 + indent, 128, BODY, "", "day of brewing.")]
    assert read(tmp_path, [lines]).pages[0].split("\n\n") == [
        "- Descale the boiler every month.", "- Empty the drip tray after each day of brewing."]


@pytest.mark.parametrize("body_angle, note_angle", [(0, 90), (90, 0), (270, 0)])
def test_the_main_text_direction_is_read_and_a_note_across_it_left_out(tmp_path, body_angle, note_angle):
    doc = FPDF(unit="pt", format="A4")
    doc.add_page()
    doc.set_font("helvetica", "", BODY)
    with doc.rotation(body_angle, 300, 400):  # a sideways page: its text runs up or down the sheet
        for i, line in enumerate(LAMP):
            doc.text(60, 400 + 14 * i, line)
    with doc.rotation(note_angle, 30, 700):
        doc.text(30, 700, "Stamped copy 2026-04-03")
    (tmp_path / "turned.pdf").write_bytes(bytes(doc.output()))
    assert pdf_text((tmp_path / "turned.pdf").read_bytes(), readers.ReadLimits()).pages == (" ".join(LAMP),)


@pytest.mark.parametrize("limits, why", [
    (readers.ReadLimits(pages=2), "has 3 pages"),
    (readers.ReadLimits(min_chars=100, max_chars=100), "more than 100 characters"),
])
def test_past_the_limits_a_pdf_is_refused(tmp_path, limits, why):
    pages = [paragraph(LAMP)] * 3
    assert len(read(tmp_path, pages).pages) == 3  # within the default limits it reads
    with pytest.raises(readers.Refused, match=why):
        read(tmp_path, pages, limits)
