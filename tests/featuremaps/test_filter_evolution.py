"""The first layer's filters across epochs: one frame per epoch, each the Filters tab's
picture of that epoch's kernel."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnnviz.featuremaps import (
    KERNEL_TILE,
    FilterError,
    filter_evolution_frames,
    filter_evolution_gif,
    filter_evolution_strip_png,
    signed_to_unit,
    tile_mosaic,
)

RNG = np.random.default_rng(0)
KERNELS = [RNG.normal(size=(3, 3, 3, 4)).astype(np.float32) for _ in range(3)]
LABELS = ["epoch 0", "epoch 1", "epoch 2"]


def test_each_frame_is_that_epoch_s_filters_on_the_layer_s_scale_under_its_label() -> None:
    frames = filter_evolution_frames(KERNELS, LABELS)
    assert len(frames) == 3
    for frame, kernel in zip(frames, KERNELS, strict=True):
        tiles = np.moveaxis(signed_to_unit(kernel), 3, 0)
        alone, _ = tile_mosaic(tiles, labels=[str(n) for n in range(4)], min_tile=KERNEL_TILE)
        body = np.asarray(frame)[frame.height - alone.height:]
        np.testing.assert_array_equal(body, np.asarray(alone.convert("RGB")))


def test_a_faded_filter_is_grey_and_a_grown_one_saturated() -> None:
    kernel = np.zeros((3, 3, 3, 2), dtype=np.float32)
    kernel[:, :, 0, 1] = 2.0  # filter 1: strongly red; filter 0: zero
    frame = np.asarray(filter_evolution_frames([kernel], ["end"])[0])
    colours = {tuple(int(v) for v in pixel) for pixel in frame.reshape(-1, 3)}
    assert (128, 128, 128) in colours and (255, 128, 128) in colours


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
    with pytest.raises(FilterError, match="1 or 3, filters"):
        filter_evolution_frames([RNG.normal(size=(3, 3, 2, 4))], ["two channels"])
    with pytest.raises(FilterError, match="same layer's kernels"):
        filter_evolution_frames([KERNELS[0], grey[0]], ["a", "b"])
    with pytest.raises(FilterError, match="Expected 3 labels"):
        filter_evolution_frames(KERNELS, ["only one"])
