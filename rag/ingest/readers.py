"""Readers by file suffix: a file's bytes -> the text that is indexed. All offsets of chunks and sentences
refer to that text; for formats whose text is extracted (PDF, HTML) the build stores it in the index
folder, so highlights and `start`/`end` stay exact. Register another format with `register_reader`."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rag.errors import SourceError


@dataclass(frozen=True)
class Extracted:
    text: str
    markdown: bool = False  # "#" headings mark its sections
    pages: tuple[int, ...] = ()  # where each page starts in `text` (PDF): page n starts at pages[n - 1]
    extracted: bool = False  # the text is not the file itself: the index keeps a copy

    def page_at(self, offset: int) -> int | None:
        if not self.pages:
            return None
        return sum(1 for start in self.pages if start <= offset) or 1


Reader = Callable[[bytes, Path], Extracted]
READERS: dict[str, Reader] = {}


def register_reader(suffixes: tuple[str, ...], reader: Reader) -> None:
    for suffix in suffixes:
        READERS[suffix.lower()] = reader


def suffixes() -> list[str]:
    return sorted(READERS)


def read(data: bytes, path: Path) -> Extracted:
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise SourceError(f"Source {path} is not a file type this reads ({', '.join(suffixes())}).")
    extracted = reader(data, path)
    if not extracted.text.strip():
        raise SourceError(f"Source {path} is empty.")
    return extracted


def decode(data: bytes, path: Path) -> str:
    if b"\x00" in data:
        raise SourceError(f"Source {path} looks like a binary file, not text.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"Source {path} is not UTF-8 text (bad byte at position {exc.start}).") from None
    return text[1:] if text.startswith("\ufeff") else text  # a BOM would shift every offset by one


def read_text(data: bytes, path: Path) -> Extracted:
    return Extracted(decode(data, path))


def read_markdown(data: bytes, path: Path) -> Extracted:
    return Extracted(decode(data, path), markdown=True)


def read_pdf(data: bytes, path: Path) -> Extracted:
    """The text layer of each page, pages apart as paragraphs; page starts kept for the source cards."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"Source {path} is not a readable PDF ({exc.__class__.__name__}).") from None
    if not any(p.strip() for p in pages):
        raise SourceError(f"Source {path} has no text layer (a scanned image?): there is nothing to index; "
                          "run it through OCR first.")
    text, starts = "", []
    for page in pages:
        if text:
            text += "\n\n"
        starts.append(len(text))
        text += page.strip()
    return Extracted(text, pages=tuple(starts), extracted=True)


HTML_SKIP = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "svg")
HTML_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote", "pre", "dd", "dt", "td", "th",
               "figcaption", "caption")


def read_html(data: bytes, path: Path) -> Extracted:
    """The page's main content as Markdown-like text: headings become sections, menus and scripts go."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(HTML_SKIP):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    blocks = []
    for element in root.find_all(HTML_BLOCKS):
        if element.find_parent(HTML_BLOCKS):  # a <p> inside an <li> is read with its <li>
            continue
        words = re.sub(r"\s+", " ", element.get_text(" ")).strip()
        if words:
            level = int(element.name[1]) if re.fullmatch(r"h[1-6]", element.name) else 0
            blocks.append(f"{'#' * level} {words}" if level else words)
    title = soup.title.get_text(" ").strip() if soup.title else ""
    if title and (not blocks or not blocks[0].startswith("#")):
        blocks.insert(0, f"# {title}")
    return Extracted("\n\n".join(blocks) + "\n", markdown=True, extracted=True)


register_reader((".txt", ".text"), read_text)
register_reader((".md", ".markdown"), read_markdown)
register_reader((".pdf",), read_pdf)
register_reader((".html", ".htm"), read_html)
