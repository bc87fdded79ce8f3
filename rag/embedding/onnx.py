"""all-MiniLM-L6-v2 served by ONNX Runtime and the `tokenizers` library: no PyTorch in the serving process.

The ONNX file is exported once from the same weights (with PyTorch, which the project installs for
building), into a cache folder keyed by the weights' sha256, and checked there against
sentence-transformers on a fixed set of probe sentences; `provenance.json` beside it records the
runtime, precision, file hashes and the worst probe cosine, and the index manifest copies it.
Mean pooling over the attention mask and L2 normalisation reproduce the sentence-transformers vectors.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import shutil
import sys
import tempfile
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.embedding.embedder import MODEL_DIM, MODEL_NAME, MiniLMEmbedder
from rag.errors import RagError

PROBES = (
    "When did Gorbachev visit Beijing?",
    "The graphite slows down, or moderates, the neutrons that sustain the chain reaction.",
    "Photosynthesis converts light energy into chemical energy.",
    "how many ppl were evacuated",
    "A much longer sentence, with commas, numbers such as 1,500 and 26 April 1986, and names like Mao "
    "Zedong, Nikita Khrushchev and the Royal Tea Board, to exercise padding and truncation alike.",
    "Ünïcödé and ästhetics — dashes, quotes “like these”, and 中文 characters.",
    "?",
)
MIN_PROBE_COSINE = 0.9999  # below this the export does not reproduce the reference model: refuse it
PRECISIONS = ("fp32", "int8")  # int8: dynamic quantization of the fp32 export (onnxruntime.quantization)
# One scale per output channel of each weight matrix, not one per matrix: its vectors stay far closer to
# fp32 (mean cosine on 1,500 training sentences 0.958 -> 0.992) at the same speed (bench/results.md).
# The files are named for it, so a cache holding the older per-matrix file is not read for it.
INT8_FILES = ("model-int8-per-channel.onnx", "provenance-int8-per-channel.json")
# The bulk model's sessions (`OnnxMiniLM.workers`), one thread each, one per core: on this 2-core machine
# two built 1 MB of text in 133 s against 143 s for one session of two threads, the same vectors
# (bench/results.md, 2026-12-03).
BULK_WORKERS = max(1, min(os.cpu_count() or 1, 8))


def cache_root() -> Path:
    return Path(os.environ.get("RAG_CACHE") or Path.home() / ".cache" / "rag")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class OnnxMiniLM:
    """The default embedder. Same name and dimension as the PyTorch one: their vectors agree to 1e-4."""

    name = MODEL_NAME
    dim = MODEL_DIM

    def __init__(self, batch_size: int = 64, cache: Path | None = None, precision: str = "fp32",
                 word_table: bool = True, workers: int = 1) -> None:
        if precision not in PRECISIONS:
            raise RagError(f"Unknown precision {precision!r}: choose from {', '.join(PRECISIONS)}.")
        self.batch_size = batch_size
        self.cache = cache
        self.precision = precision
        self.word_table = word_table  # off for the throwaway copies that check an export
        # More than 1: that many one-thread sessions run batches side by side, for a large build's
        # throughput (bulk()); a question is one small batch, faster on one session of every core.
        self.workers = workers
        self._free: queue.SimpleQueue = queue.SimpleQueue()  # the sessions no batch is running on
        self._table: tuple[dict[int, int], np.ndarray] | None = None
        self._loaded = None
        self._provenance: dict | None = None  # read once: the status bar asks for it every few seconds
        self._folder: Path | None = None
        self._lock = threading.Lock()
        self._bulk: OnnxMiniLM | None = None

    # -- the artifact

    def folder(self) -> Path:
        if self._folder is None:
            model_dir = Path(MiniLMEmbedder.model_path())
            key = file_sha256(model_dir / "model.safetensors")[:16]  # 90 MB: hashed once per process
            self._folder = (self.cache or cache_root()) / "onnx" / f"all-minilm-l6-v2-{key}"
        return self._folder

    def model_file(self) -> Path:
        return self.folder() / ("model.onnx" if self.precision == "fp32" else INT8_FILES[0])

    def provenance(self) -> dict:
        """The exported file's record, exporting and checking it first if needed (and quantizing it,
        for int8)."""
        if self._provenance is None:
            folder = self.folder()
            record = folder / "provenance.json"
            if not record.exists():
                export(Path(MiniLMEmbedder.model_path()), folder)
            if self.precision != "fp32":
                record = folder / INT8_FILES[1]
                if not record.exists():
                    quantize(folder, self.batch_size)
            self._provenance = json.loads(record.read_text(encoding="utf-8"))
        return self._provenance

    def load(self):
        with self._lock:
            if self._loaded is None:
                import onnxruntime  # heavy: loaded with the first model, not at import
                from tokenizers import Tokenizer

                provenance = self.provenance()
                options = onnxruntime.SessionOptions()
                options.log_severity_level = 3
                # No busy-waiting between operators: under concurrent requests spinning threads only take
                # the cores from the other requests (measured: 184 -> 210 questions/s at 8 threads).
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                if self.workers > 1:
                    options.intra_op_num_threads = 1
                sessions = [onnxruntime.InferenceSession(str(self.model_file()), options,
                                                         providers=["CPUExecutionProvider"])
                            for _ in range(self.workers)]
                for session in sessions:
                    self._free.put(session)
                tokenizer = Tokenizer.from_file(str(Path(MiniLMEmbedder.model_path()) / "tokenizer.json"))
                tokenizer.enable_truncation(provenance["max_seq_length"])
                tokenizer.no_padding()
                self._loaded = (session, tokenizer)
                if self.word_table:
                    self._table = self.load_word_table(session, tokenizer)
            return self._loaded

    def load_word_table(self, session, tokenizer) -> tuple[dict[int, int], np.ndarray]:
        """The vector of every whole word of the tokenizer's vocabulary, computed once per model file
        with this same session and kept beside it. A text that is one vocabulary word (most question
        and document words are) is then read from it: the same vector, without a run of the model,
        which for a short input costs about as much as for a sentence (the weights are read either way)."""
        folder = self.folder()
        variant = "fp32" if self.precision == "fp32" else "int8-per-channel"  # as the model file it comes from
        ids_file, vectors_file = folder / f"words-{variant}-ids.npy", folder / f"words-{variant}.npy"
        if not vectors_file.exists():
            print("Precomputing the vocabulary's word vectors (once; about 20 s)...", file=sys.stderr, flush=True)
            ids = np.array(sorted(i for token, i in tokenizer.get_vocab().items()
                                  if not token.startswith("##") and not (token[0] == "[" and token[-1] == "]")),
                           dtype=np.int32)
            vectors = np.zeros((len(ids), self.dim), dtype=np.float32)
            for start in range(0, len(ids), 256):  # one token each: [CLS] word [SEP], no padding
                batch = ids[start:start + 256]
                vectors[start:start + len(batch)] = run(session, [single_token(int(i), tokenizer) for i in batch])
            for path, array in ((ids_file, ids), (vectors_file, vectors)):
                tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                with open(tmp, "wb") as f:
                    np.save(f, array, allow_pickle=False)
                os.replace(tmp, path)
        ids = np.load(ids_file, allow_pickle=False)
        vectors = np.load(vectors_file, mmap_mode="r", allow_pickle=False)  # only the rows read are paged in
        return {int(i): row for row, i in enumerate(ids)}, vectors

    def describe(self) -> dict:
        """What the index manifest records of this embedding: the fields that do not change from one
        export to the next, so that rebuilding an unchanged source rewrites nothing."""
        p = self.provenance()
        quantized = {"quantization": p.get("quantization", "per-matrix")} if p["precision"] != "fp32" else {}
        return {"runtime": p["runtime"], "precision": p["precision"], **quantized, "exported_from": p["exported_from"],
                "weights_sha256": p["weights_sha256"], "max_seq_length": p["max_seq_length"],
                "probe_min_cosine": round(p["probe_min_cosine"], 4)}

    def bulk(self) -> OnnxMiniLM | None:
        """The int8 model, for the texts of a large build (rag.index.build.BulkEmbedding); None when
        this one is int8 already."""
        if self.precision == "int8":
            return None
        if self._bulk is None:
            self._bulk = OnnxMiniLM(self.batch_size, self.cache, precision="int8", word_table=False,
                                    workers=BULK_WORKERS)
        return self._bulk

    # -- embedding

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        session, tokenizer = self.load()
        encodings = tokenizer.encode_batch(list(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo = list(range(len(texts)))
        if self._table is not None:
            rows_of, vectors = self._table
            found = {i: rows_of.get(e.ids[1]) for i, e in enumerate(encodings) if len(e.ids) == 3}
            found = {i: row for i, row in found.items() if row is not None}
            if found:
                out[list(found)] = vectors[list(found.values())]
                todo = [i for i in todo if i not in found]
        batches = [[todo[b] for b in batch] for batch in length_batches([len(encodings[i].ids) for i in todo],
                                                                        self.batch_size)]
        inputs = [[encodings[i] for i in rows] for rows in batches]
        if self.workers == 1:  # questions: concurrent requests share the one session, no thread to start
            for rows, batch in zip(batches, inputs):
                out[rows] = run(session, batch)
            return out
        with ThreadPoolExecutor(self.workers) as pool:
            for rows, vectors in zip(batches, pool.map(self.run_on_a_free_session, inputs)):
                out[rows] = vectors
        return out

    def run_on_a_free_session(self, encodings) -> np.ndarray:
        """One batch on a session no other batch of this build is running on."""
        session = self._free.get()
        try:
            return run(session, encodings)
        finally:
            self._free.put(session)


@dataclass(frozen=True)
class Ids:
    """An encoding as `run` reads it."""
    ids: list[int]
    attention_mask: list[int]
    type_ids: list[int]


def single_token(token_id: int, tokenizer) -> Ids:
    """The encoding of a text that is exactly this vocabulary entry: [CLS] token [SEP]."""
    return Ids([tokenizer.token_to_id("[CLS]"), token_id, tokenizer.token_to_id("[SEP]")], [1, 1, 1], [0, 0, 0])


def length_batches(lengths: list[int], size: int) -> list[list[int]]:
    """Row numbers grouped by similar length (sorted; a batch ends at `size` rows or when a text is more
    than twice as long as its first), so that short texts are not padded to a long one's length."""
    batches: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        if batches and len(batches[-1]) < size and lengths[i] <= 2 * lengths[batches[-1][0]] + 2:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def run(session, encodings) -> np.ndarray:
    """One padded batch through the model, mean-pooled over real tokens and L2-normalised."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for i, e in enumerate(encodings):
        n = len(e.ids)
        ids[i, :n], mask[i, :n], types[i, :n] = e.ids, e.attention_mask, e.type_ids
    hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def export(model_dir: Path, folder: Path) -> None:
    """Export with PyTorch, check against sentence-transformers on PROBES, then publish atomically."""
    print("Exporting the embedding model to ONNX (once; about 20 s)...", file=sys.stderr, flush=True)
    try:
        import torch  # heavy, and only to export the model once
    except ImportError:
        raise RagError("Exporting the embedding model needs PyTorch (pip install -e .).") from None
    folder.parent.mkdir(parents=True, exist_ok=True)
    reference = MiniLMEmbedder()
    st = reference.model()
    hf = st[0].auto_model.eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = st.tokenizer(list(PROBES[:2]), padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on opset details, not the user's business
            torch.onnx.export(LastHiddenState(hf), tuple(sample[n] for n in names), str(tmp / "model.onnx"),
                              input_names=names, output_names=["last_hidden_state"],
                              dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
                              opset_version=17, dynamo=False)
        provenance = {"runtime": "onnxruntime", "precision": "fp32", "exported_from": MODEL_NAME,
                      "weights_sha256": file_sha256(model_dir / "model.safetensors"),
                      "onnx_sha256": file_sha256(tmp / "model.onnx"), "max_seq_length": st.max_seq_length,
                      "probe_min_cosine": 0.0}
        (tmp / "provenance.json").write_text(json.dumps(provenance), encoding="utf-8")
        check = OnnxMiniLM(cache=folder.parent.parent, word_table=False)
        check.folder = lambda: tmp  # the candidate, before it is published
        worst = float(np.min(np.sum(check.embed(list(PROBES)) * reference.embed(list(PROBES)), axis=1)))
        if worst < MIN_PROBE_COSINE:
            raise RagError(f"The ONNX export does not reproduce the model (probe cosine {worst:.4f}).")
        provenance["probe_min_cosine"] = round(worst, 6)
        (tmp / "provenance.json").write_text(json.dumps(provenance, indent=1) + "\n", encoding="utf-8")
        if folder.exists():  # another process finished first: keep its copy
            return
        os.rename(tmp, folder)
    finally:
        if tmp.exists():

            shutil.rmtree(tmp, ignore_errors=True)


def quantize(folder: Path, batch_size: int = 64) -> None:
    """The int8 copy of the fp32 export (weights quantized, activations at run time), with its own
    record: how far its vectors are from the fp32 ones on the probe sentences. No PyTorch needed."""
    from onnxruntime.quantization import QuantType, quantize_dynamic  # only to quantize, once

    print("Quantizing the embedding model to int8 (once)...", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        target = Path(tmp) / "model-int8.onnx"
        logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process is for image models
        quantize_dynamic(str(folder / "model.onnx"), str(target), weight_type=QuantType.QInt8, per_channel=True)
        fp32 = OnnxMiniLM(batch_size, cache=folder.parent.parent, word_table=False)
        fp32.folder = lambda: folder
        int8 = OnnxMiniLM(batch_size, cache=folder.parent.parent, precision="int8", word_table=False)
        int8.folder = lambda: folder
        int8.model_file = lambda: target
        int8._provenance = fp32.provenance()  # its tokenizer settings, until its own record exists
        worst = float(np.min(np.sum(int8.embed(list(PROBES)) * fp32.embed(list(PROBES)), axis=1)))
        provenance = {**fp32.provenance(), "precision": "int8", "quantization": "per-channel",
                      "onnx_sha256": file_sha256(target),
                      "probe_min_cosine": round(worst, 6)}
        os.replace(target, folder / INT8_FILES[0])
        (folder / INT8_FILES[1]).write_text(json.dumps(provenance, indent=1) + "\n", encoding="utf-8")
