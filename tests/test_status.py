"""The chat's status, one value for the status bar and `GET /api/status`."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rag.index.staleness import Staleness, StaleReason
from rag.service import Status
from rag.web import render
from rag.web.status import ChatStatus

MANIFEST = {"title": "Tea", "source": {"files": [{"name": "tea.txt", "sha256": "ab" * 32, "chars": 120}]},
            "counts": {"chunks": 3, "sentences": 9}, "model": {"name": "sentence-transformers/all-MiniLM-L6-v2"},
            "built_at": "2026-01-02T03:04:05+00:00"}
CHANGED = StaleReason(Staleness.SOURCE_CHANGED, "tea.txt changed")
CHUNKER = StaleReason(Staleness.CHUNKER, "built with other chunk settings")


def status(reasons=(), **kwargs) -> ChatStatus:
    return ChatStatus(Status(MANIFEST, Path("/elsewhere/tea.txt"), list(reasons)), (("tea.txt", 3),), **kwargs)


@pytest.mark.parametrize("shown, warning", [
    (status(), ""),
    (status([CHANGED]), "The source changed since the index was built"),
    (status([CHUNKER]), "built with other chunk settings"),
    (status([CHANGED], progress=(0.5, "Embedding tea.txt")), ""),  # the bar says it is being dealt with
    (status([CHANGED], updating=True), ""),  # an upload's rebuild, started, before its first report
    (status([CHANGED], error="Rebuild failed"), ""),  # the error says more than the warning
])
def test_the_warning_is_given_only_when_nothing_else_explains_it(shown, warning):
    assert shown.warning == warning


def test_the_page_and_the_api_tell_the_same_story():
    shown = dataclasses.replace(status([CHANGED]), message="Added kettle.txt.")
    data = shown.to_json()
    page = render.status_html(shown)
    assert data["warning"] in page and data["message"] in page
    assert data["documents"] == [{"name": "tea.txt", "chunks": 3}] and data["progress"] is None
    assert data["fresh"] is False and data["stale"] == ["tea.txt changed"]


def test_a_running_rebuild_is_a_bar_on_the_page_and_a_fraction_in_the_api():
    shown = status([CHANGED], progress=(0.25, "Embedding tea.txt: 10 of 40"))
    assert shown.to_json()["progress"] == {"fraction": 0.25, "text": "Embedding tea.txt: 10 of 40"}
    assert '<progress max="1" value="0.25">' in render.status_html(shown)
    assert "status-warning" not in render.status_html(shown)


def test_the_status_bar_names_the_source_without_its_server_folder():
    page = render.status_html(status())
    assert "<b>tea.txt</b>" in page and "elsewhere" not in page
    assert "sha256 abababababab" in page and "3 chunks" in page and "2026-01-02 03:04:05 UTC" in page


@pytest.mark.parametrize("error, shown", [
    ("Rebuild failed: Source folder /srv/docs holds no file of a type this reads.",
     "Rebuild failed: Source folder docs holds no file of a type this reads."),
    ("Rebuild failed: Cannot read source /srv/docs/tea.txt: Permission denied.",
     "Rebuild failed: Cannot read source tea.txt: Permission denied."),
    ("Rebuild failed: the disk is full.", "Rebuild failed: the disk is full."),
])
def test_the_api_gives_out_no_server_path(error, shown):
    served = ChatStatus(Status(MANIFEST, Path("/srv/docs"), []), (("tea.txt", 3),), error=error)
    assert served.to_json()["error"] == shown


def test_the_status_json_tells_what_the_build_left_out():
    manifest = {**MANIFEST, "skipped": [{"source": "tea.txt", "section": "References", "chars": 43}]}
    data = ChatStatus(Status(manifest, Path("/srv/docs"), []), (("tea.txt", 3),)).to_json()
    assert data["left_out"] == "left out 1 trailing back-matter section (References; 43 characters)"


def test_a_source_at_the_root_keeps_the_other_slashes():
    error = "Rebuild failed: /docs/tea.txt changed; see /index/manifest.json and/or http://x."
    served = ChatStatus(Status(MANIFEST, Path("/docs"), []), (("tea.txt", 3),), error=error)
    assert served.to_json()["error"] == "Rebuild failed: tea.txt changed; see /index/manifest.json and/or http://x."
