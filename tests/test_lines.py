"""Lines written as units (list items, steps, "Label: value" lines, table rows) and headings in any file."""
from __future__ import annotations

import pytest

from rag.ingest.document import parse
from rag.ingest.lines import line_units, table_lines


def sentences(raw: str, markdown: bool = False) -> list[str]:
    return [s.text for section in parse(raw, markdown=markdown) for s in section.sentences]


def titles(raw: str, markdown: bool = False) -> list[str]:
    return [section.title for section in parse(raw, markdown=markdown)]


@pytest.mark.parametrize("rows, lines", [
    ([["Code", "Meaning"], ["E1", "Low water"]], ["E1 | Low water (Code | Meaning)"]),
    ([["Code", "Meaning"], ["E2", ""]], ["E2 (Code | Meaning)"]),  # an empty cell is left out
    ([["", "Meaning"], ["E3", "Door open"]], ["Meaning", "E3 | Door open"]),  # no full header row
    ([["Only a header", "row"]], ["Only a header | row"]),
    ([["", ""]], []),
])
def test_table_rows_name_their_columns(rows, lines):
    assert table_lines(rows) == lines


@pytest.mark.parametrize("raw, expected", [
    ("Width: 24 cm\nHeight: 38 cm\nWeight: 4.2 kg\n", ["Width: 24 cm", "Height: 38 cm", "Weight: 4.2 kg"]),
    ("- Keep it dry.\n- Never drop it.\n", ["Keep it dry.", "Never drop it."]),
    ("1. Fill the tank.\n2. Press the button\n   until it clicks.\n",
     ["1. Fill the tank.", "2. Press the button until it clicks."]),
    ("| Code | Meaning |\n|---|---|\n| E01 | Tank empty |\n| E05 | Too hot |\n",
     ["E01 | Tank empty (Code | Meaning)", "E05 | Too hot (Code | Meaning)"]),
    ("Code\tMeaning\nE07\tPump blocked\n", ["E07 | Pump blocked (Code | Meaning)"]),
    ("Code    Meaning\nE07     Pump blocked\nE09     Sensor fault\n",
     ["E07 | Pump blocked (Code | Meaning)", "E09 | Sensor fault (Code | Meaning)"]),
])
def test_lines_written_as_units_are_sentences_of_their_own(raw, expected):
    assert sentences(raw) == expected


@pytest.mark.parametrize("raw", [
    "The ferry left at dawn and the crossing was calm, so the\nNote: passengers slept. It reached port at noon.\n",
    "The keeper lit the lamp.  It burned all night and the\nships passed safely.  By morning the oil was gone.\n",
])
def test_wrapped_prose_stays_prose(raw):
    assert line_units(raw, 0, len(raw)) is None


def test_a_table_row_keeps_the_offsets_of_its_line():
    raw = "Intro.\n\n| Code | Meaning |\n|---|---|\n| E01 | Tank empty |\n"
    row = [s for section in parse(raw) for s in section.sentences][-1]
    assert raw[row.start:row.end] == "| E01 | Tank empty |"


@pytest.mark.parametrize("raw, markdown, heading", [
    ("## 11.3 Cleaning the filter\nRinse the filter under warm water.\n", False, "11.3 Cleaning the filter"),
    ("7.4 Replacing the gasket\nLift the brew head first.\n", False, "7.4 Replacing the gasket"),
    ("# Storage\n\nKeep the unit in a dry place.\n", False, "Storage"),
    ("# Storage\nKeep the unit in a dry place.\n", True, "Storage"),
])
def test_headings_in_any_file_are_sections_never_sentences(raw, markdown, heading):
    assert titles(raw, markdown) == [heading]
    assert all(heading not in s for s in sentences(raw, markdown))


def test_a_numbered_step_is_not_a_heading():
    raw = "Before use:\n1. Unplug the machine\n2. Open the lid\n"
    assert titles(raw) == ["Introduction"]
    assert sentences(raw) == ["Before use:", "1. Unplug the machine", "2. Open the lid"]
