"""The JSON API beside the chat (`POST /api/ask`, `GET /api/status`) and the guards in front of every
route: body caps before reading, auth, and the backoff on failed logins."""
from __future__ import annotations

import base64
import json
import re
import socket
import threading

import httpx
import pytest

gradio_client = pytest.importorskip("gradio_client")

from test_app import Served, check_answer_json, project_copy  # noqa: E402

from rag.web.access import Throttle, credentials_ok  # noqa: E402
from rag.web.chat import ChatService  # noqa: E402
from rag.web.limits import Limits  # noqa: E402

AUTH = ("ann", "s3cret")


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- the pieces, table-driven

@pytest.mark.parametrize("header, token, ok", [
    (None, None, False),
    ("", "tok", False),
    (basic("ann", "s3cret"), None, True),
    (basic("ann", "wrong"), None, False),
    (basic("bob", "s3cret"), None, False),
    ("Basic not-base64!!", None, False),
    ("Bearer tok", "tok", True),
    ("Bearer tok", None, False),
    ("Bearer other", "tok", False),
    ("Digest x", "tok", False),
])
def test_which_credentials_open_the_api(header, token, ok):
    assert credentials_ok(header, AUTH, token) is ok


def test_without_auth_the_api_is_open():
    assert credentials_ok(None, None, None) is True


@pytest.mark.parametrize("path, cap", [
    ("/api/ask", 32_000),
    ("/gradio_api/queue/join", 32_000),
    ("/gradio_api/upload", 100_000_000),
    ("/gradio_api/upload/", 100_000_000),
    ("/gradio_api/uploads", 32_000),
])
def test_only_the_upload_route_takes_large_bodies(path, cap):
    assert Limits().cap(path) == cap


@pytest.mark.parametrize("failures, seconds_since, wait", [
    (0, 0.0, 0.0),
    (4, 0.0, 0.0),  # the first free_failures attempts are not slowed
    (5, 0.0, 1.0),
    (6, 0.0, 2.0),
    (7, 1.5, 2.5),
    (5, 2.0, 0.0),  # waited long enough
    (40, 0.0, 300.0),  # capped
])
def test_login_backoff_grows_with_failures_in_a_row(failures, seconds_since, wait):
    now = 1000.0
    throttle = Throttle(clock=lambda: now)
    throttle.failures["1.2.3.4"] = (failures, now - seconds_since)
    assert throttle.wait_for("1.2.3.4") == pytest.approx(wait)
    assert throttle.wait_for("5.6.7.8") == 0.0


def test_an_attempt_counts_as_failed_until_it_succeeds():
    throttle = Throttle(free_failures=2, clock=lambda: 0.0)
    assert [throttle.attempt("a") for _ in range(3)] == [0.0, 0.0, 1.0]  # parallel guesses: the third waits
    throttle.succeeded("a")
    assert throttle.attempt("a") == 0.0 and throttle.failures["a"] == (1, 0.0)


def test_the_throttle_remembers_a_bounded_number_of_clients():
    throttle = Throttle(most_clients=3, clock=lambda: 0.0)
    for client in "abcde":
        throttle.attempt(client)
    assert list(throttle.failures) == ["c", "d", "e"]


def test_non_ascii_credentials_are_compared_not_crashed_on():
    header = basic("josé", "pässword")
    assert credentials_ok(header, ("josé", "pässword"), None) is True
    assert credentials_ok(header, ("jose", "pässword"), None) is False
    assert credentials_ok("Bearer tök", ("a", "b"), "tok") is False


# -- the running server

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with Served(project_copy(tmp_path_factory.mktemp("api"))) as server:
        yield server


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    with Served(project_copy(tmp_path_factory.mktemp("api-auth")), auth=AUTH, token="tok") as server:
        yield server


@pytest.fixture
def throttled(tmp_path_factory):
    """A fresh server whose throttle slows the fourth failure in a row for 30 s."""
    with Served(project_copy(tmp_path_factory.mktemp("api-throttle")), auth=AUTH,
                login_throttle={"free_failures": 3, "base_delay": 30.0}) as server:
        yield server


@pytest.mark.slow
def test_api_ask_answers_in_one_request(served):
    reply = httpx.post(served.url + "api/ask", json={"question": "When did Gorbachev visit Beijing?", "k": 5})
    assert reply.status_code == 200
    data = reply.json()
    assert "1989" in data["answer"] and not data["refused"]
    check_answer_json(data)


@pytest.mark.slow
def test_api_ask_takes_a_history_for_follow_ups(served):
    data = httpx.post(served.url + "api/ask", json={"question": "When did they enter?",
                                                    "history": ["Who did Mao send to Korea?"]}).json()
    assert "korea" in data["query"]
    check_answer_json(data)


@pytest.mark.slow
@pytest.mark.parametrize("body, message", [
    ({"question": ""}, "Please type a question"),
    ({"k": 5}, "The question must be text"),
    ({"question": "Who?", "k": 0}, "k must be a whole number from 1 to 20"),
    ({"question": "Who?", "k": 3.7}, "k must be a whole number from 1 to 20"),
    ({"question": "Who?", "history": "Mao"}, "history must be a list"),
    ({"question": "Who?", "answerer": "nobody"}, "Unknown answerer"),
    ({"question": "Who?", "kk": 3}, "Unknown field(s): kk"),
    (["Who?"], "Send a JSON object"),
])
def test_api_ask_bad_input_is_a_400_with_a_message(served, body, message):
    reply = httpx.post(served.url + "api/ask", json=body)
    assert reply.status_code == 400
    assert message in reply.json()["error"]


@pytest.mark.slow
def test_api_ask_invalid_json_is_a_400(served):
    reply = httpx.post(served.url + "api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert reply.status_code == 400 and "JSON object" in reply.json()["error"]


@pytest.mark.slow
def test_api_status_describes_the_index(served):
    data = httpx.get(served.url + "api/status").json()
    assert data["fresh"] is True and data["stale"] == []
    assert data["chunks"] > 10 and data["title"]
    assert data["documents"][0]["name"] == "sino-soviet-relations.txt"
    assert data["files"][0]["name"] == "sino-soviet-relations.txt" and data["sentences"] > data["chunks"]
    assert "/" not in json.dumps(data["files"])  # names only: no server path is given out


def raw_request(port: int, head: str) -> bytes:
    """Send request headers only, so a body can be declared without being sent; read the whole reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.encode())
        reply = b""
        while b"\r\n\r\n" not in reply or len(reply.partition(b"\r\n\r\n")[2]) < int(
                re.search(rb"content-length: (\d+)", reply, re.I).group(1)):
            piece = s.recv(4096)
            if not piece:
                break
            reply += piece
        return reply


@pytest.mark.slow
def test_a_large_declared_body_is_refused_before_it_is_read(served):
    head = ("POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 200000000\r\n\r\n")
    reply = raw_request(served.port, head)  # 200 MB announced, none of it sent: the answer comes anyway
    assert reply.startswith(b"HTTP/1.1 413")
    assert b"larger than this server takes" in reply


@pytest.mark.slow
def test_a_streamed_body_is_stopped_at_the_cap(served):
    def chunks():
        for _ in range(100):
            yield b"x" * 1000

    reply = httpx.post(served.url + "api/ask", content=chunks())  # no Content-Length: chunked
    assert reply.status_code == 413


@pytest.mark.slow
def test_uploads_over_the_cap_are_refused_and_questions_cannot_upload(served):
    head = "POST /gradio_api/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n" \
           "Content-Length: 150000000\r\n\r\n"
    assert raw_request(served.port, head).startswith(b"HTTP/1.1 413")
    join = httpx.post(served.url + "gradio_api/queue/join", content=b"x" * 50_000,
                      headers={"content-type": "application/json"})
    assert join.status_code == 413


@pytest.mark.slow
@pytest.mark.parametrize("headers, status", [
    ({}, 401),
    ({"Authorization": basic("ann", "wrong")}, 401),
    ({"Authorization": basic(*AUTH)}, 200),
    ({"Authorization": "Bearer tok"}, 200),
])
def test_with_auth_the_api_needs_credentials(guarded, headers, status):
    ask = httpx.post(guarded.url + "api/ask", json={"question": "When did Gorbachev visit Beijing?"},
                     headers=headers)
    state = httpx.get(guarded.url + "api/status", headers=headers)
    assert (ask.status_code, state.status_code) == (status, status)


@pytest.mark.slow
def test_failed_logins_are_slowed_per_client(throttled):
    def login(password: str, client: str = "127.0.0.1") -> int:
        with httpx.Client(transport=httpx.HTTPTransport(local_address=client)) as http:
            return http.post(throttled.url + "login", data={"username": "ann", "password": password}).status_code

    assert [login(f"guess{i}") for i in range(5)] == [400, 400, 400, 429, 429]
    assert login("s3cret") == 429  # even the right password waits its turn
    assert login("guess", client="127.0.0.2") == 400  # another client is not slowed
    assert login("s3cret", client="127.0.0.2") == 200


@pytest.mark.slow
def test_password_guesses_on_the_api_are_slowed_like_logins(throttled):
    wrong = {"Authorization": basic("ann", "guess")}
    codes = [httpx.get(throttled.url + "api/status", headers=wrong).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    right = httpx.post(throttled.url + "login", data={"username": "ann", "password": "s3cret"})
    assert right.status_code == 429  # one count of failures per client, whichever door it knocks on


@pytest.mark.slow
@pytest.mark.parametrize("method, path, allowed", [("GET", "api/ask", "POST"), ("PUT", "api/ask", "POST"),
                                                   ("POST", "api/status", "GET")])
def test_a_wrong_method_is_a_405_in_the_apis_own_shape(served, method, path, allowed):
    reply = httpx.request(method, served.url + path, timeout=10)
    assert reply.status_code == 405 and reply.headers["allow"] == allowed
    assert reply.json() == {"error": f"/{path} takes {allowed} only."}


@pytest.mark.slow
def test_requests_without_credentials_are_no_guesses(throttled):
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.3")) as http:
        codes = [http.get(throttled.url + "api/status").status_code for _ in range(6)]
        assert codes == [401] * 6  # a client that asks first without credentials is not locked out
        assert http.get(throttled.url + "api/status", headers={"Authorization": basic(*AUTH)}).status_code == 200


@pytest.mark.slow
def test_concurrent_api_questions_during_a_rebuild_all_get_valid_answers(served):
    questions = ["When did Gorbachev visit Beijing?", "Who did Mao send to Korea?",
                 "What was the Sino-Soviet border conflict?", "Who was the first woman on the Moon?"]
    failures: list[str] = []
    answered = threading.Semaphore(0)

    def user(n: int) -> None:
        with httpx.Client(timeout=60) as client:
            for i in range(8):
                reply = client.post(served.url + "api/ask", json={"question": questions[(n + i) % len(questions)]})
                answered.release()
                if reply.status_code != 200:
                    failures.append(reply.text)
                    continue
                try:
                    check_answer_json(reply.json())
                except AssertionError:
                    failures.append(f"invalid citations: {reply.text[:200]}")

    source = served.service.settings.source_or_none
    source.write_text(source.read_text(encoding="utf-8") + "\n\nArchives\n\nThe talks' minutes were opened to "
                      "historians in 2031.\n", encoding="utf-8")
    users = [threading.Thread(target=user, args=(n,)) for n in range(8)]
    for t in users:
        t.start()
    for _ in range(8):
        answered.acquire(timeout=60)  # answers are flowing: now swap the index under them
    outcome = served.service.rebuild()
    for t in users:
        t.join()
    assert outcome.startswith("Rebuilt:") and "embedded 0," not in outcome
    assert failures == []
    assert "2031" in httpx.post(served.url + "api/ask", json={"question": "When were the talks' minutes opened "
                                                                          "to historians?"}).json()["answer"]


@pytest.mark.slow
def test_the_switch_serves_the_api_and_a_starting_page_then_the_chat(tmp_path):
    from test_app import free_port

    from rag.web import app as web
    from rag.web.server import Switch, create_server, create_starting, serve

    service = ChatService(project_copy(tmp_path))
    switch = Switch(create_starting(service))
    port = free_port()
    running = serve(switch, "127.0.0.1", port, block=False)
    url = f"http://127.0.0.1:{port}/"
    try:
        page = httpx.get(url)
        assert page.status_code == 503 and "Starting the chat" in page.text and 'http-equiv="refresh"' in page.text
        assert "1989" in httpx.post(url + "api/ask", json={"question": "When did Gorbachev visit Beijing?"}).json()["answer"]
        switch.switch_to(create_server(service, web.build_app(service)))
        page = httpx.get(url)
        assert page.status_code == 200 and "Ask: Sino-Soviet relations" in page.text
        answer = gradio_client.Client(url, verbose=False).predict("When did Gorbachev visit Beijing?", 5, None,
                                                                  api_name="/ask")
        assert "1989" in answer["answer"]  # Gradio's queue runs in the swapped-in application
    finally:
        running.close()


@pytest.mark.slow
def test_a_chat_that_cannot_start_says_so_and_the_api_stays(tmp_path):
    from test_app import free_port

    from rag.web.server import Switch, create_starting, serve

    service = ChatService(project_copy(tmp_path))
    switch = Switch(create_starting(service))
    running = serve(switch, "127.0.0.1", port := free_port(), block=False)
    url = f"http://127.0.0.1:{port}/"
    try:
        switch.fail()
        page = httpx.get(url)
        assert page.status_code == 503 and "could not start" in page.text and "refresh" not in page.text
        assert httpx.post(url + "api/ask", json={"question": "When did Gorbachev visit Beijing?"}).status_code == 200
    finally:
        running.close()


@pytest.mark.slow
def test_python_app_answers_the_api_and_then_serves_the_chat(tmp_path):
    """`python app.py` as a person runs it: the API first, the chat once Gradio is loaded."""
    import subprocess
    import sys
    import time

    from conftest import ROOT
    from test_app import free_port

    settings = project_copy(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    process = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--index", str(settings.index_dir),
                                "--source", str(settings.source_or_none)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first = None
        deadline = time.monotonic() + 120
        while first is None and time.monotonic() < deadline:
            try:
                first = httpx.post(url + "api/ask", json={"question": "When did Gorbachev visit Beijing?"}, timeout=30)
            except httpx.HTTPError:
                time.sleep(0.05)
        assert first is not None and "1989" in first.json()["answer"]
        while not httpx.get(url + "api/status").json()["chat_ready"] and time.monotonic() < deadline:
            time.sleep(0.2)
        page = httpx.get(url)
        assert page.status_code == 200 and "Ask: Sino-Soviet relations" in page.text
    finally:
        process.terminate()
        process.wait(timeout=20)
