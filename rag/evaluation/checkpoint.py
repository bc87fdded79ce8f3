"""A training run's state on disk, so that a run stopped halfway (a verifier run takes about two hours, and
a session's end stops every process) goes on from where it was rather than from the start.

The state is everything the next step depends on: the weights, the optimizer's moments, the step, and both
random states (Python's draws the batches, PyTorch's the dropout), so a resumed run ends on the same
weights as one never stopped. Weights and moments go in safetensors files, the rest in JSON: no pickle.
A checkpoint holds the key of the run that wrote it (its settings and data); another run ignores it.
"""
from __future__ import annotations

import hashlib
import json
import random
import shutil
from collections.abc import Iterable
from pathlib import Path

STATE_FILE = "state.json"


def run_key(settings: dict, rows: Iterable) -> str:
    """What makes two runs the same run: their settings and the rows (pairs and labels) they learn from."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for row in rows:
        digest.update(json.dumps(row).encode())
    return digest.hexdigest()


def save(folder: Path, key: str, step: int, model, optimizer) -> None:
    """The state after `step` steps, written beside the previous one and then put in its place."""
    import torch
    from safetensors.torch import save_file, save_model

    folder = Path(folder)
    staging = folder.with_name(folder.name + ".writing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    save_model(model, str(staging / "model.safetensors"))
    optimizer_state = optimizer.state_dict()
    moments = {f"{index}.{name}": value.contiguous() for index, state in optimizer_state["state"].items()
               for name, value in state.items()}
    save_file(moments | {"torch_rng": torch.get_rng_state()}, str(staging / "optimizer.safetensors"))
    version, draws, gauss = random.getstate()
    state = {"key": key, "step": step, "python_random": [version, list(draws), gauss],
             "param_groups": optimizer_state["param_groups"]}
    (staging / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)


def kept_state(folder: Path) -> Path | None:
    """The folder holding the last whole state: `folder`, or its staging copy when a stop came between
    removing the old state and renaming the new one (the staging copy's state.json is written last, so
    its presence means the copy is whole); None when there is neither."""
    for candidate in (folder, folder.with_name(folder.name + ".writing")):
        if (candidate / STATE_FILE).is_file():
            return candidate
    return None


def resume(folder: Path, key: str, model, optimizer) -> int:
    """Load the state kept in `folder` into `model`, `optimizer` and the random generators, and return
    its step; 0 (and nothing loaded) when there is none, or it is another run's."""
    import torch
    from safetensors.torch import load_file, load_model

    folder = kept_state(Path(folder))
    if folder is None:
        return 0
    state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    if state["key"] != key:
        return 0
    load_model(model, str(folder / "model.safetensors"))
    tensors = load_file(str(folder / "optimizer.safetensors"))
    torch.set_rng_state(tensors.pop("torch_rng"))
    moments: dict[int, dict] = {}
    for name, value in tensors.items():
        index, part = name.split(".", 1)
        moments.setdefault(int(index), {})[part] = value
    optimizer.load_state_dict({"state": moments, "param_groups": state["param_groups"]})
    version, draws, gauss = state["python_random"]
    random.setstate((version, tuple(draws), gauss))
    return int(state["step"])
