from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnnviz.featuremaps import (
    LEVELS,
    MosaicError,
    colormap_table,
    feature_mosaic,
    model_scale,
    mosaic_png,
    normalize_maps,
    plan_layout,
    tile_mosaic,
)

BACKGROUND, TEXT = LEVELS, LEVELS + 1


def test_channel_normalisation_stretches_each_channel_to_0_1() -> None:
    maps = np.stack([np.arange(4.0).reshape(2, 2), 10 + 100 * np.arange(4.0).reshape(2, 2)], 2)
    unit = normalize_maps(maps, "channel")
    np.testing.assert_allclose(unit[:, :, 0], unit[:, :, 1])
    assert unit.min() == 0.0 and unit.max() == 1.0


def test_layer_normalisation_keeps_channels_comparable() -> None:
    maps = np.stack([np.full((2, 2), 1.0), np.full((2, 2), 3.0)], 2)
    maps[0, 0, 0] = 0.0
    unit = normalize_maps(maps, "layer")
    assert unit[0, 0, 0] == 0.0 and np.allclose(unit[:, :, 1], 1.0)
    assert np.isclose(unit[1, 1, 0], 1 / 3)


def test_a_constant_channel_is_drawn_as_zero() -> None:
    maps = np.zeros((3, 3, 2), dtype=np.float32)
    maps[:, :, 1] = np.nan
    unit = normalize_maps(maps, "channel")
    assert np.all(unit == 0.0) and np.isfinite(unit).all()


def test_normalisation_rejects_other_names_and_shapes() -> None:
    with pytest.raises(MosaicError, match="channel"):
        normalize_maps(np.zeros((2, 2, 1)), "global")  # type: ignore[arg-type]
    with pytest.raises(MosaicError, match="height, width, channels"):
        normalize_maps(np.zeros((4, 4)))


@pytest.mark.parametrize("count", [1, 2, 3, 10, 32, 64, 100, 512])
def test_layout_has_a_cell_for_every_map_and_no_empty_row(count: int) -> None:
    layout = plan_layout(count, 8, 8)
    assert layout.rows * layout.cols >= count
    assert layout.rows * layout.cols - count < layout.cols


def test_small_maps_are_enlarged_by_a_whole_factor() -> None:
    layout = plan_layout(4, 5, 5, min_tile=40)
    assert (layout.tile_height, layout.tile_width) == (40, 40)
    assert plan_layout(4, 5, 5, scale=3, min_tile=1).tile_width == 15


def test_a_common_scale_keeps_deeper_maps_smaller() -> None:
    scale = model_scale((32, 32, 3))
    first = plan_layout(10, 32, 32, scale=scale, min_tile=16)
    deeper = plan_layout(10, 8, 8, scale=scale, min_tile=16)
    assert first.tile_width == 32 * scale and deeper.tile_width == 8 * scale


def test_large_layers_are_shrunk_to_the_pixel_budget() -> None:
    layout = plan_layout(512, 150, 150, max_pixels=400_000)
    assert layout.width * layout.height <= 400_000
    assert layout.tile_width < 150


def test_mosaic_places_each_channel_in_its_tile() -> None:
    maps = np.zeros((4, 6, 5), dtype=np.float32)
    for channel in range(5):
        maps[:, : channel + 1, channel] = 1.0  # channel c lights its first c + 1 columns
    image, layout = feature_mosaic(maps, min_tile=1, labels=False)
    assert image.mode == "P" and image.size == (layout.width, layout.height)
    pixels = np.asarray(image)
    for channel in range(5):
        left, top, right, bottom = layout.tile_box(channel)
        tile = pixels[top:bottom, left:right]
        assert tile.shape == (4, 6)
        lit = np.flatnonzero(tile[0] == LEVELS - 1)
        assert lit.tolist() == list(range(channel + 1))


def test_mosaic_background_fills_the_gaps_and_empty_cells() -> None:
    image, layout = feature_mosaic(np.ones((3, 3, 3)), min_tile=1, labels=False)
    pixels = np.asarray(image)
    covered = np.zeros(pixels.shape, dtype=bool)
    for channel in range(3):
        left, top, right, bottom = layout.tile_box(channel)
        covered[top:bottom, left:right] = True
    assert np.all(pixels[~covered] == BACKGROUND)


def test_palette_matches_the_colormap_then_background_and_text() -> None:
    image, _ = feature_mosaic(np.random.default_rng(0).random((8, 8, 4)))
    palette = np.array(image.getpalette()[: 3 * (LEVELS + 2)]).reshape(-1, 3)
    np.testing.assert_array_equal(palette[:LEVELS], colormap_table("viridis", LEVELS))
    assert tuple(palette[BACKGROUND]) == (255, 255, 255)


def test_every_tile_gets_its_channel_number_above_it() -> None:
    image, layout = feature_mosaic(np.zeros((8, 8, 12)))
    pixels = np.asarray(image)
    assert layout.label_height > 0
    for channel in range(12):
        left, top, right, _ = layout.tile_box(channel)
        strip = pixels[top - layout.label_height : top, left:right]
        assert np.any(strip == TEXT), f"no label over channel {channel}"
    unlabelled, _ = feature_mosaic(np.zeros((8, 8, 12)), labels=False)
    assert not np.any(np.asarray(unlabelled) == TEXT)


def test_rgb_tiles_keep_their_colours() -> None:
    tiles = np.zeros((2, 3, 3, 3), dtype=np.float32)
    tiles[0, ..., 0] = 1.0  # red
    tiles[1, ..., 2] = 1.0  # blue
    image, layout = tile_mosaic(tiles, labels=["a", "b"], min_tile=1)
    assert image.mode == "RGB"
    pixels = np.asarray(image)
    left, top, _, _ = layout.tile_box(1)
    assert tuple(pixels[top, left]) == (0, 0, 255)


def test_tile_mosaic_checks_shapes_and_labels() -> None:
    with pytest.raises(MosaicError, match="n, height, width"):
        tile_mosaic(np.zeros((2, 3)))
    with pytest.raises(MosaicError, match="3 labels"):
        tile_mosaic(np.zeros((3, 4, 4)), labels=["0"])


def test_mosaic_png_decodes_to_the_planned_size() -> None:
    maps = np.random.default_rng(1).random((13, 13, 32)).astype(np.float32)
    data = mosaic_png(maps)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    decoded = Image.open(io.BytesIO(data))
    _, layout = feature_mosaic(maps)
    assert decoded.size == (layout.width, layout.height)


def test_a_large_layer_stays_under_300_kilobytes() -> None:
    x = np.linspace(0, 6, 150, dtype=np.float32)
    rng = np.random.default_rng(2)
    maps = np.stack([np.sin(x[:, None] * f) * np.cos(x[None, :] * g)
                     for f, g in rng.uniform(0.5, 3, (64, 2))], axis=2)
    assert len(mosaic_png(maps)) < 300_000


def test_a_deep_layers_tiny_maps_are_drawn_large_enough_to_read_with_their_numbers() -> None:
    from cnnviz.featuremaps import LAYER_MIN_TILE, model_scale

    layout = plan_layout(64, 3, 3, scale=model_scale((28, 28, 1)), min_tile=LAYER_MIN_TILE)
    assert min(layout.tile_height, layout.tile_width) >= 36
    assert layout.label_height >= 16  # 13-pixel digits
