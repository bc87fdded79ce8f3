"""The serving path runs on ONNX Runtime: same vectors as sentence-transformers, no PyTorch imported."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, FakeEmbedder

from rag import Pipeline
from rag.errors import IndexCorrupt
from rag.index.build import build_index
from rag.index.folder import read_manifest
from rag.index.staleness import Staleness, stale_reasons


@pytest.mark.slow
def test_onnx_vectors_match_sentence_transformers_on_the_probes():
    from rag.embedding.embedder import MiniLMEmbedder
    from rag.embedding.onnx import MIN_PROBE_COSINE, PROBES, OnnxMiniLM

    onnx, torch = OnnxMiniLM(), MiniLMEmbedder()
    cosines = np.sum(onnx.embed(list(PROBES)) * torch.embed(list(PROBES)), axis=1)
    assert cosines.min() >= MIN_PROBE_COSINE
    assert onnx.describe()["probe_min_cosine"] >= MIN_PROBE_COSINE
    assert onnx.embed([]).shape == (0, 384)


@pytest.mark.slow
def test_one_word_texts_come_from_the_word_table_with_the_models_own_vectors():
    from rag.embedding.onnx import OnnxMiniLM

    texts = ["distrust", "the", "1989", "Khrushchev", "photosynthesis", "When did Gorbachev visit Beijing?"]
    with_table, model_only = OnnxMiniLM(), OnnxMiniLM(word_table=False)
    cosines = np.sum(with_table.embed(texts) * model_only.embed(texts), axis=1)
    assert cosines.min() >= 0.99999
    rows_of, vectors = with_table._table
    tokenizer = with_table.load()[1]
    in_table = [t for t in texts if len(ids := tokenizer.encode(t).ids) == 3 and ids[1] in rows_of]
    assert in_table == ["distrust", "the", "1989"]  # one vocabulary word each; the others are several
    assert vectors.shape == (len(rows_of), 384) and len(rows_of) > 20_000


@pytest.mark.slow
def test_asking_never_imports_torch():
    script = ("import sys; from rag.service import RagService; from rag.settings import Settings; "
              "s = RagService.start(Settings.from_env(), build_if_needed=False); "
              "a = s.pipeline.ask('When did Gorbachev visit Beijing?'); "
              "print(json.dumps({'answer': a.answer, 'modules': sorted(m for m in ('torch', 'transformers', "
              "'sentence_transformers', 'gradio') if m in sys.modules)}))")
    out = subprocess.run([sys.executable, "-c", "import json; " + script], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "May 1989" in result["answer"]
    assert result["modules"] == []


@pytest.mark.slow
def test_rag_info_loads_no_model():
    out = subprocess.run([sys.executable, "-c", "import sys; from rag.cli import main; main(['info']); "
                          "print(sorted(m for m in ('torch', 'onnxruntime', 'gradio') if m in sys.modules))"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "status:   fresh" in out.stdout and out.stdout.strip().splitlines()[-1] == "[]"


class OtherWeights(FakeEmbedder):
    """The same model name, other weights (or the same weights at another precision or quantization)."""

    def __init__(self, weights: str, precision: str | None = None, quantization: str | None = None) -> None:
        super().__init__()
        self.weights, self.precision, self.quantization = weights, precision, quantization

    def describe(self) -> dict:
        return {"runtime": "test", "weights_sha256": self.weights,
                **({"precision": self.precision} if self.precision else {}),
                **({"quantization": self.quantization} if self.quantization else {})}


def test_an_index_built_from_other_weights_is_stale_with_its_reason(tmp_path: Path, small_source: Path):
    build_index(small_source, tmp_path / "index", OtherWeights("a" * 64))
    manifest = read_manifest(tmp_path / "index")
    assert manifest["embedding"] == {"runtime": "test", "weights_sha256": "a" * 64}
    assert stale_reasons(manifest, small_source, OtherWeights("a" * 64)) == []
    [reason] = stale_reasons(manifest, small_source, OtherWeights("b" * 64))
    assert reason.kind == Staleness.MODEL
    assert reason.message == ("built with other weights of fake-hash-embedder (sha256 aaaaaaaaaaaa, "
                              "now bbbbbbbbbbbb)")
    with pytest.raises(IndexCorrupt, match="built with other weights of fake-hash-embedder"):
        Pipeline.load(tmp_path / "index", OtherWeights("b" * 64))


def test_an_index_built_at_another_precision_is_stale_and_refused(tmp_path: Path, small_source: Path):
    build_index(small_source, tmp_path / "index", OtherWeights("a" * 64, "fp32"))
    manifest = read_manifest(tmp_path / "index")
    [reason] = stale_reasons(manifest, small_source, OtherWeights("a" * 64, "int8"))
    assert (reason.kind, reason.message) == (Staleness.MODEL, "built with fp32 embeddings, not int8")
    with pytest.raises(IndexCorrupt, match="built with fp32 embeddings, not int8"):
        Pipeline.load(tmp_path / "index", OtherWeights("a" * 64, "int8"))


@pytest.mark.slow
def test_int8_is_a_recorded_quantization_of_the_fp32_export(tmp_path):
    """Quantized once into the cache, beside the fp32 file; its record says how close it stays."""
    import shutil

    from rag.embedding.onnx import OnnxMiniLM

    fp32 = OnnxMiniLM()
    cache = tmp_path / "cache"
    shutil.copytree(fp32.folder(), cache / "onnx" / fp32.folder().name,
                    ignore=shutil.ignore_patterns("*int8*"))
    int8 = OnnxMiniLM(cache=cache, precision="int8")
    described = int8.describe()
    assert described["precision"] == "int8" and described["weights_sha256"] == fp32.describe()["weights_sha256"]
    assert 0.8 < described["probe_min_cosine"] < 0.9999
    assert (cache / "onnx" / fp32.folder().name / "model-int8-per-channel.onnx").exists()
    cosine = float(int8.embed(["When did Gorbachev visit Beijing?"])[0] @ fp32.embed(["When did Gorbachev visit Beijing?"])[0])
    assert cosine > 0.9


@pytest.mark.parametrize("lengths, size, batches", [
    ([3, 15, 4, 3], 64, [[0, 3, 2], [1]]),  # short words apart from the long question
    ([5, 5, 5, 5], 2, [[0, 1], [2, 3]]),  # never more than `size` rows
    ([10], 64, [[0]]),
])
def test_length_batches(lengths, size, batches):
    from rag.embedding.onnx import length_batches

    assert length_batches(lengths, size) == batches


@pytest.mark.slow
def test_a_bulk_build_runs_batches_side_by_side_with_the_same_vectors():
    from rag.embedding.onnx import OnnxMiniLM

    texts = [f"The ferry to Skelholm leaves at {h} o'clock and takes {h * 7} minutes in calm weather." * (h % 3 + 1)
             for h in range(1, 19)]
    one = OnnxMiniLM(batch_size=4, precision="int8", word_table=False)
    two = OnnxMiniLM(batch_size=4, precision="int8", word_table=False, workers=2)
    assert np.abs(one.embed(texts) - two.embed(texts)).max() < 1e-5


def test_an_int8_index_of_the_older_quantization_is_stale_and_its_vectors_are_not_reused(tmp_path: Path,
                                                                                      small_source: Path):
    build_index(small_source, tmp_path / "index", OtherWeights("a" * 64, "int8"))  # before: no quantization named
    manifest = read_manifest(tmp_path / "index")
    now = OtherWeights("a" * 64, "int8", "per-channel")
    [reason] = stale_reasons(manifest, small_source, now)
    assert (reason.kind, reason.message) == (Staleness.MODEL, "built with per-matrix int8 embeddings, not per-channel")
    report = build_index(small_source, tmp_path / "index", now)
    assert report.reused == 0 and report.embedded > 0
    assert stale_reasons(read_manifest(tmp_path / "index"), small_source, now) == []
