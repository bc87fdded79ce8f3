"""The web chat: ask, read a cited answer, see the supporting passages, rebuild the index.

    python app.py [--host 127.0.0.1] [--port 7860] [--auth user:password] [--insecure]

Importing this module starts nothing: `build_app()` returns the gr.Blocks for tests to launch.
"""
from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import re
import shutil
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from rag.web import render
from rag.answer import Answer
from rag.answering import registry
from rag.errors import QuestionError, RagError
from rag.ingest import readers
from rag.pipeline import Pipeline, check_k
from rag.service import RagService, RebuildBusy, SourceWatcher
from rag.settings import Settings
from rag.store.index import skipped_note
from rag.web.server import create_server, serve

log = logging.getLogger("rag.app")
MAX_UPLOAD_BYTES = 20_000_000


def safe_name(name: str) -> str | None:
    """A file name that can only land inside the documents folder: no folders, no dot files, no odd
    characters; None when nothing usable is left."""
    base = re.sub(r"[^\w.\- ]", "_", Path(str(name).replace("\\", "/")).name).strip(" .")
    return base if base and not base.startswith(".") and Path(base).suffix.lower() in readers.suffixes() else None

def heading_of(service: ChatService) -> str:
    """The page heading: the served index's title, which becomes "N documents" once uploads join it."""
    return f"## Ask: {render.escape_text(service.pipeline.index.manifest.get('title') or 'the document')}"


def example_questions(index, most: int = 5, max_chars: int = 60) -> list[str]:
    """Questions from the document's own section titles, so the examples fit whatever is indexed. Each is
    at most `max_chars` long (Gradio cuts longer example text mid-word): the shorter wording is used
    for a long title, and a title too long for both is passed over."""
    titles = list(dict.fromkeys(c.section for c in index.chunks if c.section.lower() != "introduction"))
    out = []
    for title in titles:
        fitting = [q for q in (f"What does the document say about {title}?", f"What about {title}?")
                   if len(q) <= max_chars]
        if fitting:
            out.append(fitting[0])
    return out[:most] or ["What is this document about?"]


CSS = """
#sources { max-height: 78vh; overflow-y: auto !important; }  /* Gradio sets the block inline to visible */
.status { font-size: 0.85em; }
.status-warning { color: #b45309; font-weight: 600; margin-top: 4px; }
.status-error { color: #b91c1c; font-weight: 600; margin-top: 4px; }
.status-message { color: #15803d; margin-top: 4px; }
.sources-heading { font-weight: 600; margin: 4px 0 8px; }
.sources-heading.refused { color: #b45309; }
.sources-empty { color: #4b5563; padding: 8px; }
.source-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px;
               margin-bottom: 10px; transition: box-shadow 0.3s, border-color 0.3s; scroll-margin: 12px; }
.source-card.cited { border-left: 4px solid #2563eb; }
.source-card.marked { border-color: #f59e0b; box-shadow: 0 0 0 3px rgba(245, 158, 11, 0.45); }
.card-head { font-weight: 600; }
.card-n { color: #1d4ed8; }
.card-meta { font-size: 0.8em; color: #4b5563; margin: 2px 0 6px; }
.card-text mark { background: #fde68a; color: #1c1917; padding: 0 2px; border-radius: 3px; }
.refusal { border-left: 4px solid #f59e0b; padding-left: 8px; font-style: italic; }
.notice { font-size: 0.85em; color: #4b5563; margin-top: 6px; }
a.cite { text-decoration: none; font-weight: 600; color: #1d4ed8; cursor: pointer; }
/* Dark theme: the same roles in colours that keep a 4.5:1 contrast on its dark backgrounds. One
   selector per rule: Gradio's scoping of custom CSS rewrites only the first selector of a list. */
.dark .card-n { color: #93c5fd; }
.dark a.cite { color: #93c5fd; }
.dark .source-card.cited { border-left-color: #93c5fd; }
.dark .status-warning { color: #fbbf24; }
.dark .sources-heading.refused { color: #fbbf24; }
.dark .status-error { color: #fca5a5; }
.dark .status-message { color: #86efac; }
.dark .card-meta { color: #9ca3af; }
.dark .sources-empty { color: #9ca3af; }
.dark .notice { color: #9ca3af; }
"""

# Clicking [n] in an answer brings card n into view and marks it. The panel may be re-rendered by the
# same click (selecting that answer), so the mark is applied again once it has settled.
# A message is HTML (links for [n], escaped text); what a person copies, and what a screen reader is
# told, is its visible text: the answer with its [n] markers, no markup and no entities.
HEAD = """
<script>
document.addEventListener('click', function (event) {
  var link = event.target.closest && event.target.closest('a[href^="#source-"]');
  if (!link) return;
  event.preventDefault();
  var n = link.getAttribute('href').slice('#source-'.length);
  var mark = function () {
    document.querySelectorAll('.source-card.marked').forEach(function (c) { c.classList.remove('marked'); });
    var card = document.getElementById('source-' + n);
    if (card) { card.classList.add('marked'); card.scrollIntoView({behavior: 'smooth', block: 'center'}); }
  };
  mark(); setTimeout(mark, 400); setTimeout(mark, 1200);
}, true);

function ragMessageText(row) {
  var content = row && row.querySelector('.message-content');
  return content ? content.innerText.replace(/\\s+/g, ' ').trim() : '';
}

document.addEventListener('click', function (event) {
  var button = event.target.closest && event.target.closest('#chat button[aria-label="Copy message"]');
  if (!button) return;
  var holder = button.closest('.message-buttons');
  var row = holder && holder.previousElementSibling;
  if (!row || !row.classList.contains('message-row')) return;
  event.stopPropagation();  // Gradio's own handler would copy the HTML source
  var text = ragMessageText(row);
  var done = function () { button.setAttribute('title', 'Copied'); setTimeout(function () {
    button.setAttribute('title', 'Copy message'); }, 1500); };
  if (navigator.clipboard) { navigator.clipboard.writeText(text).then(done); }
}, true);

function ragPlainLabels() {
  document.querySelectorAll('#chat [data-testid="bot"], #chat [data-testid="user"]').forEach(function (m) {
    var who = m.getAttribute('data-testid') === 'bot' ? "bot's message: " : "user's message: ";
    var content = m.querySelector('.message-content');
    var label = who + (content ? content.innerText.replace(/\\s+/g, ' ').trim() : '');
    if (m.getAttribute('aria-label') !== label) m.setAttribute('aria-label', label);
  });
}
new MutationObserver(ragPlainLabels).observe(document.documentElement,
  {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['aria-label']});
</script>
"""


class ChatService:
    """The shared service behind the UI, plus what the page shows of the last rebuild."""

    def __init__(self, settings: Settings, embedder=None, answerers: dict | None = None, watch: bool = False) -> None:
        self.settings = settings
        self.message = ""  # the last rebuild's summary
        self.error = ""  # the last rebuild's error, until the next rebuild
        # A usable index is served at once, even when stale; the rebuild then runs in the background.
        self.service = RagService.start(settings, embedder, answerers, build_if_stale=False)
        if self.service.last_build is not None:
            self.message = f"Index built at start: {self.service.last_build.summary()}"
        self.background: threading.Thread | None = None
        if self.service.status().source_changed:
            self.message = "The source changed: rebuilding in the background; answers come from the previous index."
            self.background = threading.Thread(target=self.rebuild, daemon=True, name="rebuild-at-start")
            self.background.start()
        self.watcher: SourceWatcher | None = None
        if watch:
            self.watch()

    def watch(self) -> None:
        """Rebuild in the background when the source files change on disk (debounced)."""
        if self.watcher is not None:
            self.watcher.stop()
        self.watcher = SourceWatcher(self.source, self.rebuild_if_changed).start()

    def rebuild_if_changed(self) -> None:
        if not self.service.status().fresh:
            self.rebuild()
        local = self.pipeline.answerers.get("local")
        if local is not None:
            local.load_in_background()  # about a minute; the status bar says so meanwhile

    @property
    def pipeline(self) -> Pipeline:
        return self.service.pipeline

    @property
    def embedder(self):
        return self.service.embedder

    @property
    def source(self) -> Path:
        return self.service.source

    def status(self) -> dict:
        state = self.service.status()
        manifest = state.manifest
        files = manifest["source"]["files"]
        info = {
            "source": (state.source.name if state.source else "?") + (f" ({len(files)} files)" if len(files) > 1 else ""),
            "hash": files[0]["sha256"] if len(files) == 1 else "",
            "chunks": manifest["counts"]["chunks"],
            "skipped": skipped_note(manifest.get("skipped", [])),
            "model": manifest["model"]["name"].split("/")[-1],
            "built_at": manifest["built_at"].replace("T", " ").replace("+00:00", " UTC"),
            "message": self.message,
            "error": self.error,
        }
        local = self.pipeline.answerers.get("local")
        if local is not None and not local.ready:
            note = f"Local model: {local.error}" if local.error else \
                f"Loading the local model {local.model_ref} (about a minute); answers fall back to extractive until then."
            info["message"] = f"{info['message']} {note}".strip()
        if not state.fresh and not self.error:
            info["stale"] = "The source changed since the index was built" if state.source_changed else \
                "; ".join(str(r) for r in state.reasons)
        return info

    def rebuild(self) -> str:
        """Build from the source and swap it in; answers keep coming from the old index meanwhile."""
        try:
            report = self.service.rebuild()
        except RebuildBusy as exc:
            return str(exc)
        except RagError as exc:
            self.message, self.error = "", f"Rebuild failed, still serving the previous index: {exc}"
        except Exception as exc:  # never lose the working index to an unexpected error
            log.exception("rebuild failed")
            self.message, self.error = "", f"Rebuild failed ({exc.__class__.__name__}), still serving the previous index."
        else:
            self.message, self.error = f"Rebuilt: {report.summary()} (at {time.strftime('%H:%M:%S')})", ""
        return self.error or self.message

    # -- documents brought in through the chat

    def documents_folder(self) -> Path:
        """Where uploads go: the source folder, or for a single-file source `data/documents/` beside the
        index, which then becomes the source with that file as its first entry."""
        source = self.source
        return source if source.is_dir() else Path(self.settings.index_dir).parent / "data" / "documents"

    def documents(self) -> list[tuple[str, int]]:
        """(file name, chunks) of every indexed file."""
        counts: dict[str, int] = {}
        for chunk in self.pipeline.index.chunks:
            counts[chunk.source] = counts.get(chunk.source, 0) + 1
        return sorted(counts.items())

    def add_documents(self, uploads: list[Path], max_bytes: int = MAX_UPLOAD_BYTES) -> str:
        """Check each file (type, size, a readable text), copy it into the documents folder under a safe
        name, and rebuild in the background; answers keep coming meanwhile. Returns what happened."""
        folder = self.documents_folder()
        accepted, refused = [], []
        for upload in uploads:
            name = safe_name(upload.name)
            try:
                if name is None:
                    raise RagError(f"{upload.name!r} is not a usable file name.")
                if upload.stat().st_size > max_bytes:
                    raise RagError(f"{name} is larger than {max_bytes // 1_000_000} MB.")
                readers.read(upload.read_bytes(), Path(name))  # a scanned PDF or a binary file is refused now
            except (RagError, OSError) as exc:
                refused.append(str(exc).rstrip("."))
                continue
            accepted.append((upload, name))
        if accepted:
            source = self.source
            folder.mkdir(parents=True, exist_ok=True)
            if not source.is_dir() and not (folder / source.name).exists():
                shutil.copy2(source, folder / source.name)  # the document served so far stays in
            for upload, name in accepted:
                shutil.copyfile(upload, folder / name)
            self.settings.source_or_none = folder
            self.rebuild_in_background()
            if self.watcher is not None:
                self.watch()  # the source may now be the documents folder
        parts = [f"Added {', '.join(n for _, n in accepted)}; updating the index." if accepted else ""]
        parts += [f"Not added: {reason}." for reason in refused]
        return " ".join(p for p in parts if p) or "No file was given."

    def remove_document(self, name: str) -> str:
        folder = self.documents_folder()
        files = {p.name: p for p in folder.glob("*") if p.is_file()} if folder.is_dir() else {}
        if name not in files:
            return f"{name} is not among the documents."
        if len(files) == 1:
            return "The last document cannot be removed: add another first."
        files[name].unlink()
        self.settings.source_or_none = folder
        self.rebuild_in_background()
        return f"Removed {name}; updating the index."

    def rebuild_in_background(self) -> None:
        self.background = threading.Thread(target=self.rebuild, daemon=True, name="rebuild")
        self.background.start()

    def answer_json(self, question: object, k: object = 5, history: object = None,
                    answerer: object = None) -> dict:
        """The answer JSON of `rag ask --json`, for `/api/ask` and Gradio's `/ask`; a RagError when the
        input is not usable."""
        if history is not None and not (isinstance(history, list) and all(isinstance(h, str) for h in history)):
            raise QuestionError("history must be a list of earlier questions.")
        if answerer is not None and not isinstance(answerer, str):
            raise QuestionError("answerer must be the name of an answerer.")
        return self.pipeline.ask(question, check_k(k), history=history, answerer=answerer or None).to_json()

    def ask_json(self, question: str, k: int = 5, history: list[str] | None = None,
                 answerer: str | None = None) -> dict:
        """Gradio's `/ask` (for gradio_client): the same answer JSON, errors as a Gradio error."""
        try:
            return self.answer_json(question, k, history, answerer)
        except RagError as exc:
            log.info("bad /ask request: %s", exc)
            raise gr.Error(str(exc)) from None

    def status_json(self) -> dict:
        """`/api/status`: the index being served and whether it matches its source."""
        state = self.service.status()
        manifest = state.manifest
        return {"title": manifest.get("title"), "fresh": state.fresh,
                "stale": [str(r) for r in state.reasons],
                "documents": [{"name": name, "chunks": chunks} for name, chunks in self.documents()],
                "chunks": manifest["counts"]["chunks"], "model": manifest["model"]["name"],
                "built_at": manifest["built_at"], "message": self.message, "error": self.error}


@dataclass
class Turn:
    question: str
    answer: Answer | None = None
    error: str | None = None  # a question that could not be asked (empty, too long...)
    partial: str = ""  # the answer's text while it streams
    started: bool = False


class Conversation:
    """One chat: its turns, in order. Every turn is two messages (question, reply), so a clicked message
    maps to its turn whatever failed before it."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []
        self.lock = threading.Lock()

    def add(self, question: str) -> Turn:
        self.turns.append(Turn(question))
        return self.turns[-1]

    def reset(self) -> None:
        self.turns = []

    def pending(self):
        """The questions not yet taken up, oldest first (a generator: ones added meanwhile join in)."""
        while True:
            waiting = next((t for t in self.turns if not t.started), None)
            if waiting is None:
                return
            yield waiting

    def context(self, turn: Turn) -> list[str]:
        """The earlier questions that were answered: what a follow-up may lean on."""
        return [t.question for t in self.turns[:self.turns.index(turn)] if t.answer is not None]

    def turn_of(self, message_index) -> Turn | None:
        if not isinstance(message_index, int) or not 0 <= message_index // 2 < len(self.turns):
            return None
        return self.turns[message_index // 2]

    def messages(self) -> list[dict]:
        out = []
        for t in self.turns:
            out.append({"role": "user", "content": render.escape_text(t.question)})
            if t.answer is not None:
                reply = render.answer_html(t.answer)
            elif t.error is not None:
                reply = f'<div class="refusal">{render.escape_text(t.error)}</div>'
            else:
                reply = render.escape_text(t.partial) or "…"
            out.append({"role": "assistant", "content": reply})
        return out


class Conversations:
    """Conversations by browser session, the oldest forgotten beyond `most`."""

    def __init__(self, most: int = 1000) -> None:
        self.most = most
        self._by_session: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: str) -> Conversation:
        with self._lock:
            conversation = self._by_session.pop(session, None) or Conversation()
            self._by_session[session] = conversation
            while len(self._by_session) > self.most:
                self._by_session.popitem(last=False)
            return conversation


def build_app(service: ChatService) -> gr.Blocks:
    title = service.pipeline.index.manifest.get("title") or "the document"
    with gr.Blocks(title=f"Ask: {title}", analytics_enabled=False) as app:
        conversations = Conversations()  # per browser session: the turns every view is drawn from
        with gr.Row():
            heading = gr.Markdown(heading_of(service), elem_id="heading")
        status = gr.HTML(render.status_html(service.status()), elem_id="status")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Chat", show_label=False, elem_id="chat", height=560, sanitize_html=True,
                                     buttons=["copy"], feedback_options=None,
                                     placeholder="Ask anything about the document. Every claim in an answer "
                                                 "cites a numbered passage on the right.")
                with gr.Row():
                    # No max_length: a box that cuts a pasted question silently hides the cut; the
                    # pipeline says it is too long instead.
                    question = gr.Textbox(placeholder="Ask a question in your own words",
                                          show_label=False, scale=5, max_lines=4, elem_id="question",
                                          submit_btn=False)
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                names = service.pipeline.answerer_names
                answerer = gr.Dropdown(names, value=service.pipeline.default, label="Answerer", elem_id="answerer",
                                       visible=len(names) > 1, interactive=True)
                with gr.Row():
                    clear = gr.Button("Clear chat", size="sm", elem_id="clear")
                    rebuild = gr.Button("Rebuild index", size="sm", elem_id="rebuild")
            with gr.Column(scale=2):
                sources = gr.HTML(render.sources_html(None), elem_id="sources", label="Sources")
        # Below both columns, so that on a phone the sources follow the chat directly.
        gr.Examples(example_questions(service.pipeline.index), inputs=[question], label="Examples")
        with gr.Accordion("Documents", open=False, elem_id="documents-panel"):
            documents = gr.HTML(render.documents_html(service.documents()), elem_id="documents")
            upload = gr.File(label=f"Add documents ({', '.join(readers.suffixes())}; up to "
                                   f"{MAX_UPLOAD_BYTES // 1_000_000} MB each)",
                             file_count="multiple", file_types=readers.suffixes(), type="filepath",
                             elem_id="upload")
            with gr.Row():
                to_remove = gr.Dropdown([name for name, _ in service.documents()], label="Remove a document",
                                        elem_id="remove-choice", interactive=True, scale=3,
                                        allow_custom_value=True)  # remove_document checks the name
                remove = gr.Button("Remove", size="sm", elem_id="remove", scale=1)

        def session(request: gr.Request | None) -> Conversation:
            return conversations.get(request.session_hash if request else "")

        def take_question(text: str, request: gr.Request = None):
            """Add the question to the conversation and clear the box at once (no queue): a question typed
            while another is being answered waits its turn; it is never dropped."""
            if not (text or "").strip():
                return gr.skip(), gr.skip()
            conversation = session(request)
            conversation.add(text)
            return "", conversation.messages()

        def answer_pending(answerer_name: str | None = None, request: gr.Request = None):
            """Answer every waiting question in order, under the session's lock, drawing the chat from
            the one conversation state each time."""
            conversation = session(request)
            last = None
            with conversation.lock:
                for turn in conversation.pending():
                    turn.started = True
                    try:
                        for piece in service.pipeline.ask_stream(turn.question, history=conversation.context(turn),
                                                                 answerer=answerer_name):
                            if isinstance(piece, Answer):
                                turn.answer = piece
                            else:
                                turn.partial += piece
                                yield conversation.messages(), gr.skip()
                    except RagError as exc:
                        turn.error = str(exc)
                    except Exception:
                        log.exception("answering failed")
                        turn.error = "Something went wrong while answering; the error was logged. Please try again."
                    last = turn
                yield conversation.messages(), render.sources_html(last.answer) if last else gr.skip()

        def chat_api(text: str, answerer_name: str | None = None, request: gr.Request = None):
            """The two steps in one call, for programs (gradio_client's /chat)."""
            take_question(text, request)
            yield from answer_pending(answerer_name, request)

        def select(event: gr.SelectData, request: gr.Request = None):
            conversation = conversations.get(request.session_hash if request else "")
            turn = conversation.turn_of(event.index)
            return render.sources_html(turn.answer) if turn is not None else gr.skip()

        def reset(request: gr.Request = None):
            conversations.get(request.session_hash if request else "").reset()
            return [], render.sources_html(None)

        def do_rebuild(progress=gr.Progress(track_tqdm=True)):
            progress(0, desc="Rebuilding the index")
            outcome = service.rebuild()
            info = service.status()
            if not (service.message == outcome or service.error == outcome):
                info["message"] = outcome  # a click that started no rebuild says so
            return render.status_html(info)

        # Two steps: `ask` records the question and clears the box at once; `answer_pending` answers
        # whatever waits, in order. trigger_mode="multiple": no submission is ignored while one is pending.
        for trigger in (question.submit, send.click):
            trigger(take_question, inputs=[question], outputs=[question, chatbot], queue=False, trigger_mode="multiple",
                    api_visibility="private").then(
                answer_pending, inputs=[answerer], outputs=[chatbot, sources], concurrency_limit=8,
                concurrency_id="chat", api_visibility="private")
        api_button = gr.Button(visible=False)
        api_button.click(chat_api, inputs=[question, answerer], outputs=[chatbot, sources], concurrency_limit=8,
                         concurrency_id="chat", api_name="chat", api_visibility="undocumented")  # tests read the HTML
        chatbot.select(select, outputs=[sources], api_visibility="private")
        clear.click(reset, outputs=[chatbot, sources], api_visibility="private")
        chatbot.clear(reset, outputs=[chatbot, sources], api_visibility="private")  # the chat's own clear icon
        rebuild.click(do_rebuild, outputs=[status], api_name="rebuild", concurrency_limit=2,
                      concurrency_id="rebuild")
        def refresh(message: str = ""):
            info = service.status()
            if message:
                info["message"] = message
            names = [name for name, _ in service.documents()]
            return (render.status_html(info), render.documents_html(service.documents()),
                    heading_of(service), gr.update(choices=names, value=None))

        def on_upload(files: list[str] | None):
            outcome = service.add_documents([Path(f) for f in files or []])
            return (*refresh(outcome), None)

        def on_remove(name: str | None):
            return refresh(service.remove_document(name) if name else "Choose a document to remove.")

        upload.upload(on_upload, inputs=[upload], outputs=[status, documents, heading, to_remove, upload],
                      api_name="upload", concurrency_limit=2, concurrency_id="rebuild")
        remove.click(on_remove, inputs=[to_remove], outputs=[status, documents, heading, to_remove],
                     api_name="remove", concurrency_limit=2, concurrency_id="rebuild")
        # The background rebuild ends after the upload returns: the tick brings the page up to date.
        gr.Timer(5).tick(lambda: refresh()[:3], outputs=[status, documents, heading], api_visibility="private")
        app.load(lambda: render.status_html(service.status()), outputs=[status], api_visibility="private")
        gr.api(service.ask_json, api_name="ask",
               api_description="Answer a question; returns the JSON answer with passages and citations.")
    return app


# ---------------------------------------------------------------- command line

def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def port_is_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def parse_auth(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise RagError("--auth must be user:password.")
    return user, password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The web chat over the indexed document.")
    parser.add_argument("--host", default=os.environ.get("RAG_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("RAG_PORT", "7860")))
    parser.add_argument("--auth", default=os.environ.get("RAG_AUTH"), help="user:password (or $RAG_AUTH)")
    parser.add_argument("--insecure", action="store_true", help="allow a non-loopback host without --auth")
    parser.add_argument("--index", type=Path)
    parser.add_argument("--source", type=Path)
    parser.add_argument("--answerer", choices=registry.names(), help="the default answerer")
    parser.add_argument("--base-url", help="an OpenAI-compatible endpoint (or RAG_OPENAI_BASE_URL)")
    parser.add_argument("--model", help="openai: model name; local: folder, .gguf file or gemma3-270m")
    parser.add_argument("--watch", action="store_true", help="rebuild in the background when the source files "
                                                             "change on disk (make run turns it on)")
    args = parser.parse_args(argv)
    try:
        auth = parse_auth(args.auth)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not is_loopback(args.host) and not auth and not args.insecure:
        print(f"error: serving on {args.host} exposes the chat and its rebuild button to the network; "
              "give --auth user:password (or RAG_AUTH), or --insecure to do it anyway.", file=sys.stderr)
        return 2
    if not port_is_free(args.host, args.port):
        print(f"error: port {args.port} is in use: use --port or PORT=.", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        service = ChatService(Settings.from_env(source=args.source, index_dir=args.index, answerer=args.answerer,
                                                base_url=args.base_url, model=args.model),
                              watch=args.watch)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    service.embedder.embed(["warm up"])  # load the model before the first question
    print(f"Serving the chat at http://{args.host}:{args.port} (JSON API: POST /api/ask, GET /api/status)",
          flush=True)
    serve(create_server(service, build_app(service), auth, token=os.environ.get("RAG_API_TOKEN")),
          args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
