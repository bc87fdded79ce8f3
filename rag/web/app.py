"""The web chat UI (Gradio): ask, read a cited answer, see the supporting passages, rebuild the index.

    python app.py [--host 127.0.0.1] [--port 7860] [--auth user:password] [--insecure]

Importing this module starts nothing: `build_app(service)` returns the gr.Blocks; `rag.web.server`
mounts it in the FastAPI application beside the JSON API, and its `main` is the command line.
"""
from __future__ import annotations

import dataclasses
import logging
import re
import secrets
from pathlib import Path

import gradio as gr

from rag.errors import RagError
from rag.ingest import readers
from rag.types import Answer
from rag.web import render
from rag.web.chat import MAX_UPLOAD_BYTES, ChatService, example_questions, heading_of
from rag.web.conversation import Conversation, Conversations

log = logging.getLogger("rag.app")

CSS = """
#sources { max-height: 78vh; overflow-y: auto !important; }  /* Gradio sets the block inline to visible */
.status { font-size: 0.85em; }
.status-warning { color: #b45309; font-weight: 600; margin-top: 4px; }
.status-error { color: #b91c1c; font-weight: 600; margin-top: 4px; }
.status-message { color: #15803d; margin-top: 4px; }
.status-progress { margin-top: 4px; }
.status-progress progress { width: 14em; vertical-align: middle; }
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
/* On a phone the empty chat's fixed 560 px pushed the question box to the bottom edge of the first screen. */
@media (max-width: 640px) { #chat { height: 45vh !important; min-height: 220px; } }
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
  // Without the clipboard API (plain http beyond localhost) Gradio's own fallback copies as it can.
  if (!navigator.clipboard) return;
  event.stopPropagation();  // Gradio's own handler would copy the HTML source
  var done = function () { button.setAttribute('title', 'Copied'); setTimeout(function () {
    button.setAttribute('title', 'Copy message'); }, 1500); };
  navigator.clipboard.writeText(ragMessageText(row)).then(done);
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


def valid_key(key: object) -> bool:
    """A conversation key this page made (secrets.token_urlsafe(18)): anything else starts a new one."""
    return isinstance(key, str) and re.fullmatch(r"[A-Za-z0-9_-]{24}", key) is not None


def ask_json(service: ChatService, question: str, k: int = 5, history: list[str] | None = None,
             answerer: str | None = None) -> dict:
    """Gradio's `/ask` (for gradio_client): the answer JSON of `/api/ask`, errors as a Gradio error."""
    try:
        return service.answer_json(question, k, history, answerer)
    except RagError as exc:
        log.info("bad /ask request: %s", exc)
        raise gr.Error(str(exc)) from None


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
                                                 "cites a numbered passage, shown beside the chat (below it on "
                                                 "a phone).")
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
        # A Dataset rather than gr.Examples: its questions follow the index when documents come and go.
        shown_examples = gr.State(example_questions(service.pipeline.index))
        examples = gr.Dataset(components=[question], samples=[[q] for q in shown_examples.value],
                              label="Examples", elem_id="examples")
        examples.click(lambda sample: sample[0], inputs=[examples], outputs=[question], api_visibility="private")
        with gr.Accordion("Documents", open=False, elem_id="documents-panel"):
            documents = gr.HTML(render.documents_html(service.documents()), elem_id="documents")
            upload = gr.File(label=f"Add documents ({', '.join(readers.suffixes())}; up to "
                                   f"{MAX_UPLOAD_BYTES // 1_000_000} MB each)",
                             # .doc too: the server's refusal says what to do with it (save it as .docx)
                             file_count="multiple", file_types=[*readers.suffixes(), ".doc"], type="filepath",
                             elem_id="upload")
            with gr.Row():
                # Empty until the page loads: the login page must not carry document names, and the
                # list is read afresh on every page load.
                to_remove = gr.Dropdown([], value=None, label="Remove a document",
                                        elem_id="remove-choice", interactive=True, scale=3,
                                        allow_custom_value=True)  # remove_document checks the name
                remove = gr.Button("Remove", size="sm", elem_id="remove", scale=1)
            # A removal happens only after this second, explicit click.
            with gr.Row(visible=False, elem_id="remove-confirm") as confirm_row:
                confirm_text = gr.Markdown(elem_id="remove-question")
                confirm = gr.Button("Remove it", variant="stop", size="sm", elem_id="remove-yes", scale=1)
                keep = gr.Button("Keep it", size="sm", elem_id="remove-no", scale=1)

        # The conversation's key, kept in the browser (localStorage), so a reload finds the conversation
        # again: Gradio's session changes with every page load. Programs (gradio_client) have none and
        # use their session.
        chat_key = gr.BrowserState("", storage_key="rag-conversation")

        def session(request: gr.Request | None, key: str = "") -> Conversation:
            return conversations.get(key if valid_key(key) else (request.session_hash if request else ""))

        def take_question(text: str, key: str = "", request: gr.Request = None):
            """Add the question to the conversation and clear the box at once (no queue): a question typed
            while another is being answered waits its turn; it is never dropped. The page's first question
            makes its conversation key, which `answer_pending` then reads."""
            if not (text or "").strip():
                return gr.skip(), gr.skip(), gr.skip()
            key = key if valid_key(key) else secrets.token_urlsafe(18)
            conversation = session(request, key)
            conversation.add(text)
            return "", conversation.messages(), key

        def answer_pending(answerer_name: str | None = None, key: str = "", request: gr.Request = None):
            """Answer every waiting question in order, under the session's lock, drawing the chat from
            the one conversation state each time."""
            conversation = session(request, key)
            last = None
            with conversation.lock:
                for turn in conversation.pending():
                    turn.started = True
                    try:  # (the finally below: a page closed mid-answer leaves no turn waiting for ever)
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
                    finally:
                        if turn.answer is None and turn.error is None:
                            turn.error = "The page was closed before this answer was done: please ask again."
                    last = turn
                yield conversation.messages(), render.sources_html(last.answer) if last else gr.skip()

        def chat_api(text: str, answerer_name: str | None = None, request: gr.Request = None):
            """The two steps in one call, for programs (gradio_client's /chat)."""
            if (text or "").strip() if isinstance(text, str) else False:
                session(request).add(text)
            yield from answer_pending(answerer_name, "", request)

        def select(event: gr.SelectData, key: str = "", request: gr.Request = None):
            conversation = session(request, key)
            turn = conversation.turn_of(event.index)
            return render.sources_html(turn.answer) if turn is not None else gr.skip()

        def reset(key: str = "", request: gr.Request = None):
            session(request, key).reset()
            return [], render.sources_html(None)

        def resume(key: str, request: gr.Request = None):
            """On page load: the conversation this browser had, drawn again (none before its first question)."""
            if not valid_key(key):
                return gr.skip(), gr.skip()
            conversation = session(request, key)
            answered = [t.answer for t in conversation.turns if t.answer is not None]
            return conversation.messages(), render.sources_html(answered[-1] if answered else None)

        def do_rebuild(progress=gr.Progress()):  # not track_tqdm: it breaks a build's bars already running
            progress(0, desc="Rebuilding the index")
            outcome = service.rebuild()
            status = service.status()
            if not (service.message == outcome or service.error == outcome):
                status = dataclasses.replace(status, message=outcome)  # a click that started no rebuild says so
            return render.status_html(status)

        # Two steps: `ask` records the question and clears the box at once; `answer_pending` answers
        # whatever waits, in order. trigger_mode="multiple": no submission is ignored while one is pending.
        for trigger in (question.submit, send.click):
            trigger(take_question, inputs=[question, chat_key], outputs=[question, chatbot, chat_key], queue=False,
                    trigger_mode="multiple", api_visibility="private").then(
                answer_pending, inputs=[answerer, chat_key], outputs=[chatbot, sources], concurrency_limit=8,
                concurrency_id="chat", api_visibility="private")
        api_button = gr.Button(visible=False)
        api_button.click(chat_api, inputs=[question, answerer], outputs=[chatbot, sources], concurrency_limit=8,
                         concurrency_id="chat", api_name="chat", api_visibility="undocumented")  # tests read the HTML
        chatbot.select(select, inputs=[chat_key], outputs=[sources], api_visibility="private")
        clear.click(reset, inputs=[chat_key], outputs=[chatbot, sources], api_visibility="private")
        chatbot.clear(reset, inputs=[chat_key], outputs=[chatbot, sources], api_visibility="private")  # its own icon
        app.load(resume, inputs=[chat_key], outputs=[chatbot, sources], api_visibility="private")
        rebuild.click(do_rebuild, outputs=[status], api_name="rebuild", concurrency_limit=2,
                      concurrency_id="rebuild")

        # The page's last refusal (an upload not added, a removal not done): shown until its next action,
        # so the status bar's refresh every two seconds does not wipe it the moment it appears.
        notice = gr.State("")
        listed = gr.State([])  # the names the remove list offers now: it is sent again only when they change

        def refresh(message: str = "", error: str = ""):
            status = service.status()
            if message:
                status = dataclasses.replace(status, message=message)
            if error:  # a refusal is an error, shown as one, with its reason
                status = dataclasses.replace(status, error=" ".join(filter(None, [status.error, error])))
            names = [name for name, _ in service.documents()]
            return (render.status_html(status), render.documents_html(service.documents()),
                    heading_of(service), gr.update(choices=names, value=None), names)

        def on_upload(files: list | None):
            """Not preprocessed (Gradio's File would leave an empty temporary file per upload): each
            item is Gradio's file record, whose path the request guard has checked."""
            paths = [Path(f["path"] if isinstance(f, dict) else f) for f in files or []
                     if isinstance(f, (dict, str)) and (not isinstance(f, dict) or isinstance(f.get("path"), str))]
            done, _, refused = service.add_documents(paths).partition("Not added: ")
            refused = f"Not added: {refused}" if refused else ""
            return (*refresh(done.strip(), refused), None, refused)

        def on_remove(name: str | None):
            outcome = service.remove_document(name) if name else "Choose a document to remove."
            if outcome.startswith("Removed "):
                return (*refresh(outcome), "")
            return (*refresh(error=outcome), outcome)

        def ask_to_confirm(name: str | None):
            """The first click on Remove only asks; with no document chosen, or a name typed that is not
            among the documents, it says so and asks nothing."""
            known = [n for n, _ in service.documents()]
            if not name or name not in known:
                error = f"{name} is not among the documents." if name else "Choose a document to remove first."
                status = dataclasses.replace(service.status(), error=error)
                return gr.update(visible=False), "", render.status_html(status), error
            return (gr.update(visible=True),
                    f"Remove **{render.escape_text(name)}** from the documents? Its passages leave the index.",
                    gr.skip(), "")

        upload.upload(on_upload, inputs=[upload],
                      outputs=[status, documents, heading, to_remove, listed, upload, notice],
                      api_name="upload", concurrency_limit=2, concurrency_id="rebuild", preprocess=False)
        remove.click(ask_to_confirm, inputs=[to_remove], outputs=[confirm_row, confirm_text, status, notice],
                     api_visibility="private")
        # Programs call /remove directly; the page's path to it is the confirmation.
        confirm.click(on_remove, inputs=[to_remove], outputs=[status, documents, heading, to_remove, listed, notice],
                      api_name="remove", concurrency_limit=2, concurrency_id="rebuild").then(
            lambda: gr.update(visible=False), outputs=[confirm_row], api_visibility="private")
        keep.click(lambda: gr.update(visible=False), outputs=[confirm_row], api_visibility="private")
        def refresh_examples(shown: list[str]):
            """New example questions only when the index's changed, so the page does not redraw them."""
            current = example_questions(service.pipeline.index)
            if current == shown:
                return gr.skip(), gr.skip()
            return gr.Dataset(samples=[[q] for q in current]), current

        def tick(shown: list[str], last_notice: str, offered: list[str]):
            """The background rebuild ends after the upload returns: the tick brings the page up to date,
            the remove list too once the documents changed, and keeps the page's last refusal."""
            status_html, documents_html, heading_text, choices, names = refresh(error=last_notice)
            if names == offered:
                choices, names = gr.skip(), gr.skip()
            else:
                choices = gr.update(choices=names)  # the name chosen stays chosen
            return (status_html, documents_html, heading_text, *refresh_examples(shown), choices, names)

        gr.Timer(2).tick(tick, inputs=[shown_examples, notice, listed],
                         outputs=[status, documents, heading, examples, shown_examples, to_remove, listed],
                         api_visibility="private", show_progress="hidden")
        app.load(lambda: refresh(), outputs=[status, documents, heading, to_remove, listed], api_visibility="private")

        def ask(question: str, k: int = 5, history: list[str] | None = None, answerer: str | None = None) -> dict:
            return ask_json(service, question, k, history, answerer)

        gr.api(ask, api_name="ask",
               api_description="Answer a question; returns the JSON answer with passages and citations.")
    return app
