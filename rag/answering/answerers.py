"""Answerers by name (a `rag.registry.Registry`: plugins add theirs through the "rag.answerers" entry
points). Built-ins register here the same way a plugin or a test's scripted answerer would; the CLI's
choices, the app's dropdown and the service all read this one table."""
from __future__ import annotations

from typing import Callable

from rag.errors import AnswererError
from rag.registry import Registry
from rag.types import Answerer

# name -> factory(settings) -> the answerer, or None when it is not configured
Factory = Callable[[object], "Answerer | None"]
ANSWERERS: Registry[Factory] = Registry("answerer", "rag.answerers", AnswererError)


def names() -> list[str]:
    return ANSWERERS.names()


def configured(settings) -> dict[str, Answerer]:
    """Every answerer the settings configure (the extractive one always), checking the chosen one exists."""
    ANSWERERS.get(settings.answerer)
    out = {}
    for name, factory in ANSWERERS.items():
        answerer = factory(settings)
        if answerer is not None:
            out[name] = answerer
    return out


def _extractive(settings) -> Answerer:
    from rag.answering.extractive import ExtractiveAnswerer  # each answerer loads only when configured

    return ExtractiveAnswerer()


def _openai(settings) -> Answerer | None:
    if not (settings.openai_base_url or settings.answerer == "openai"):
        return None
    from rag.answering.generative import OpenAIAnswerer  # optional: httpx, only for an endpoint

    return OpenAIAnswerer(settings.openai_base_url or "", settings.openai_model or "", settings.openai_api_key,
                          settings.llm_timeout)


def _local(settings) -> Answerer | None:
    if not (settings.local_model or settings.answerer == "local"):
        return None
    if not settings.local_model:
        raise AnswererError("The local answerer needs --model (a folder, a .gguf file, or gemma3-270m) or "
                            "RAG_LOCAL_MODEL.")
    from rag.answering.generative import LocalAnswerer  # optional heavy: PyTorch and a GGUF model

    return LocalAnswerer(settings.local_model, timeout=max(settings.llm_timeout, 120.0))


ANSWERERS.register("extractive", _extractive)
ANSWERERS.register("openai", _openai)
ANSWERERS.register("local", _local)
