"""The one plugin mechanism: built-ins and entry-point plugins register the same way, and an unknown name
is a user-facing error that lists the valid ones."""
from importlib import metadata
from pathlib import Path

import pytest

from rag import registry as registry_module
from rag.answering.answerers import ANSWERERS
from rag.embedding.embedders import EMBEDDERS
from rag.errors import AnswererError, RagError, SourceError
from rag.ingest import readers
from rag.ingest.readers import READERS, Extracted
from rag.registry import Registry


def read_shouting(data: bytes, path: Path) -> Extracted:
    return Extracted(data.decode().upper())


def plugin(registry: Registry) -> None:
    registry.register(".shout", read_shouting)


@pytest.fixture
def a_reader_plugin(monkeypatch):
    """A package that declares a reader in the "rag.readers" entry-point group."""
    built_ins = list(READERS.items())  # read before the fake entry point exists: it reaches only `fresh`
    entry = metadata.EntryPoint("shout", f"{__name__}:plugin", "rag.readers")
    monkeypatch.setattr(registry_module.metadata, "entry_points",
                        lambda group: [entry] if group == "rag.readers" else [])
    fresh = Registry("file type", "rag.readers", SourceError)
    for name, item in built_ins:
        fresh.register(name, item)
    monkeypatch.setattr(readers, "READERS", fresh)
    return fresh


def test_a_plugin_reader_is_used_like_a_built_in(a_reader_plugin):
    assert ".shout" in readers.suffixes() and ".pdf" in readers.suffixes()
    assert readers.read(b"tea is grown here.", Path("notes.shout")).text == "TEA IS GROWN HERE."


@pytest.mark.parametrize("table, name, error, listed", [
    (ANSWERERS, "oracle", AnswererError, "extractive"),
    (EMBEDDERS, "word2vec", RagError, "minilm"),
    (READERS, ".xyz", SourceError, ".pdf"),
])
def test_an_unknown_name_lists_the_valid_ones(table, name, error, listed):
    with pytest.raises(error, match=f"Unknown .*{name}.*choose from .*{listed}"):
        table.get(name)


def test_registering_and_unregistering():
    table: Registry[int] = Registry("number", "rag.test-numbers")
    table.register("one", 1)
    assert (table.get("one"), table.names(), "two" in table) == (1, ["one"], False)
    table.unregister("one")
    assert table.names() == []


def broken(registry: Registry) -> None:
    raise ImportError("no module named rtf_parser")


def test_a_plugin_that_fails_to_load_is_named_in_a_user_facing_error(monkeypatch):
    entry = metadata.EntryPoint("rtf", f"{__name__}:broken", "rag.test-readers")
    monkeypatch.setattr(registry_module.metadata, "entry_points", lambda group: [entry])
    table: Registry[int] = Registry("file type", "rag.test-readers", SourceError)
    with pytest.raises(SourceError, match="plugin 'rtf'.*failed to load: no module named rtf_parser"):
        table.names()
