"""Readers by file suffix: a file's bytes -> the text that is indexed. All offsets of chunks and sentences
refer to that text; for formats whose text is extracted (PDF, HTML) the build stores it in the index
folder, so highlights and `start`/`end` stay exact. Another format registers with `register_reader`, or from
a plugin through the "rag.readers" entry points (`rag.registry`)."""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rag.errors import SourceError
from rag.ingest import kinds
from rag.ingest.isolation import ReadLimits, Refused, isolated
from rag.ingest.lines import table_lines
from rag.ingest.pdf import pdf_text
from rag.registry import Registry


@dataclass(frozen=True)
class Extracted:
    text: str
    markdown: bool = False  # "#" headings mark its sections
    pages: tuple[int, ...] = ()  # where each page starts in `text` (PDF): page n starts at pages[n - 1]
    extracted: bool = False  # the text is not the file itself: the index keeps a copy
    removed_lines: int = 0  # running headers, footers and page numbers left out (PDF)

    def page_at(self, offset: int) -> int | None:
        if not self.pages:
            return None
        return sum(1 for start in self.pages if start <= offset) or 1


Reader = Callable[[bytes, Path], Extracted]
READERS: Registry[Reader] = Registry("file type", "rag.readers", SourceError)  # by suffix: ".pdf"


def register_reader(suffixes: tuple[str, ...], reader: Reader) -> None:
    for suffix in suffixes:
        READERS.register(suffix.lower(), reader)


def suffixes() -> list[str]:
    return sorted(READERS.names())


def read(data: bytes, path: Path) -> Extracted:
    if path.suffix.lower() not in READERS:
        raise SourceError(f"Source {path} is not a file type this reads ({', '.join(suffixes())}).")
    if not data.strip():
        raise SourceError(f"Source {path} is empty.")
    problem = kinds.mismatch(data, path.suffix.lower())
    if problem:
        raise SourceError(f"Source {path} {problem}.")
    extracted = READERS.get(path.suffix.lower())(data, path)
    if not extracted.text.strip():
        raise SourceError(f"Source {path} is empty.")
    return extracted


UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")  # the byte-order marks of UTF-16, little- and big-endian


def decode(data: bytes, path: Path) -> str:
    if b"\x00" in data:
        raise SourceError(f"Source {path} looks like a binary file, not text.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"Source {path} is not UTF-8 text (bad byte at position {exc.start}).") from None
    return text[1:] if text.startswith("\ufeff") else text  # a BOM would shift every offset by one


def decode_utf16(data: bytes, path: Path) -> str:
    """A text file saved as "Unicode" by Windows tools: UTF-16 behind its byte-order mark."""
    try:
        text = data.decode("utf-16")
    except UnicodeDecodeError:
        raise SourceError(f"Source {path} starts like UTF-16 text but is not: save it as UTF-8.") from None
    if "\x00" in text:
        raise SourceError(f"Source {path} looks like a binary file, not text.")
    return text


def read_text(data: bytes, path: Path, markdown: bool = False) -> Extracted:
    if data.startswith(UTF16_MARKS):  # its offsets are into the decoded text: the index keeps a copy
        return Extracted(decode_utf16(data, path), markdown=markdown, extracted=True)
    return Extracted(decode(data, path), markdown=markdown)


def read_markdown(data: bytes, path: Path) -> Extracted:
    return read_text(data, path, markdown=True)


def pdf_page_texts(data: bytes, limits: ReadLimits) -> list[str]:
    """pypdf's text of each page: how PDFs were read before rag.ingest.pdf, kept as bench/pdf_readers.py's
    baseline; giving up past the page count or the character budget."""
    from pypdf import PdfReader  # each reader library loads with the first file of its kind

    reader = PdfReader(io.BytesIO(data))
    if len(reader.pages) > limits.pages:
        raise Refused(f"has {len(reader.pages):,} pages, more than the {limits.pages:,} this reads")
    budget, pages = limits.chars(len(data)), []
    for page in reader.pages:
        pages.append(page.extract_text() or "")
        budget -= len(pages[-1])
        if budget < 0:
            raise Refused(f"expands to more than {limits.chars(len(data)):,} characters of text")
    return pages


def read_pdf(data: bytes, path: Path) -> Extracted:
    """Each page's text laid out by rag.ingest.pdf (headings from font size and weight as "#" lines,
    running headers and footers removed, hyphenated words joined, two columns read in order), in a
    process of its own within `ReadLimits`; page starts kept, so every citation names its sentence's page."""
    read = isolated(pdf_text, "PDF", data, path)
    if not read.pages:  # a damaged page tree (a cycle, no page objects) reads as none
        raise SourceError(f"Source {path} is not a readable PDF (no page could be read).")
    if not any(page.strip() for page in read.pages):
        raise SourceError(f"Source {path} has no text layer (a scanned image?): there is nothing to index; "
                          "run it through OCR first.")
    text, starts = "", []
    for page in read.pages:
        if text:
            text += "\n\n"
        starts.append(len(text))
        text += page.strip()
    return Extracted(text, markdown=True, pages=tuple(starts), extracted=True, removed_lines=read.removed_lines)


HTML_SKIP = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "svg")
DECLARED_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)
FRAMESET = re.compile(r"<frameset\b", re.I)
FRAME_SOURCE = re.compile(r"""<i?frame\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)""", re.I)
HTML_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote", "pre", "dd", "dt", "td", "th",
               "figcaption", "caption")


def read_html(data: bytes, path: Path) -> Extracted:
    """The page's main content as Markdown-like text, read in a process of its own within the same
    limits as a PDF: a small page of deeply nested tags can take minutes to walk."""
    return Extracted(isolated(html_text, "HTML page", data, path), markdown=True, extracted=True)


def html_text(data: bytes, limits: ReadLimits | None = None) -> str:
    """Headings become sections, menus and scripts go. A page whose text is all inside one <form> (as
    ASP.NET pages are) is read with its form; one with no block tags at all (text in <div>s and <br>
    lines) is read line by line, rather than refused as empty."""
    markup = html_markup(data)
    frames = FRAME_SOURCE.findall(markup) if FRAMESET.search(markup) else []
    if frames:
        raise Refused(f"is a frameset: its text is in the pages its frames load ({', '.join(frames[:4])}); "
                      "add those pages instead")
    blocks, title = html_blocks(markup, HTML_SKIP)
    if not blocks:
        blocks, title = html_blocks(markup, tuple(t for t in HTML_SKIP if t != "form"))
    if not blocks:
        blocks, title = html_blocks(markup, tuple(t for t in HTML_SKIP if t != "form"), by_lines=True)
    if title and (not blocks or not blocks[0].startswith("#")):
        blocks.insert(0, f"# {title}")
    return "\n\n".join(blocks) + "\n"


def html_markup(data: bytes) -> str:
    """The page's bytes as text: UTF-8 whenever they are UTF-8, whatever the page declares (an editor that
    saves a page again keeps its old <meta charset>); else the charset it declares, if its bytes fit it;
    else Windows-1252, as browsers assume. A parser's own guess replaced letters with U+FFFD unannounced."""
    if data.startswith(UTF16_MARKS):
        return data.decode("utf-16", "replace")
    if b"\x00" in data[:4096]:
        raise Refused("looks like a binary file, not an HTML page")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = DECLARED_CHARSET.search(data[:4096])
    if declared:
        try:
            return data.decode(declared.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass
    return data.decode("cp1252", "replace")


def html_blocks(markup: str, skip: tuple[str, ...], by_lines: bool = False) -> tuple[list[str], str]:
    """The main content's blocks (headings as "#" lines), or with `by_lines` its lines of text; and the
    page's title."""
    from bs4 import BeautifulSoup  # loaded with the first HTML file

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(skip):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    title = soup.title.get_text(" ").strip() if soup.title else ""
    if by_lines:
        for tag in root(["title", "head"]):
            tag.decompose()
        lines = (re.sub(r"\s+", " ", line).strip() for line in root.get_text("\n").splitlines())
        return [line for line in lines if line], title
    blocks = []
    for element in root.find_all(HTML_BLOCKS):
        if element.find_parent(HTML_BLOCKS):  # a <p> inside an <li> is read with its <li>
            continue
        words = re.sub(r"\s+", " ", element.get_text(" ")).strip()
        if words:
            level = int(element.name[1]) if re.fullmatch(r"h[1-6]", element.name) else 0
            blocks.append(f"{'#' * level} {words}" if level else words)
    return blocks, title


def read_docx(data: bytes, path: Path) -> Extracted:
    """A Word file's body as Markdown-like text, read in a process of its own (a .docx is a zip archive,
    which can expand far past its size)."""
    return Extracted(isolated(docx_text, "Word file", data, path), markdown=True, extracted=True)


def docx_text(data: bytes, limits: ReadLimits = ReadLimits()) -> str:
    """Headings ("Heading 1" ... or "Title") become sections, list paragraphs "- " items, and each table
    row a line of its own that names its columns ("Code: E05 · Meaning: ..."), so a row is found and
    quoted alone; in document order."""
    import docx  # python-docx: loaded with the first Word file
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    archive = zipfile.ZipFile(io.BytesIO(data))
    if "word/document.xml" not in archive.namelist():
        raise Refused("is a zip archive but not a Word document")
    document = docx.Document(io.BytesIO(data))
    blocks, budget = [], limits.chars(len(data))
    for child in body_elements(document.element.body):
        if child.tag.endswith("}p"):
            blocks.append(docx_paragraph(Paragraph(child, document)))
        elif child.tag.endswith("}tbl"):
            blocks += table_lines([[cell.text for cell in row.cells] for row in Table(child, document).rows])
        budget -= len(blocks[-1]) if blocks else 0
        if budget < 0:
            raise Refused(f"expands to more than {limits.chars(len(data)):,} characters of text")
    return "\n\n".join(b for b in blocks if b.strip()) + "\n"


def body_elements(element):
    """The paragraphs and tables of a Word body in order, those inside content controls (`w:sdt`, which
    company templates wrap around whole sections) included."""
    for child in element.iterchildren():
        if child.tag.endswith("}sdt"):
            for content in child.iterchildren():
                if content.tag.endswith("}sdtContent"):
                    yield from body_elements(content)
        else:
            yield child


def docx_paragraph(paragraph) -> str:
    text = re.sub(r"\s+", " ", paragraph.text).strip()
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    level = re.fullmatch(r"Heading ([1-6])", style)
    if text and (level or style == "Title"):
        return f"{'#' * (int(level.group(1)) if level else 1)} {text}"
    numbered = paragraph._p.pPr is not None and paragraph._p.pPr.numPr is not None
    if text and (style.startswith("List") or numbered):
        return f"- {text}"
    return text


register_reader((".txt", ".text"), read_text)
register_reader((".md", ".markdown"), read_markdown)
register_reader((".pdf",), read_pdf)
register_reader((".html", ".htm"), read_html)
register_reader((".docx",), read_docx)
