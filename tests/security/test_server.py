"""Attacks on the server itself: proxy headers, unauthenticated streams and pages, inputs that gave 500,
connections held open, malformed ranges, a port in TIME_WAIT, an API token without auth."""
from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from test_api import AUTH, guarded, served, throttled  # noqa: F401 (fixtures: the same servers as the API tests)

from rag.web import access, launch, limits, server


@pytest.mark.slow
def test_a_rotating_forwarded_for_header_does_not_escape_the_backoff(throttled):
    wrong = httpx.BasicAuth("ann", "guess")
    codes = [httpx.get(throttled.url + "api/status", auth=wrong, headers={"X-Forwarded-For": f"10.9.0.{i}"}).status_code
             for i in range(5)]
    assert codes == [401, 401, 401, 429, 429]


def test_a_right_password_passes_once_the_current_wait_is_over():
    clock = [0.0]
    throttle = access.Throttle(free_failures=2, base_delay=10.0, clock=lambda: clock[0])
    for _ in range(2):
        assert throttle.attempt("c") == 0
    wait = throttle.attempt("c")
    assert wait == 10.0
    clock[0] += wait
    assert throttle.attempt("c") == 0  # the right password gets its turn
    throttle.succeeded("c")
    assert throttle.wait_for("c") == 0


@pytest.mark.slow
@pytest.mark.parametrize("path", ["gradio_api/heartbeat/anything", "gradio_api/app_id", "gradio_api/startup-events",
                                  "gradio_api/queue/data?session_hash=x", "gradio_api/file=/etc/hostname",
                                  "openapi.json", "gradio_api/info", "config", "gradio_api/info/../app_id"])
def test_with_auth_nothing_but_the_login_page_answers_without_a_login(guarded, path):
    reply = httpx.get(guarded.url + path, timeout=5)
    assert reply.status_code in (401, 404)


@pytest.mark.slow
def test_with_auth_the_cancel_route_needs_a_login(guarded):
    assert httpx.post(guarded.url + "gradio_api/cancel", json={"event_id": "x"}, timeout=5).status_code == 401


@pytest.mark.slow
def test_the_login_page_names_no_document_and_no_endpoint(guarded):
    page = httpx.get(guarded.url, timeout=10)
    assert page.status_code == 200 and "auth_required" in page.text
    assert "sino-soviet-relations.txt" not in page.text
    assert '"api_name"' not in page.text and "/upload" not in page.text


@pytest.mark.slow
def test_after_a_login_the_chat_answers(guarded):
    from gradio_client import Client

    client = Client(guarded.url, auth=AUTH, verbose=False)
    assert "1989" in client.predict("When did Gorbachev visit Beijing?", 5, None, api_name="/ask")["answer"]


@pytest.mark.slow
@pytest.mark.parametrize("body", [
    '{"question": "\\ud800 when?"}',
    '{"question": "When?", "k": ' + "1" * 400 + "}",
    "[" * 1000 + "]" * 1000,
    '{"question": "When?", "history": ["' + " " * 31_000 + '"]}',
])
def test_inputs_that_crashed_the_api_are_a_400(served, body):
    reply = httpx.post(served.url + "api/ask", content=body, headers={"Content-Type": "application/json"},
                       timeout=10)
    assert reply.status_code == 400 and reply.json()["error"]


@pytest.mark.slow
@pytest.mark.parametrize("value", ["bytes=1-2-3", "bytes=abc", "lines=0-1", "bytes=--1"])
def test_a_malformed_range_is_a_416(served, value):
    reply = httpx.get(served.url + "gradio_api/file=x.txt", headers={"Range": value}, timeout=5)
    assert reply.status_code == 416


def test_open_requests_per_client_are_bounded():
    release = asyncio.Event()

    async def slow_app(scope, receive, send):
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    cap = limits.ConnectionCap(slow_app, most=2)

    async def request(client: str) -> int:
        sent = []

        async def send(message):
            sent.append(message)

        async def receive():
            return {"type": "http.request", "body": b""}

        await cap({"type": "http", "path": "/", "method": "GET", "headers": [], "client": (client, 1)}, receive, send)
        return sent[0]["status"]

    async def scenario():
        held = [asyncio.create_task(request("a")) for _ in range(2)]
        await asyncio.sleep(0.01)
        third, other = await asyncio.wait_for(asyncio.gather(asyncio.create_task(request("a")),
                                                             asyncio.wait_for(request("b"), 0.05), return_exceptions=True), 1)
        release.set()
        return third, [await t for t in held], other

    third, held, other = asyncio.run(scenario())
    assert third == 429 and held == [200, 200]
    assert isinstance(other, asyncio.TimeoutError)  # another client is not refused, only waits on the app


def test_a_port_in_time_wait_counts_as_free():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # the server side closes first: its socket waits in TIME_WAIT
    listener.close()
    client.close()
    assert launch.listen_problem("127.0.0.1", port) is None


def test_an_api_token_without_auth_is_warned_about(monkeypatch, capsys):
    monkeypatch.setenv("RAG_API_TOKEN", "tok")
    monkeypatch.setattr(launch, "listen_problem", lambda host, port: "stop")  # stop right after the checks
    assert launch.main(["--port", "1"]) == 1
    assert "RAG_API_TOKEN is set but auth is off" in capsys.readouterr().err


@pytest.mark.slow
def test_the_sign_in_gate_is_no_password_oracle(guarded):
    """Only a login's cookie passes the gate: credentials in a header are not checked there, so right
    and wrong passwords get the same answer, and guessing goes through the login's backoff only."""
    answers = {httpx.get(guarded.url + "gradio_api/app_id", auth=httpx.BasicAuth("ann", password), timeout=5).text
               for password in ("wrong1", "wrong2", AUTH[1])}
    assert answers == {'{"error":"Log in first."}'}


def test_gradios_upload_folder_is_a_private_one_inside_the_named_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    inbox = launch.private_inbox()
    assert inbox.parent == tmp_path and inbox.name.startswith("rag-uploads-")
    assert launch.os.environ["GRADIO_TEMP_DIR"] == str(inbox)


@pytest.mark.slow
@pytest.mark.parametrize("value, status", [("bytes=0-3", 206), ("bytes=1-2-3", 416), ("bytes=0-0,2-3", 416),
                                           ("bytes=0-1, 5-2", 416), ("bytes=5-1", 416), ("bytes=-2", 206)])
def test_ranges_on_a_real_file(served, value, status):
    uploaded = httpx.post(served.url + "gradio_api/upload", files={"files": ("r.txt", b"0123456789")}).json()[0]
    reply = httpx.get(served.url + f"gradio_api/file={uploaded}", headers={"Range": value}, timeout=5)
    assert reply.status_code == status


def test_uploads_in_flight_count_against_the_quota(tmp_path):
    release = asyncio.Event()

    async def slow_app(scope, receive, send):
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    quota = limits.UploadQuota(slow_app, inbox=lambda: tmp_path, most=250, per_client=150)

    async def upload(client: str, size: int) -> int:
        sent = []

        async def send(message):
            sent.append(message)

        async def receive():
            return {"type": "http.request", "body": b""}

        scope = {"type": "http", "path": "/gradio_api/upload", "method": "POST", "client": (client, 1),
                 "headers": [(b"content-length", str(size).encode())]}
        await quota(scope, receive, send)
        return sent[0]["status"]

    async def scenario():
        first = asyncio.create_task(upload("a", 100))
        await asyncio.sleep(0.01)
        same_client = await upload("a", 100)  # 200 of a's own in flight: over its 150
        other = asyncio.create_task(upload("b", 100))
        await asyncio.sleep(0.01)
        over_all = await upload("c", 100)  # 300 in flight: over the 250 of the inbox
        release.set()
        return same_client, over_all, await first, await other

    assert asyncio.run(scenario()) == (413, 413, 200, 200)


def test_half_open_connections_cannot_take_every_descriptor():
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    port = __import__("test_app").free_port()
    running = server.serve(app, "127.0.0.1", port, block=False, max_connections=4)
    held = []
    try:
        for _ in range(8):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the end of the headers
            held.append(s)
        reply = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert reply.status_code == 503
    finally:
        for s in held:
            s.close()
        running.close()


def asgi_call(app, scope_extra: dict) -> int:
    """The status an ASGI app answers for one request (`scope_extra` over a plain GET of /)."""
    async def run():
        sent = []

        async def send(message):
            sent.append(message)

        async def receive():
            return {"type": "http.request", "body": b""}

        scope = {"type": "http", "path": "/", "method": "GET", "headers": [], "client": ("c", 1), **scope_extra}
        await app(scope, receive, send)
        return sent[0]["status"]

    return asyncio.run(run())


async def ok_app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.mark.parametrize("headers, status", [
    ([(b"content-length", b"10")], 200),
    ([], 411),  # chunked: it would be counted only once stored
    ([(b"transfer-encoding", b"chunked")], 411),
])
def test_an_upload_must_declare_its_length(tmp_path, headers, status):
    quota = limits.UploadQuota(ok_app, inbox=lambda: tmp_path)
    assert asgi_call(quota, {"path": "/gradio_api/upload", "method": "POST", "headers": headers}) == status


def test_an_inbox_of_many_small_files_takes_no_more(tmp_path):
    for i in range(5):
        (tmp_path / f"f{i}").write_bytes(b"")
    quota = limits.UploadQuota(ok_app, inbox=lambda: tmp_path, most_files=5)
    scope = {"path": "/gradio_api/upload", "method": "POST", "headers": [(b"content-length", b"1")]}
    assert asgi_call(quota, scope) == 413


@pytest.mark.parametrize("ranges, status", [
    ([b"bytes=0-1"], 200), ([b"bytes=0-1,2-3", b"bytes=0-1"], 416), ([b"bytes=0-1", b"bytes=0-1"], 416),
])
def test_more_than_one_range_header_is_a_416(ranges, status):
    check = limits.RangeCheck(ok_app)
    scope = {"path": "/gradio_api/file=x", "headers": [(b"range", r) for r in ranges]}
    assert asgi_call(check, scope) == status


def test_upload_folders_of_servers_no_longer_running_are_removed_at_start(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    dead, alive, other = (tmp_path / "rag-uploads-999999999-ab", tmp_path / f"rag-uploads-{launch.os.getpid()}-cd",
                          tmp_path / "someone-elses")
    for folder in (dead, alive, other):
        folder.mkdir()
    launch.private_inbox()
    assert not dead.exists() and alive.exists() and other.exists()
