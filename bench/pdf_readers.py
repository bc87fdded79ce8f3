"""Which library should read PDFs: pypdf, pypdfium2 or pdfplumber (pdfminer)? Generates two 4-page PDFs with fpdf2: a
handbook (each line placed on its own: running header and footer with a date, a URL, "2/4" and "Page 2 of 4"; a
title and headings in larger bold type and a bold body-size heading; paragraphs with words hyphenated at line ends;
a bulleted list; a table; a two-column page written row by row) and a paper written as pdfTeX writes one (justified
lines, each one TJ array whose word spaces are kerning offsets, no space characters; two columns one after the
other, a 12 pt gutter). Each library's words go through the same layout rules (rag/ingest/pdf.py) and the text is
scored against the truth; then a 500-page, 20 MB PDF and a dense 500-page one are timed. The PDFs go to a
temporary folder, never into git.

    .venv/bin/python bench/pdf_readers.py [more.pdf ...] [--keep]

prints the tables and writes them to bench/pdf_readers.md, keeping its "## Conclusion"; more PDFs are timed too.
"""
from __future__ import annotations

import difflib
import io
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from rag.ingest import pdf  # noqa: E402
from rag.ingest.readers import ReadLimits, isolated, pdf_page_texts  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pdf_samples import DATE, HEADER, PAGES, PAPER_FOOT, PAPER_HEAD, URL, draw, draw_dense, paper, truth  # noqa: E402


def pypdf_pages(data: bytes) -> list[pdf.Page]:
    """pypdf gives each text run's origin, font and size but no width: a word's box is guessed, half an em a letter."""
    from pypdf import PdfReader  # each reader loads only when compared

    pages = []
    for page in PdfReader(io.BytesIO(data)).pages:
        height, words = float(page.mediabox.top), []

        def visit(text, cm, tm, font, size) -> None:
            a, b, c, d, e, f = (tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3], tm[2] * cm[0] + tm[3] *
                                cm[2], tm[2] * cm[1] + tm[3] * cm[3], tm[4] * cm[0] + tm[5] * cm[2] + cm[4],
                                tm[4] * cm[1] + tm[5] * cm[3] + cm[5])
            em = size * abs(a * d - b * c) ** 0.5 or size
            bold = pdf.BOLD_NAME.search(str((font or {}).get("/BaseFont")))
            for m in re.finditer(r"\S+", text):
                x0 = e + m.start() * 0.5 * em
                words.append(pdf.Word(m.group(), x0, x0 + len(m.group()) * 0.5 * em, height - f - 0.8 * em,
                                      height - f + 0.2 * em, em, bool(bold), len(words)))
        page.extract_text(visitor_text=visit)
        pages.append(pdf.Page(height, words))
    return pages


def pdfium_pages(data: bytes) -> list[pdf.Page]:
    import pypdfium2 as pdfium  # the bench extra: only when compared

    document = pdfium.PdfDocument(data)
    return [pdf.pdfium_words(document[i]) for i in range(len(document))]


def plumber_pages(data: bytes, limit: int | None = None) -> list[pdf.Page]:
    """pdfplumber's words; the gap that ends a word relative to the size (its default, 3 pt, glues kerned words)."""
    import pdfplumber  # the bench extra: only when compared

    with pdfplumber.open(io.BytesIO(data)) as document:
        return [pdf.Page(float(page.height), [pdf.Word(w["text"], w["x0"], w["x1"], w["top"], w["bottom"], w["size"],
                                                       bool(pdf.BOLD_NAME.search(w["fontname"])), i)
                                              for i, w in enumerate(page.extract_words(
                                                  extra_attrs=["fontname", "size"], use_text_flow=True,
                                                  x_tolerance_ratio=0.15))]) for page in document.pages[:limit]]


def today(data: bytes) -> list[str]:
    return pdf_page_texts(data, ReadLimits())


def score(got: list[str], removed, want: list[str], running: tuple[str, ...], starts: list[str],
          hyphens: tuple[str, ...] = (), rows: list[list[str]] = ()) -> list[str]:
    """Running text left, headings, column order, hyphens joined, table rows each on a line, word similarity."""
    text, flat = "\n\n".join(got), " ".join(" ".join(got).split())
    lines, heads = set(text.split("\n")), [line for page in want for line in page.split("\n") if line[:1] == "#"]
    where = [flat.find(s) for s in starts]
    return [str(removed), str(sum(text.count(s) for s in running) + len(re.findall(r"Page \d+ of|\b\d/\d\b", text))),
            f"{sum(h in lines for h in heads)}/{len(heads)}",
            "yes" if -1 not in where and where == sorted(where) else "no",
            f"{sum(w in text for w in hyphens)}/{len(hyphens)}" if hyphens else "-",
            f"{sum(any(all(c in line for c in r) for line in lines) for r in rows)}/{len(rows)}" if rows else "-",
            f"{difflib.SequenceMatcher(None, ' '.join(want).split(), text.split(), autojunk=False).ratio():.3f}"]


def seconds(read, data: bytes, repeat: int = 3) -> float:
    """The fastest of `repeat` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        read(data)
        times.append(time.perf_counter() - start)
    return min(times)


def main(args: list[str]) -> int:
    """Tables to stdout and bench/pdf_readers.md (its "## Conclusion" kept). Args: more PDFs to time; --keep."""
    import fpdf  # noqa: E401  the bench extras, only to report their versions
    import pdfplumber  # the bench extra, as above
    import pypdf  # as above
    import pypdfium2  # as above

    folder, (paper_pdf, paper_text, paper_starts) = Path(tempfile.mkdtemp(prefix="pdf-readers-")), paper()
    columns = [b[1].replace("=|", "").replace("|", " ")[:40] for b in PAGES[2][1][1] + PAGES[2][1][2]]
    docs = {"handbook": (draw(), truth(), (HEADER, DATE, URL), columns, ("clockwork", "unattended", "reading",
                                                                          "signal", "hundred"), PAGES[1][2][1][1:]),
            "paper": (paper_pdf, paper_text, (PAPER_HEAD, PAPER_FOOT), paper_starts)}
    big, files = draw([PAGES[n % 4] for n in range(500)], big=True), [Path(a) for a in args if Path(a).is_file()]
    for name, data in [("handbook", docs["handbook"][0]), ("paper", paper_pdf), ("big", big)]:
        (folder / f"{name}.pdf").write_bytes(data)
    readers = {"pypdf `extract_text` (today)": (pypdf.__version__, None, "text only", "none"),
               "pypdf + layout rules": (pypdf.__version__, pypdf_pages, "text run's origin, no width",
                                        "Tf size × matrix; bold from the font's name"),
               "pypdfium2 + layout rules": (pypdfium2.PYPDFIUM_INFO.version, pdfium_pages, "box of each character",
                                            "size × matrix; font name, weight, flags"),
               "pdfplumber + layout rules": (pdfplumber.__version__, plumber_pages, "box of each character",
                                             "size; font name")}
    speed = ["| reader | version | words, ms/page | text, ms/page | 500 pages, 20 MB: s | "
             + "".join(f"{f.name}: s | " for f in files) + "line position | font |", "|---" * (7 + len(files)) + "|"]
    quality = ["| reader | PDF | running pieces removed | running text left | headings | columns in order "
               "| hyphens joined | table rows on a line | word similarity |", "|---" * 9 + "|"]
    for name, (version, words, position, font) in readers.items():
        text, handbook = (lambda d: pdf.layout(words(d))) if words else today, docs["handbook"][0]
        total = (f"~{seconds(lambda d: pdf.layout(plumber_pages(d, 25)), big, 1) * 20:.0f} (25 pages × 20)"
                 if words is plumber_pages else f"{seconds(text, big, 1):.1f}")  # pdfplumber: pure-Python pdfminer
        speed.append(f"| {name} | {version} | {seconds(words or today, handbook) * 250:.1f} | "
                     f"{seconds(text, handbook) * 250:.1f} | {total} | "
                     + "".join(f"{seconds(text, f.read_bytes(), 1):.2f} | " for f in files) + f"{position} | {font} |")
        for doc, (data, want, running, starts, *checks) in docs.items():
            out = pdf.layout(words(data)) if words else pdf.PdfText(tuple(today(data)), "-")
            quality.append(f"| {name} | {doc} | " + " | ".join(
                score(list(out.pages), out.removed_lines, want, running, starts, *checks)) + " |")
    worker = seconds(lambda d: isolated(pdf.pdf_text, "PDF", d, folder / "big.pdf", ReadLimits()), big, 1)
    dense = draw_dense()
    dense_worker = seconds(lambda d: isolated(pdf.pdf_text, "PDF", d, folder / "dense.pdf", ReadLimits()), dense, 1)
    note = (f"The 500-page PDF: {len(big) / 1e6:.1f} MB, {sum(map(len, today(big))) / 500:,.0f} characters a page. "
            f"`rag.ingest.pdf.pdf_text` on it in its own worker process (`readers.isolated`, as a build runs it): "
            f"{worker:.1f} s. A dense 500-page PDF ({sum(map(len, today(dense))) / 500:,.0f} characters a page, 7.5 pt "
            f"type): {dense_worker:.1f} s (today's reader: {seconds(today, dense, 1):.1f} s). Best of 3 runs (the "
            f"500-page PDFs and other files: 1), one core; fpdf2 {fpdf.__version__}.")
    print("\n".join(speed + [""] + quality + ["", note]))
    if "--keep" not in args:
        shutil.rmtree(folder)
    md = Path(__file__).with_suffix(".md")
    conclusion = md.read_text(encoding="utf-8").partition("\n## Conclusion")[2] if md.exists() else "\n"
    md.write_text("\n".join(["# PDF readers", "", " ".join(__doc__.split("\n\n")[0].split()), "", *speed, "",
                             *quality, "", note, "", "## Conclusion"]) + conclusion, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
