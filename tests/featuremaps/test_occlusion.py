from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cnnviz.data import load_dataset
from cnnviz.featuremaps import (
    OcclusionError,
    activation_bytes,
    occluded_images,
    occlusion_sensitivity,
    probabilities_of,
)
from cnnviz.keras_build import build_model
from cnnviz.presets import get_preset
from cnnviz.spec import ModelSpec

keras = pytest.importorskip("keras")


def _per_position_loop(model: Any, image: np.ndarray, class_index: int, patch: int,
                       stride: int) -> np.ndarray:
    """The straightforward way: one Keras prediction per patch position."""
    height, width = image.shape[:2]
    whole = model.predict(image[np.newaxis], verbose=0)[0, class_index]
    rows = []
    for top in range(0, height, stride):
        row = []
        for left in range(0, width, stride):
            covered = image.copy()
            covered[top : top + patch, left : left + patch] = 0.5
            row.append(whole - model.predict(covered[np.newaxis], verbose=0)[0, class_index])
        rows.append(row)
    return np.array(rows)


@pytest.fixture(scope="module")
def model() -> Any:
    return build_model(get_preset("tiny-vgg-32"), seed=1)


@pytest.fixture(scope="module")
def circle() -> np.ndarray:
    return load_dataset("shapes").x_test[0]


@pytest.mark.parametrize(("patch", "stride"), [(8, 8), (12, 8), (6, 5)])
def test_the_heatmap_is_the_per_position_loop_of_keras_predictions(
    model: Any, circle: np.ndarray, patch: int, stride: int
) -> None:
    result = occlusion_sensitivity(model, circle, 3, patch=patch, stride=stride)
    expected = _per_position_loop(model, circle, 3, patch, stride)
    assert result.drops.shape == expected.shape
    np.testing.assert_allclose(result.drops, expected, atol=1e-6)
    assert result.probability == pytest.approx(
        float(model.predict(circle[np.newaxis], verbose=0)[0, 3]), abs=1e-6)


def test_all_positions_take_one_forward_pass_for_a_small_model(model: Any,
                                                               circle: np.ndarray) -> None:
    assert occlusion_sensitivity(model, circle, 0, patch=4, stride=2).passes == 1


def test_raw_scores_become_probabilities_before_the_drop() -> None:
    spec = ModelSpec.from_dict({"input_shape": [8, 8, 1], "layers": [
        {"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": 3}},
        {"class_name": "Flatten", "config": {}},
        {"class_name": "Dense", "config": {"units": 3}}]})
    logits = build_model(spec, seed=0)
    image = np.random.default_rng(0).random((8, 8, 1)).astype(np.float32)
    result = occlusion_sensitivity(logits, image, 1, patch=4, stride=4, final_activation=None)
    scores = logits.predict(np.concatenate([image[None], occluded_images(image, 4, 4)]),
                            verbose=0)
    softmax = keras.ops.convert_to_numpy(keras.ops.softmax(scores, axis=-1))[:, 1]
    np.testing.assert_allclose(result.drops.ravel(), softmax[0] - softmax[1:], atol=1e-6)


def test_a_sigmoid_unit_is_two_classes() -> None:
    assert probabilities_of(np.array([[0.25]]), "sigmoid").tolist() == [[0.75, 0.25]]


def test_each_pixel_gets_the_mean_drop_of_the_patches_over_it(model: Any,
                                                              circle: np.ndarray) -> None:
    result = occlusion_sensitivity(model, circle, 0, patch=16, stride=8)
    pixels = result.pixel_map(32, 32)
    assert pixels[0, 0] == pytest.approx(result.drops[0, 0])
    assert pixels[12, 12] == pytest.approx(result.drops[:2, :2].mean())


@pytest.mark.parametrize(("arguments", "message"), [
    ({"patch": 0}, "patch from 1 to 32"), ({"stride": 33}, "stride from 1 to 32"),
    ({"class_index": 8}, "class from 0 to 7. Received: class_index=8")])  # fmt: skip
def test_bad_arguments_are_refused_by_name(model: Any, circle: np.ndarray,
                                           arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(OcclusionError, match=message):
        occlusion_sensitivity(model, circle, **{"class_index": 0, **arguments})


def test_a_small_memory_budget_splits_the_places_into_passes_with_the_same_map(
    model: Any, circle: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cnnviz.featuremaps.occlusion as occlusion

    whole = occlusion_sensitivity(model, circle, 2, patch=8, stride=8)
    monkeypatch.setattr(occlusion, "_BATCH_BYTES", 5 * activation_bytes(model))
    split = occlusion_sensitivity(model, circle, 2, patch=8, stride=8)
    assert split.passes == 4  # the image and 16 places, 5 at a time
    np.testing.assert_allclose(split.drops, whole.drops, atol=1e-6)
