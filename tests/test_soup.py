"""Averaging verifiers weight by weight (rag.evaluation.soup), on small made-up weights."""
from __future__ import annotations

import numpy as np
import pytest

from rag.evaluation.soup import averaged, dequantized, quantized, recover


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_a_quantized_weight_reads_back_within_half_a_step(dtype):
    real = np.array([[-0.5, 0.0, 0.25], [0.75, -0.125, 1.0]], dtype=np.float32)
    values, scale, zero = quantized(real, np.dtype(dtype))
    back = dequantized({"w_quantized": values, "w_scale": scale, "w_zero_point": zero}, "w_quantized")
    assert np.abs(back - real).max() <= scale / 2 + 1e-7
    assert back[0, 1] == 0.0  # zero stays exact


def test_real_weights_are_averaged_and_integer_constants_kept():
    first = {"bias": np.array([1.0, 3.0], dtype=np.float32), "axes": np.array([1], dtype=np.int64)}
    second = {"bias": np.array([3.0, 5.0], dtype=np.float32), "axes": np.array([1], dtype=np.int64)}
    mean = averaged(first, second)
    assert mean["bias"].tolist() == [2.0, 4.0]
    assert mean["axes"].tolist() == [1]


def test_quantized_weights_are_averaged_as_real_numbers():
    def model(real):
        values, scale, zero = quantized(np.array(real, dtype=np.float32), np.dtype(np.int8))
        return {"w_quantized": values, "w_scale": scale, "w_zero_point": zero}

    mean = averaged(model([[0.0, 1.0], [-1.0, 0.5]]), model([[1.0, 0.0], [-1.0, 0.0]]))
    assert np.allclose(dequantized(mean, "w_quantized"), [[0.5, 0.5], [-1.0, 0.25]], atol=0.01)


def test_three_models_are_averaged_with_equal_weights():
    models = [{"bias": np.array([value], dtype=np.float32)} for value in (1.0, 2.0, 6.0)]
    assert averaged(*models)["bias"].tolist() == [3.0]


@pytest.mark.parametrize("weights, expected", [
    (None, 3.0),  # each counts once
    ((1, 1, 2), 3.75),  # the last twice
])
def test_weights_count_each_model_as_often_as_they_say(weights, expected):
    models = [{"bias": np.array([value], dtype=np.float32)} for value in (1.0, 2.0, 6.0)]
    assert averaged(*models, weights=weights)["bias"].tolist() == [expected]


def test_the_other_run_of_a_two_run_soup_is_recovered():
    def model(real):
        values, scale, zero = quantized(np.array(real, dtype=np.float32), np.dtype(np.int8))
        return {"w_quantized": values, "w_scale": scale, "w_zero_point": zero, "bias": np.array(real[:1], np.float32)}

    run, other = model([0.5, -1.0, 0.25]), model([1.0, 0.0, -0.5])
    back = averaged(averaged(run, other), run, weights=(2, -1))
    assert np.allclose(dequantized(back, "w_quantized"), [1.0, 0.0, -0.5], atol=0.02)
    assert back["bias"].tolist() == [1.0]


@pytest.mark.parametrize("weights", [(1, 1), (1, -1, 0), (0.1, 0.2, -0.3), ()])
def test_weights_that_do_not_fit_are_refused(weights):
    models = [{"bias": np.array([value], dtype=np.float32)} for value in (1.0, 2.0, 6.0)]
    with pytest.raises(ValueError, match="one weight per verifier"):
        averaged(*models, weights=weights)


def test_no_models_is_refused():
    with pytest.raises(ValueError, match="no verifiers"):
        averaged()


@pytest.mark.parametrize("second", [
    {"bias": np.zeros(3, dtype=np.float32)},  # another shape
    {"other": np.zeros(2, dtype=np.float32)},  # another weight
])
def test_models_of_different_architecture_are_refused(second):
    with pytest.raises(ValueError, match="differ in architecture"):
        averaged({"bias": np.zeros(2, dtype=np.float32)}, second)


def test_a_soup_file_gives_back_its_other_run(tmp_path):
    import onnx
    from onnx import helper, numpy_helper

    def save(bias: list[float], name: str):
        graph = helper.make_graph([], "g", [], [], [numpy_helper.from_array(np.array(bias, np.float32), "bias")])
        onnx.save(helper.make_model(graph), str(tmp_path / name))
        return tmp_path / name

    recover(save([2.0, 3.0], "soup.onnx"), save([1.0, 5.0], "run.onnx"), tmp_path / "other.onnx")
    other = onnx.load(str(tmp_path / "other.onnx")).graph.initializer[0]
    assert numpy_helper.to_array(other).tolist() == [3.0, 1.0]
