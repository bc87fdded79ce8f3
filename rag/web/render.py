"""HTML for the web chat. Everything from the source or the user is escaped here, in one place."""
from __future__ import annotations

import html

from rag.answering.citations import MARKER
from rag.types import Answer, Outcome, Passage
from rag.web.status import ChatStatus

# HTML's special characters and those the chat's Markdown renderer acts on, as numeric entities, in one
# pass (escaping twice would show "&#x27;" to the reader).
_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'\\`*_[]#|~!$"})


def escape_text(text: str) -> str:
    """Source or user text for the chat: no HTML and no Markdown survives, only the characters."""
    return text.translate(_ENTITIES)


def answer_html(answer: Answer) -> str:
    """The answer text with each [n] as a link to source card n; a refusal is marked as such."""
    parts = MARKER.split(answer.answer)  # text, n, text, n, ..., text
    linked = "".join(
        escape_text(part) if i % 2 == 0 else
        f'<a href="#source-{part}" class="cite" title="Show passage {part}">[{part}]</a>'
        for i, part in enumerate(parts))
    notice = f'<div class="notice">{html.escape(answer.notice)}</div>' if answer.notice else ""
    if answer.refused:
        return f'<div class="refusal">{linked}</div>{notice}'
    return f'<div class="answer">{linked}</div>{notice}'


def sources_html(answer: Answer | None) -> str:
    """Cards for the passages of one answer, the sentences it quotes highlighted."""
    if answer is None:
        return ('<div class="sources-empty">Ask a question: the passages that support the answer '
                'appear here, the sentences used highlighted.</div>')
    heading = {
        Outcome.REFUSED: '<div class="sources-heading refused">The document does not say. Closest passages:</div>',
        Outcome.NOT_ENGLISH: '<div class="sources-heading refused">Questions are answered in English only. '
                             'Closest passages:</div>',
    }.get(answer.outcome, f'<div class="sources-heading">Sources for: {html.escape(answer.question)}</div>')
    return heading + "".join(_card(p, p.n in answer.citations) for p in answer.passages)


def pages(p: Passage) -> str:
    """The page of the quoted sentences when the answer quotes this passage, else the passage's pages."""
    quoted = p.quoted_pages()
    if quoted:
        return f" page {quoted[0]}" if len(quoted) == 1 else f" pages {', '.join(map(str, quoted))}"
    if not p.page:
        return ""
    return f" page {p.page}" if p.last_page in (None, p.page) else f" pages {p.page}–{p.last_page}"


def _card(p: Passage, cited: bool) -> str:
    used = {(start, end) for start, end in p.used_sentences}
    body = " ".join(
        f"<mark>{html.escape(s.text)}</mark>" if (s.start, s.end) in used else html.escape(s.text)
        for s in p.sentences
    ) if p.sentences else html.escape(p.text)
    found_by = " + ".join({"dense": "meaning", "bm25": "keywords"}.get(r, r) for r in p.retrievers)
    classes = "source-card cited" if cited else "source-card"
    return (f'<div class="{classes}" id="source-{p.n}" data-n="{p.n}">'
            f'<div class="card-head"><span class="card-n">[{p.n}]</span> '
            f'<span class="card-section">{html.escape(p.section)}</span></div>'
            f'<div class="card-meta">rank {p.n} · similarity {p.similarity:.2f} · found by {html.escape(found_by)} · '
            f'{html.escape(p.source)}{pages(p)} · chars {p.start}–{p.end}</div>'
            f'<div class="card-text">{body}</div></div>')


def documents_html(documents: list[tuple[str, int]]) -> str:
    """The indexed files, each with its passage count."""
    rows = "".join(f'<li><span class="doc-name">{html.escape(name)}</span> · {n} passage{"s" if n != 1 else ""}</li>'
                   for name, n in documents)
    return f'<ul class="documents">{rows}</ul>'


def status_html(status: ChatStatus) -> str:
    """The status bar: what is being served, and whether the source changed since the build."""
    parts = [f"<b>{html.escape(status.source)}</b>"]
    if status.sha256:
        parts.append(f"sha256 {html.escape(status.sha256[:12])}")
    parts += [f"{status.chunks} chunks" + html.escape(status.left_out),
              html.escape(status.index.manifest["model"]["name"].split("/")[-1]), f"built {html.escape(status.built_at)}"]
    line = " · ".join(parts)
    if status.progress is not None:
        fraction, doing = status.progress
        line += (f'<div class="status-progress"><progress max="1" value="{fraction}"></progress> '
                 f'{html.escape(doing)}</div>')
    if status.error:
        line += f'<div class="status-error">⚠ {html.escape(status.error)}</div>'
    elif status.warning:
        line += (f'<div class="status-warning">⚠ {html.escape(status.warning)}. '
                 "Press “Rebuild index” to update.</div>")
    if status.message:
        line += f'<div class="status-message">{html.escape(status.message)}</div>'
    return f'<div class="status">{line}</div>'

