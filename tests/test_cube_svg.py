from __future__ import annotations

import re

from cnnviz.presets import PRESETS
from cnnviz.shapes import summarize
from ui.build.cube_svg import MAX_WIDTH_PX, cube_svg


def test_a_deep_model_wraps_into_rows_instead_of_being_shrunk_to_fit() -> None:
    svg = cube_svg(summarize(PRESETS["vgg16-base"]))
    width = float(re.search(r'<svg[^>]* width="([\d.]+)"', svg).group(1))  # type: ignore[union-attr]
    assert width <= MAX_WIDTH_PX  # shown at its own size, never scaled down
    sizes = {int(size) for size in re.findall(r'font-size="(\d+)"', svg)}
    assert min(sizes) >= 13
    assert ">block5_pool<" in svg and ">4×4×512<" in svg
