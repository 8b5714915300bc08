from __future__ import annotations

import numpy as np
import pytest

from cnnviz.featuremaps import ColormapError, apply_colormap, colormap_table


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float64) @ np.array([0.2126, 0.7152, 0.0722])


def test_viridis_runs_from_dark_purple_to_yellow() -> None:
    table = colormap_table("viridis")
    assert table.shape == (256, 3) and table.dtype == np.uint8
    assert tuple(table[0]) == (0x44, 0x01, 0x54)
    assert tuple(table[-1]) == (0xFD, 0xE7, 0x25)


def test_viridis_gets_brighter_all_the_way() -> None:
    light = _luminance(colormap_table("viridis"))
    assert np.all(np.diff(light) > -0.5)  # 8-bit rounding only
    assert np.all(np.diff(light[::8]) > 0)


def test_coolwarm_is_light_in_the_middle_and_dark_at_both_ends() -> None:
    light = _luminance(colormap_table("coolwarm"))
    assert light[128] > light[0] + 60 and light[128] > light[-1] + 60


def test_unknown_colormap_names_the_choices() -> None:
    with pytest.raises(ColormapError, match="viridis"):
        colormap_table("jet")


def test_apply_colormap_maps_ends_and_clips() -> None:
    colours = apply_colormap(np.array([[-1.0, 0.0], [1.0, 5.0]]))
    table = colormap_table("viridis")
    assert colours.shape == (2, 2, 3)
    assert (colours[0, 0] == table[0]).all() and (colours[0, 1] == table[0]).all()
    assert (colours[1, 0] == table[-1]).all() and (colours[1, 1] == table[-1]).all()
