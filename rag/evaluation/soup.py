"""Average verifiers weight by weight (a "model soup"): one file, one model run per pair, as fast as
any of them, where an ensemble would cost one run per model and a multiple of the 30 MB weight budget.

    average([first_onnx, second_onnx, ...], out_onnx)   # or with weights=(...)
    recover(soup_onnx, one_run_onnx, out_onnx)          # the soup's other run

All must be int8 exports of the same architecture fine-tuned from the same base weights (as every run
of `rag.evaluation.train_verifier` is), so their weights lie close enough that the mean is a model too.
Quantized weights are read back to real numbers, averaged and quantized again over their new range;
the other weights (biases, layer norms) are averaged as they are. On the 35 validation documents of
2026-12-04 the soup of the verifier trained on questions and the one trained on questions and
follow-ups kept the first's gold-first rate (0.758) and the second's question AUC (0.835 against 0.816;
bench/results.md).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

QUANTIZED = "_quantized"  # how onnxruntime's quantize_dynamic names a weight it stores as integers


def dequantized(weights: dict[str, np.ndarray], name: str) -> np.ndarray:
    """A quantized weight as real numbers: (q - zero point) * scale."""
    base = name[: -len(QUANTIZED)]
    zero = weights[base + "_zero_point"].astype(np.float32)
    return (weights[name].astype(np.float32) - zero) * weights[base + "_scale"]


def quantized(real: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, scale, zero point) of `real` in `dtype`, over its range with 0 kept exact."""
    limits = np.iinfo(dtype)
    low, high = min(float(real.min()), 0.0), max(float(real.max()), 0.0)
    scale = np.float32((high - low) / (limits.max - limits.min) or 1.0)
    zero = np.clip(np.round(limits.min - low / scale), limits.min, limits.max).astype(dtype)
    values = np.clip(np.round(real / scale) + zero, limits.min, limits.max).astype(dtype)
    return values, np.array(scale, dtype=np.float32), np.array(zero, dtype=dtype)


def averaged(*models: dict[str, np.ndarray], weights: tuple[float, ...] | None = None) -> dict[str, np.ndarray]:
    """The mean of the models' weights, by name; a ValueError when there are none or they are not the same
    architecture. Each counts once unless `weights` says otherwise (a weighted mean: the weights are
    divided by their sum, so (2, -1) recovers the other run of a two-run soup from the soup and one run)."""
    if not models:
        raise ValueError("no verifiers to average")
    weights = (1,) * len(models) if weights is None else weights
    if len(weights) != len(models) or abs(sum(weights)) < 1e-6:
        raise ValueError("give one weight per verifier, not summing to zero")
    first = models[0]
    if any(m.keys() != first.keys() or any(m[k].shape != first[k].shape for k in first) for m in models):
        raise ValueError("the verifiers differ in architecture: their weights cannot be averaged")
    total = sum(weights)
    out: dict[str, np.ndarray] = {}
    for name, weight in first.items():
        if name.endswith(QUANTIZED):
            base = name[: -len(QUANTIZED)]
            mean = sum(w * dequantized(m, name) for w, m in zip(weights, models)) / total
            out[name], out[base + "_scale"], out[base + "_zero_point"] = quantized(mean, weight.dtype)
    for name, weight in first.items():
        if name not in out:  # real-valued weights; integer constants (shapes, axes) are the same in all
            out[name] = (sum(w * m[name] for w, m in zip(weights, models)) / total).astype(weight.dtype) \
                if weight.dtype == np.float32 else weight
    return out


def average(inputs: list[Path], out: Path, weights: tuple[float, ...] | None = None) -> None:
    """Write the (weighted) soup of the ONNX models `inputs` to `out` (the graph is the first's)."""
    import onnx  # ONNX's own package: for training only, as the export is
    from onnx import numpy_helper

    models = [onnx.load(str(path)) for path in inputs]
    mean = averaged(*({i.name: numpy_helper.to_array(i) for i in m.graph.initializer} for m in models),
                    weights=weights)
    for initializer in models[0].graph.initializer:
        initializer.CopyFrom(numpy_helper.from_array(mean[initializer.name], initializer.name))
    onnx.save(models[0], str(out))


def recover(soup: Path, run: Path, out: Path) -> None:
    """Write the other run of the two-run soup `soup`, one of whose runs is `run`: 2 * soup - run, as
    real numbers, then int8 again. A run that was shipped only inside a soup can so join another soup;
    the shipped soup rebuilt from the two reads validation as the file does (bench/results.md, probe 15)."""
    average([soup, run], out, weights=(2, -1))
