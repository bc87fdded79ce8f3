"""One plugin mechanism for answerers, embedders and readers, built-ins and extensions alike.

A registry maps names to things (a factory, a reader function). The project's own register themselves
with `register`, in the module that defines them; another package adds its own the same way through a
Python entry point in the registry's group, whose target is a function given the registry:

    # the plugin's pyproject.toml
    [project.entry-points."rag.readers"]
    rtf = "rag_rtf:register"          # def register(readers): readers.register(".rtf", read_rtf)

Plugins load once, the first time a registry is read; one that fails to load is a `RagError` naming it.
An unknown name is a `RagError` (or the subclass the registry is given) that lists the valid ones.
"""
from __future__ import annotations

import threading
from importlib import metadata
from typing import Callable, Generic, Iterator, TypeVar

from rag.errors import RagError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named `T`s of one kind; `group` is the entry-point group plugins register through."""

    def __init__(self, kind: str, group: str, error: type[RagError] = RagError) -> None:
        self.kind = kind
        self.group = group
        self.error = error
        self._items: dict[str, T] = {}
        self._plugins_loaded = False
        self._loading = threading.Lock()

    def register(self, name: str, item: T) -> None:
        self._items[name] = item

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)

    def get(self, name: str) -> T:
        items = self._all()
        if name not in items:
            raise self.error(f"Unknown {self.kind} {name!r}: choose from {', '.join(items)}.")
        return items[name]

    def names(self) -> list[str]:
        return list(self._all())

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(list(self._all().items()))

    def __contains__(self, name: str) -> bool:
        return name in self._all()

    def _all(self) -> dict[str, T]:
        if self._plugins_loaded:
            return self._items
        with self._loading:  # once, and no reader sees a half-loaded table
            if not self._plugins_loaded:
                for entry in metadata.entry_points(group=self.group):
                    try:
                        plugin: Callable[[Registry[T]], None] = entry.load()
                        plugin(self)
                    except Exception as exc:  # a broken plugin is named, not a traceback
                        raise self.error(f"The {self.kind} plugin {entry.name!r} ({entry.value}) failed to "
                                         f"load: {exc}") from exc
                self._plugins_loaded = True
        return self._items
