"""A person's path through the page, in headless Debian Chromium driven by Playwright.

Runs when /usr/bin/chromium exists; with RAG_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser fails.
Enable locally with: apt-get install chromium. Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
# As the machine notes require: no background connections to a network that is not there.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not Path(CHROMIUM).exists():
    if os.environ.get("RAG_REQUIRE_BROWSER"):
        pytest.fail(f"RAG_REQUIRE_BROWSER is set but {CHROMIUM} is missing: apt-get install chromium",
                    pytrace=False)
    pytest.skip("no Chromium: apt-get install chromium to run the browser test "
                "(RAG_REQUIRE_BROWSER=1 makes this a failure)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def open_documents(page) -> None:
    """Open the Documents accordion. A click that lands before the freshly loaded page has wired its
    handlers does nothing (seen once in CI after a reload), so look, and click again, until it is open."""
    for _ in range(5):
        if page.locator("#documents").is_visible():
            return
        page.locator("#documents-panel").get_by_text("Documents").first.click()
        try:
            page.locator("#documents").wait_for(state="visible", timeout=5_000)
            return
        except sync_api.TimeoutError:
            continue
    raise AssertionError("the Documents accordion did not open after five clicks")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from test_app import Served, project_copy

    with Served(project_copy(tmp_path_factory.mktemp("browser"))) as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 950})
    page.set_default_timeout(60_000)
    page.goto(server.url)
    return page


def test_ask_read_cited_answer_click_marker_and_rebuild(page, server):
    ARTIFACTS.mkdir(exist_ok=True)
    expect = sync_api.expect
    expect.set_options(timeout=60_000)  # the first answer may wait for the model; never a timed test
    expect(page.locator("#status")).to_contain_text("sino-soviet-relations.txt")
    expect(page.locator("#status")).to_contain_text("chunks")

    page.locator("#question textarea").fill("When did Gorbachev visit Beijing?")
    page.locator("#ask").click()
    answer = page.locator("#chat a.cite").first
    expect(answer).to_be_visible()
    expect(page.locator("#chat")).to_contain_text("May 1989")

    highlighted = page.locator("#sources mark")
    expect(highlighted.first).to_contain_text("Gorbachev visited Beijing in May 1989")
    expect(page.locator("#source-1")).to_be_visible()

    page.locator("#chat a.cite", has_text="[1]").first.click()
    expect(page.locator("#source-1.marked")).to_be_visible()
    expect(page.locator(".source-card.marked")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "answer.png"), full_page=True)

    # A follow-up question in the same chat.
    page.locator("#question textarea").fill("What did he say to the Chinese magazine?")
    page.locator("#ask").click()
    expect(page.locator("#chat")).to_contain_text("special interest", timeout=60_000)

    # A refusal looks different from an answer.
    page.locator("#question textarea").fill("What is the capital of France?")
    page.locator("#ask").click()
    expect(page.locator("#chat .refusal").last).to_contain_text("does not say")
    expect(page.locator("#sources .sources-heading.refused")).to_be_visible()

    # Markup typed by the user is shown as text, not run.
    page.locator("#question textarea").fill("<img src=x onerror=\"document.title='owned'\"> who?")
    page.locator("#ask").click()
    expect(page.locator("#chat")).to_contain_text("<img src=x")
    assert page.title() != "owned"

    # Two questions sent back to back, without waiting: both are answered, in order.
    box = page.locator("#question textarea")
    box.fill("Who led the Mongolian guerrillas?")
    box.press("Enter")
    expect(box).to_have_value("")  # taken at once, before any answer
    # (Not "In what year did Gorbachev go to Beijing?": since the retraining of 2026-12-04 that wording is
    # refused, a false refusal on the article that the README counts; this test is about the queue.)
    box.fill("In which year did Gorbachev visit Beijing?")
    box.press("Enter")
    expect(page.locator("#chat")).to_contain_text("Sükhbaatar")
    page.wait_for_function(  # the second answer has arrived: a 1989 after the second question
        "() => { const t = document.querySelector('#chat').innerText;"
        " const q = t.indexOf('In which year did Gorbachev visit'); return q >= 0 && t.indexOf('1989', q) > q; }",
        timeout=120_000)
    chat = page.locator("#chat").inner_text()
    order = [chat.find(text) for text in ("Who led the Mongolian guerrillas?", "Sükhbaatar",
                                          "In which year did Gorbachev visit Beijing?")]
    assert -1 not in order and order == sorted(order) and chat.rfind("1989") > order[-1], chat[-1500:]

    page.locator("#rebuild").click()
    expect(page.locator("#status")).to_contain_text("reused", timeout=120_000)
    page.screenshot(path=str(ARTIFACTS / "after-rebuild.png"), full_page=True)


def test_a_reload_keeps_the_conversation_and_its_follow_ups(server, browser):
    expect = sync_api.expect
    expect.set_options(timeout=60_000)
    page = browser.new_page(viewport={"width": 1400, "height": 950})
    page.set_default_timeout(60_000)
    page.goto(server.url)
    page.locator("#question textarea").fill("When did Gorbachev visit Beijing?")
    page.locator("#ask").click()
    expect(page.locator("#chat")).to_contain_text("May 1989")
    page.reload()
    expect(page.locator("#chat")).to_contain_text("May 1989")  # drawn again from the server
    expect(page.locator("#sources mark").first).to_be_visible()  # with the last answer's passages
    page.locator("#question textarea").fill("What did he say to the Chinese magazine?")
    page.locator("#ask").click()
    expect(page.locator("#chat")).to_contain_text("special interest")  # a follow-up on the reloaded chat
    page.locator("#clear").click()
    expect(page.locator("#chat")).not_to_contain_text("May 1989")
    page.reload()
    page.locator("#question").wait_for()
    expect(page.locator("#chat")).not_to_contain_text("May 1989")  # cleared stays cleared
    other = browser.new_context().new_page()  # another browser: a conversation of its own
    other.goto(server.url)
    other.locator("#question").wait_for()
    expect(other.locator("#chat")).not_to_contain_text("Gorbachev")
    other.context.close()
    page.close()


def test_upload_a_pdf_and_a_page_ask_see_the_page_remove_it_and_edit_one_on_disk(tmp_path, browser):
    from test_app import Served, project_copy
    from test_readers import HTML, make_pdf

    pdf, html_page = tmp_path / "boiler manual.pdf", tmp_path / "kettle.html"
    pdf.write_bytes(make_pdf(["The boiler of the Ruritanian embassy starts at six in the morning.",
                              "The embassy pump is serviced every spring by a caretaker named Olek Varga."]))
    html_page.write_bytes(HTML)
    server = Served(project_copy(tmp_path / "project"), watch=True)
    embedding = threading.Event()  # set once the page has shown the build embedding
    expect = sync_api.expect
    expect.set_options(timeout=60_000)
    try:
        # one browser for the module; this test has its own page and server
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(server.url)
        expect(page.locator("#heading")).to_contain_text("Ask: Sino-Soviet relations")
        open_documents(page)
        embedder = server.service.embedder
        fast = embedder.embed

        def held(texts):
            # A build of two small files can end between two looks of the page (on a busy machine even with
            # a pause of 1.5 s in it): the build waits in its embedding step until the page has shown it.
            embedding.wait(timeout=120)
            return fast(texts)

        embedder.embed = held
        page.locator("#upload input[type=file]").set_input_files([str(pdf), str(html_page)])
        expect(page.locator("#status .status-progress progress")).to_be_visible()  # the bar, while it builds
        expect(page.locator("#status")).to_contain_text("Embedding")
        expect(page.locator("#status")).not_to_contain_text("Press")  # no stale warning beside the bar
        embedding.set()
        expect(page.locator("#documents")).to_contain_text("boiler manual.pdf", timeout=120_000)
        embedder.embed = fast
        expect(page.locator("#status .status-progress")).to_have_count(0)
        page.locator("#remove-choice input").click()  # the remove list follows the rebuild, with no reload
        expect(page.get_by_role("option", name="kettle.html")).to_be_visible()
        page.keyboard.press("Escape")
        page.reload()  # a fresh page reads the current list
        open_documents(page)
        expect(page.locator("#documents")).to_contain_text("kettle.html")
        expect(page.locator("#heading")).to_contain_text("Ask: 3 documents")  # the page follows the index
        expect(page.locator("#examples")).to_contain_text("say about Descaling?")  # from the new page's headings

        page.locator("#question textarea").fill("Who services the embassy pump?")
        page.locator("#ask").click()
        expect(page.locator("#chat")).to_contain_text("Olek Varga")
        expect(page.locator("#sources")).to_contain_text("boiler manual.pdf page 2")  # the quoted sentence's page
        page.screenshot(path=str(ARTIFACTS / "upload.png"), full_page=True)

        page.locator("#remove-choice input").fill("boiler manual.pdf")
        page.locator("#remove-choice input").press("Enter")
        page.locator("#remove").click()
        page.locator("#remove-yes").click()  # the second, explicit click
        expect(page.locator("#status")).to_contain_text("Removed boiler manual.pdf")
        expect(page.locator("#documents")).not_to_contain_text("boiler manual.pdf", timeout=120_000)
        expect(page.locator("#heading")).to_contain_text("Ask: 2 documents")
        page.locator("#question textarea").fill("Who services the embassy pump?")
        page.locator("#ask").click()
        page.wait_for_function(  # the second reply is in: two of the question, and no "…" pending
            "() => { const t = document.querySelector('#chat').innerText;"
            " return t.split('Who services the embassy pump?').length === 3 && !t.trim().endsWith('…'); }",
            timeout=120_000)
        last_reply = page.locator("#chat").inner_text().split("Who services the embassy pump?")[-1]
        assert "Olek Varga" not in last_reply
        expect(page.locator("#sources")).not_to_contain_text("boiler manual.pdf")

        # Edited on disk: the watcher rebuilds and the status bar and the list say so.
        kettle = tmp_path / "project" / "workspace" / "documents" / "kettle.html"
        kettle.write_bytes(HTML.replace(b"</main>", b"<h2>Storage</h2><p>Store the kettle dry and empty.</p></main>"))
        expect(page.locator("#documents")).to_contain_text("kettle.html · 3 passages", timeout=120_000)
        expect(page.locator("#status")).to_contain_text("Rebuilt:")
        page.close()
    finally:
        embedding.set()  # never leave a build waiting
        server.service.watcher.stop()
        server.close()


def test_a_refused_upload_stays_said_and_an_unknown_name_is_not_asked_about(browser, tmp_path):
    from test_app import Served, project_copy

    expect = sync_api.expect
    served = Served(project_copy(tmp_path / "project"))
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(served.url)
        open_documents(page)
        empty = tmp_path / "empty.txt"
        empty.write_text("  \n")
        page.locator("#upload input[type=file]").set_input_files([str(empty)])
        status = page.locator("#status")
        expect(status).to_contain_text("Not added: Source empty.txt is empty")
        page.wait_for_timeout(5000)  # two refreshes of the status bar later
        expect(status).to_contain_text("Not added: Source empty.txt is empty")
        page.locator("#remove-choice input").fill("nowhere.txt")
        page.locator("#remove-choice input").press("Enter")
        page.locator("#remove").click()
        expect(status).to_contain_text("nowhere.txt is not among the documents.")
        expect(page.locator("#remove-confirm")).to_be_hidden()
    finally:
        served.close()


# The effective text and background colours of an element: the first ancestor with an opaque background.
COLOURS_JS = """(el) => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  let bg = null, node = el;
  while (node && node.nodeType === 1) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) { bg = c.slice(0, 3); break; }
    node = node.parentElement;
  }
  return {text: rgb(getComputedStyle(el).color).slice(0, 3), background: bg || [255, 255, 255]};
}"""


def contrast(a: list[float], b: list[float]) -> float:
    def luminance(rgb):
        channels = [c / 255 for c in rgb]
        channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_answer_text_is_readable_copyable_and_labelled_as_plain_text(server, browser, theme):
    context = browser.new_context(viewport={"width": 1400, "height": 950}, color_scheme=theme)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url.rstrip("/"))
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(server.url + f"?__theme={theme}")
    page.locator("#question textarea").fill("Why did Mao distrust Khrushchev's policy?")
    page.locator("#ask").click()
    expect = sync_api.expect
    expect(page.locator("#sources mark").first).to_be_visible()
    expect(page.locator("#chat a.cite").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / f"theme-{theme}.png"), full_page=True)
    panel, examples = page.locator("#sources").bounding_box(), page.get_by_text("Examples", exact=True).bounding_box()
    assert panel["y"] + panel["height"] <= examples["y"]  # the panel scrolls; it does not spill over

    for selector in ("#sources mark", "#chat a.cite", "#sources .card-n", "#sources .card-meta",
                     "#sources .card-text", "#status .status"):
        colours = page.locator(selector).first.evaluate(COLOURS_JS)
        assert contrast(colours["text"], colours["background"]) >= 4.5, (theme, selector, colours)

    answer = page.locator('#chat [data-testid="bot"]').last
    label = answer.get_attribute("aria-label")
    assert label.startswith("bot's message: ") and "[1]" in label
    assert "<" not in label and "&#" not in label
    question_label = page.locator('#chat [data-testid="user"]').first.get_attribute("aria-label")
    assert question_label == "user's message: Why did Mao distrust Khrushchev's policy?"

    page.locator('#chat .bot-row + .message-buttons button[aria-label="Copy message"]').last.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.endswith("[1]") and "Khrushchev" in copied
    assert "<" not in copied and "&#" not in copied
    context.close()


def test_on_a_phone_the_sources_follow_the_chat_and_examples_are_whole(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(server.url)
    sources, examples = page.locator("#sources"), page.get_by_text("Examples", exact=True)
    sync_api.expect(examples).to_be_visible()
    assert sources.bounding_box()["y"] < examples.bounding_box()["y"]
    box = page.locator("#question textarea").bounding_box()
    assert box["y"] + box["height"] <= 700, box  # on the first screen, with room for the browser's own bars
    shown = page.locator(".gallery-item").all_inner_texts()
    assert shown and not any(text.endswith("...") for text in shown), shown
    page.locator(".gallery-item").first.click()  # an example fills the question box
    sync_api.expect(page.locator("#question textarea")).to_have_value(shown[0].strip())
    page.close()


def test_with_auth_the_login_page_works_and_nothing_else_answers_before_it(browser, tmp_path):
    """The sign-in gate lets the login page and its assets through, and the chat after the login."""
    import httpx
    from test_app import Served, project_copy

    served = Served(project_copy(tmp_path), auth=("ann", "s3cret"))
    try:
        assert httpx.get(served.url + "gradio_api/app_id").status_code == 401
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        failed = []
        page.on("response", lambda r: failed.append(r.url) if r.status == 401 else None)
        page.goto(served.url)
        page.locator("input").first.fill("ann")
        page.locator("input[type=password]").fill("s3cret")
        page.locator("button").filter(has_text="Login").click()
        page.locator("#question textarea").fill("When did Gorbachev visit Beijing?")
        page.locator("#ask").click()
        page.locator("#chat .message-content a.cite").first.wait_for()
        open_documents(page)
        page.locator("#documents").get_by_text("sino-soviet-relations.txt").wait_for()  # listed on load
        page.screenshot(path=str(ARTIFACTS / "login.png"))
        assert [url for url in failed if "/login" not in url] == []  # nothing the page needed was refused
    finally:
        served.close()


def test_removing_a_document_needs_a_choice_and_a_confirmation(browser, tmp_path):
    """Remove with nothing chosen removes nothing; with a choice it only asks; "Keep it" keeps it; the
    second click removes it. The shipped article survives all of it."""
    from test_app import Served, project_copy

    expect = sync_api.expect
    served = Served(project_copy(tmp_path / "project"))
    try:
        inbox = tmp_path / "inbox" / "one"
        inbox.mkdir(parents=True)
        (inbox / "ferry notes.md").write_text("# Ferry notes\n\nThe Zembla ferry leaves at noon.\n")
        served.service.inbox = tmp_path / "inbox"
        served.service.add_documents([inbox / "ferry notes.md"])
        served.service.background.join(timeout=300)
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(served.url)
        open_documents(page)
        listed = page.locator("#documents")
        listed.get_by_text("ferry notes.md").wait_for()  # the list is current on a fresh page
        page.locator("#remove").click()  # nothing chosen
        page.locator("#status").get_by_text("Choose a document to remove first.").wait_for()
        expect(page.locator("#remove-confirm")).to_be_hidden()

        def choose(name: str) -> None:
            page.locator("#remove-choice input").click()
            page.get_by_role("option", name=name).click()

        choose("ferry notes.md")
        page.locator("#remove").click()
        expect(page.locator("#remove-question")).to_contain_text("Remove ferry notes.md")
        page.locator("#remove-no").click()
        expect(page.locator("#remove-confirm")).to_be_hidden()
        assert "ferry notes.md" in [name for name, _ in served.service.documents()]
        choose("ferry notes.md")
        page.locator("#remove").click()
        page.locator("#remove-yes").click()
        page.locator("#status").get_by_text("Removed ferry notes.md").wait_for()
        served.service.background.join(timeout=300)
        assert [name for name, _ in served.service.documents()] == ["sino-soviet-relations.txt"]
        expect(page.locator("#remove-confirm")).to_be_hidden()
        expect(listed).not_to_contain_text("ferry notes.md")  # the page catches up with the rebuild
        page.screenshot(path=str(ARTIFACTS / "remove-confirmed.png"))
    finally:
        served.close()
