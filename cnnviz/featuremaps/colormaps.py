"""Perceptual colormaps in numpy: viridis for values, a blue–white–red map for signs."""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import numpy as np

__all__ = ["COLORMAPS", "ColormapError", "apply_colormap", "colormap_table"]

# Viridis (van der Walt and Smith, CC0) sampled at 33 evenly spaced points; linear
# interpolation between them stays within 2/255 of the 256-entry original.
_VIRIDIS: Final = (
    "440154 470d60 48186a 482374 472d7b 453781 424086 3e4989 3b528b 375b8d 33638d 2f6b8e "
    "2c728e 297a8e 26828e 23898e 21918c 1f978b 1f9f88 21a685 27ad81 31b57b 3dbc74 4cc26c "
    "5cc863 6ece58 81d34d 95d840 aadc32 c0df25 d5e21a eae51a fde725"
)
# A diverging map for signed values (weights): blue, near-white at zero, red.
_COOLWARM: Final = "3b4cc0 7b9ff9 c0d4f5 f2f0ec f2cbb7 ee8468 b40426"
COLORMAPS: Final = {"viridis": _VIRIDIS, "coolwarm": _COOLWARM}


class ColormapError(ValueError):
    """An unknown colormap name; the message lists the known ones."""


@lru_cache(maxsize=8)
def colormap_table(name: str = "viridis", size: int = 256) -> np.ndarray:
    """`size` RGB colours (uint8) evenly spaced along the named colormap."""
    if name not in COLORMAPS:
        raise ColormapError(f"Expected a colormap in {sorted(COLORMAPS)}. Received: name={name!r}")
    anchors = np.array(
        [[int(code[i : i + 2], 16) for i in (0, 2, 4)] for code in COLORMAPS[name].split()],
        dtype=np.float64,
    )
    positions = np.linspace(0.0, 1.0, len(anchors))
    samples = np.linspace(0.0, 1.0, size)
    table = np.stack([np.interp(samples, positions, anchors[:, k]) for k in range(3)], axis=1)
    result = np.rint(table).astype(np.uint8)
    result.setflags(write=False)
    return result


def apply_colormap(values: np.ndarray, name: str = "viridis") -> np.ndarray:
    """Values in [0, 1] (any shape) → uint8 RGB with one more axis of 3."""
    table = colormap_table(name)
    clean = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    indices = np.rint(np.clip(clean, 0.0, 1.0) * (len(table) - 1)).astype(np.intp)
    return table[indices]
