"""Readers by suffix: text, Markdown, PDF (page numbers), HTML (main content, headings as sections)."""
from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pytest
from conftest import FakeEmbedder

from rag.errors import SourceError
from rag.index.build import build_index
from rag.index.folder import load_index
from rag.ingest import readers
from rag.ingest.document import clean, mask_debris


def make_pdf(pages: list[str]) -> bytes:
    """A minimal PDF with one line of Helvetica text a page (an empty string: a page with no text layer)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET" if text else ""
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
        content = len(objects)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
                       "/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def make_docx() -> bytes:
    """A Word file with a title, two headings, a bulleted list, a numbered list and a table."""
    import io

    import docx

    document = docx.Document()
    document.add_heading("Harbour pump manual", level=0)
    document.add_heading("Starting the pump", level=1)
    document.add_paragraph("Open the inlet valve before starting the pump.")
    document.add_paragraph("Check the oil level.", style="List Bullet")
    document.add_paragraph("Press the green button.", style="List Number")
    document.add_heading("Fault codes", level=2)
    table = document.add_table(rows=3, cols=3)
    for row, cells in zip(table.rows, [("Code", "Meaning", "Remedy"), ("P07", "Inlet blocked", "Clear the grille"),
                                        ("P12", "Motor too hot", "Let it cool for an hour")]):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


HTML = b"""<html><head><title>Kettle guide</title><script>var tracking = 1;</script></head>
<body><nav><a href="/">Home</a> | <a href="/shop">Shop</a></nav>
<main><h1>Kettle guide</h1><p>Fill the kettle with fresh water every morning.</p>
<h2>Descaling</h2><p>Descale the kettle using citric acid once a month.</p><ul><li>Rinse it twice.</li></ul></main>
<footer>Copyright 2026</footer></body></html>"""


@pytest.mark.parametrize("name, data, text, markdown, pages", [
    ("a.txt", b"\xef\xbb\xbfPlain text here.", "Plain text here.", False, ()),  # the BOM goes, offsets hold
    ("a.md", b"# Title\n\nBody text.", "# Title\n\nBody text.", True, ()),
    ("a.txt", "Ünïcode notes.".encode("utf-16"), "Ünïcode notes.", False, ()),  # Windows' "Unicode"
    ("a.md", b"\xfe\xff" + "# Title\n\nBody.".encode("utf-16-be"), "# Title\n\nBody.", True, ()),
    ("a.pdf", make_pdf(["First page text.", "Second page text."]), "First page text.\n\nSecond page text.",
     True, (0, 18)),  # "#" headings, from font size and weight (rag.ingest.pdf)
    ("a.html", HTML, "# Kettle guide\n\nFill the kettle with fresh water every morning.\n\n## Descaling\n\n"
                     "Descale the kettle using citric acid once a month.\n\nRinse it twice.\n", True, ()),
    ("form.html", b"<html><head><title>Hall hire</title></head><body><form><h2>Rates</h2><p>A made-up rate of "
                  b"ten crowns.</p></form></body></html>", "## Rates\n\nA made-up rate of ten crowns.\n",
     True, ()),  # the whole page inside one <form>, as ASP.NET writes it
    ("div.html", b"<html><head><title>Notes</title></head><body><div>First made-up line<br>Second one</div></body>"
                 b"</html>", "# Notes\n\nFirst made-up line\n\nSecond one\n", True, ()),  # no block tags
    ("a.docx", make_docx(), "# Harbour pump manual\n\n# Starting the pump\n\nOpen the inlet valve before starting the "
                            "pump.\n\n- Check the oil level.\n\n- Press the green button.\n\n## Fault codes\n\n"
                            "P07 | Inlet blocked | Clear the grille (Code | Meaning | Remedy)\n\n"
                            "P12 | Motor too hot | Let it cool for an hour (Code | Meaning | Remedy)\n", True, ()),
])
def test_each_reader(name, data, text, markdown, pages):
    extracted = readers.read(data, Path(name))
    assert extracted.text == text and extracted.markdown is markdown and extracted.pages == pages


def locked_pdf() -> bytes:
    """A PDF that opens only with its password."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["A made-up locked page."]))))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zipped(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


@pytest.mark.parametrize("name, data, message", [
    ("scan.pdf", make_pdf(["", ""]), "has no text layer (a scanned image?)"),
    ("broken.pdf", b"%PDF-1.4 this is not really a PDF", "could not be read as a PDF: it may be damaged or cut short"),
    ("a.docx", b"PK\x03\x04", "could not be read as a Word file: it may be damaged or cut short"),
    ("other.docx", zipped({"notes.txt": "Made-up notes."}), "is a zip archive but not a Word document"),
    ("page.html", make_pdf(["A made-up page."]), "is a PDF, not an HTML page: rename it to .pdf"),
    ("saved.htm", gzip.compress(b"<p>A made-up page.</p>"), "is gzip-compressed, not an HTML page"),
    ("a.html", b"<p>A made-up\x00 page.</p>", "looks like a binary file, not an HTML page"),
    ("photo.txt", b"\x89PNG\r\n\x1a\n" + bytes(20), "is a PNG image, not text"),
    ("notes.pdf", b"Plain made-up notes.", "is text, not a PDF: rename it to .txt"),
    ("notes.docx", b"Plain made-up notes.", "is text, not a Word file: rename it to .txt"),
    ("scan.docx", make_pdf(["A made-up page."]), "is a PDF, not a Word file: rename it to .pdf"),
    ("blank.pdf", b"", "is empty"),
    ("blank.docx", b"  ", "is empty"),
    ("frames.html", b'<frameset><frame src="top.html"><frame src="main.html"></frameset>',
     "is a frameset: its text is in the pages its frames load (top.html, main.html)"),
    ("locked.pdf", locked_pdf(), "is password-protected: remove the password and add it again"),
    ("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "is an encrypted or older Office file"),
    ("a.odt", b"PK\x03\x04", "is not a file type this reads"),
    ("a.txt", b"caf\xe9 au lait", "is not UTF-8 text"),
    ("a.txt", b"\xff\xfeA\x00B", "starts like UTF-16 text but is not"),
    ("a.txt", b"a\x00b", "looks like a binary file"),
    ("a.html", b"<html><script>x()</script></html>", "is empty"),
])
def test_unreadable_files_get_a_clear_message(name, data, message):
    with pytest.raises(SourceError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        readers.read(data, Path(name))


@pytest.mark.parametrize("name, data", [
    ("notes.md", b"GIF89a is the format of the old animations.\n"),
    ("notes.txt", b"%PDF-1.7 is the version this manual describes.\n"),
])
def test_text_that_begins_like_a_binary_format_is_read(name, data):
    assert readers.read(data, Path(name)).text == data.decode()


@pytest.mark.parametrize("data, expected", [
    ('<meta charset="utf-8"><p>Crème brûlée.</p>'.encode("cp1252"), "Crème brûlée."),  # declared wrongly
    ('<meta charset="iso-8859-1"><p>Zürich.</p>'.encode("utf-8"), "Zürich."),  # saved again as UTF-8
    ('<meta charset="iso-8859-1"><p>Zürich.</p>'.encode("latin-1"), "Zürich."),  # as declared
    ('<p>Crème.</p>'.encode("cp1252"), "Crème."),  # nothing declared: what browsers assume
])
def test_an_html_page_is_read_in_the_encoding_its_bytes_fit(data, expected):
    assert readers.read(data, Path("page.html")).text.strip() == expected


@pytest.mark.parametrize("data, kept", [(b"Plain notes.", False), ("Plain notes.".encode("utf-16"), True)])
def test_the_index_keeps_a_copy_of_text_that_is_not_the_file_itself(data, kept):
    assert readers.read(data, Path("notes.txt")).extracted is kept  # offsets are into the decoded text


def test_a_word_files_text_inside_a_content_control_is_read():
    import docx
    from docx.oxml import OxmlElement

    document = docx.Document()
    document.add_paragraph("Plain made-up text.")
    wrapped = document.add_paragraph("Made-up text a template keeps in a content control.")
    control, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    wrapped._p.addprevious(control)
    control.append(content)
    content.append(wrapped._p)
    out = io.BytesIO()
    document.save(out)
    assert readers.read(out.getvalue(), Path("a.docx")).text == (
        "Plain made-up text.\n\nMade-up text a template keeps in a content control.\n")


def test_pages_of_offsets():
    extracted = readers.Extracted("one\n\ntwo\n\nthree", pages=(0, 5, 10))
    assert [extracted.page_at(o) for o in (0, 4, 5, 12)] == [1, 1, 2, 3]
    assert readers.Extracted("x").page_at(0) is None


def test_a_folder_of_pdf_html_and_markdown_is_indexed_with_pages_and_exact_offsets(tmp_path: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "manual.pdf").write_bytes(make_pdf(["The boiler starts at six in the morning.",
                                                  "The pump is serviced every spring by the caretaker."]))
    (folder / "kettle.html").write_bytes(HTML)
    (folder / "notes.md").write_text("# Notes\n\nThe garden gate sticks in winter.\n", encoding="utf-8")
    build_index(folder, tmp_path / "index", FakeEmbedder())
    index = load_index(tmp_path / "index")
    by_source = {}
    for chunk in index.chunks:
        by_source.setdefault(chunk.source, []).append(chunk)
    assert sorted(by_source) == ["kettle.html", "manual.pdf", "notes.md"]
    assert {c.section for c in by_source["kettle.html"]} == {"Kettle guide", "Descaling"}
    pump = next(c for c in by_source["manual.pdf"] if "pump" in c.text)
    assert (pump.page, pump.last_page) == (1, 2) and all(c.page is None for c in by_source["notes.md"])
    for source, chunks in by_source.items():
        stored = tmp_path / "index" / "extracted" / f"{source}.txt"
        raw = stored.read_text(encoding="utf-8") if stored.exists() else (folder / source).read_text(encoding="utf-8")
        assert (source == "notes.md") is not stored.exists()  # only extracted text is stored
        for chunk in chunks:
            for s in chunk.sentences:
                assert clean(mask_debris(raw[s.start:s.end])) == s.text


def test_a_word_files_table_row_is_found_and_quoted_alone(tmp_path: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "pump.docx").write_bytes(make_docx())
    build_index(folder, tmp_path / "index", FakeEmbedder())
    index = load_index(tmp_path / "index")
    sentences = [s.text for c in index.chunks for s in c.sentences]
    assert "P12 | Motor too hot | Let it cool for an hour (Code | Meaning | Remedy)" in sentences
    assert {c.section for c in index.chunks} >= {"Starting the pump", "Fault codes"}


def test_a_pdf_index_has_no_running_lines_and_cites_the_page_of_the_quoted_sentence(tmp_path: Path):
    from test_pdf import LAMP, make_pdf, paragraph

    from rag.pipeline import Pipeline

    running = [(56, 40, 8, "", "Gull Rock Keepers' Guild"), (56, 812, 8, "", "Printed 3 April 2026")]
    first = [(56, 70, 18, "B", "Gull Rock Light")] + paragraph(LAMP + ["The keeper climbs the tower at dusk."])
    second = paragraph(["The old fog bell was cast in Bristol in 1871 and still hangs by the door."])
    pages = [running + [(290, 812, 8, "", f"{n}/2")] + lines for n, lines in enumerate([first, second], 1)]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "light.pdf").write_bytes(make_pdf(tmp_path, pages))
    report = build_index(folder, tmp_path / "index", FakeEmbedder())
    assert "removed 6 running header, footer and page-number lines" in report.summary()
    index = load_index(tmp_path / "index")
    text = " ".join(c.text for c in index.chunks)
    assert not any(s in text for s in ("Guild", "Printed", "1/2", "2/2")) and "Gull Rock Light" not in text
    assert {c.section for c in index.chunks} == {"Gull Rock Light"}
    pages_of = {s.text: page for c in index.chunks for s, page in zip(c.sentences, c.sentence_pages)}
    assert pages_of["The old fog bell was cast in Bristol in 1871 and still hangs by the door."] == 2
    assert pages_of["The keeper climbs the tower at dusk."] == 1
    answer = Pipeline(index, FakeEmbedder(), {}).ask("Where was the fog bell cast?")
    quoted = [p for p in answer.passages if p.used_sentences]
    assert quoted and all(p.quoted_pages() == [2] for p in quoted)
