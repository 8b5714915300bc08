"""The first layer's filters across epochs: one frame per epoch, each the Filters tab's
picture of that epoch's kernel."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnnviz.featuremaps import (
    FilterError,
    filter_evolution_frames,
    filter_evolution_gif,
    filter_evolution_strip_png,
    first_layer_filters_png,
)

RNG = np.random.default_rng(0)
KERNELS = [RNG.normal(size=(3, 3, 3, 4)).astype(np.float32) for _ in range(3)]
LABELS = ["epoch 0", "epoch 1", "epoch 2"]


def test_each_frame_is_that_epoch_s_filters_under_its_label() -> None:
    frames = filter_evolution_frames(KERNELS, LABELS)
    assert len(frames) == 3
    for frame, kernel in zip(frames, KERNELS, strict=True):
        alone = np.asarray(Image.open(io.BytesIO(first_layer_filters_png(kernel))).convert("RGB"))
        body = np.asarray(frame)[frame.height - alone.shape[0]:]
        np.testing.assert_array_equal(body, alone)


def test_the_gif_loops_one_frame_per_epoch() -> None:
    animation = Image.open(io.BytesIO(filter_evolution_gif(KERNELS, LABELS)))
    assert animation.format == "GIF" and animation.n_frames == 3
    assert animation.info.get("loop") == 0
    first = np.asarray(animation.convert("RGB"))
    animation.seek(2)
    assert not np.array_equal(first, np.asarray(animation.convert("RGB")))


def test_the_strip_stacks_the_frames() -> None:
    frames = filter_evolution_frames(KERNELS, LABELS)
    strip = Image.open(io.BytesIO(filter_evolution_strip_png(KERNELS, LABELS)))
    assert strip.size == (frames[0].width, sum(frame.height for frame in frames))


def test_grey_filters_work_and_mixed_layers_are_refused() -> None:
    grey = [RNG.normal(size=(5, 5, 1, 2)).astype(np.float32) for _ in range(2)]
    assert len(filter_evolution_frames(grey, ["a", "b"])) == 2
    with pytest.raises(FilterError, match="same layer's kernels"):
        filter_evolution_frames([KERNELS[0], grey[0]], ["a", "b"])
    with pytest.raises(FilterError, match="Expected 3 labels"):
        filter_evolution_frames(KERNELS, ["only one"])
