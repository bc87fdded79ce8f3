"""The conversations of the web chat, one per browser session: each question a turn, the turns before
it its context (follow-ups), the oldest conversations forgotten past `most`."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from rag.types import Answer
from rag.web import render


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
