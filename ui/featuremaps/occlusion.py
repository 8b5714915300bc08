"""Occlusion sensitivity beside Grad-CAM: how much the class's probability drops when a
grey patch covers each place. Computed on a button press, kept per session, weights,
image, class and patch."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Final

import numpy as np
import streamlit as st

from cnnviz.featuremaps import Occlusion, OcclusionError, gradcam_overlay, occlusion_sensitivity
from cnnviz.train import final_activation
from ui.featuremaps.model import PageModel, image_digest

__all__ = ["patch_sizes", "show_occlusion"]

_CACHE_KEY: Final = "cnnviz_fm_occlusion"
_MAX_CACHED: Final = 16
_SIZES: Final = (2, 4, 6, 8, 12, 16, 24, 32, 48, 64)


def patch_sizes(side: int) -> list[int]:
    """Patch sides offered for an input whose shorter side is `side`: up to half of it."""
    return [size for size in _SIZES if size <= max(2, side // 2)]


def _cache() -> OrderedDict[tuple[Any, ...], Occlusion]:
    store = st.session_state.get(_CACHE_KEY)
    if not isinstance(store, OrderedDict):
        store = OrderedDict()
        st.session_state[_CACHE_KEY] = store
    return store


def _chosen_patch(side: int) -> tuple[int, int]:
    sizes = patch_sizes(side)
    default = max([size for size in sizes if size <= side // 4] or sizes[:1])  # 8 for 32×32
    patch = st.selectbox("Patch (pixels)", sizes, index=sizes.index(default),
                         key="fm_occlusion_patch")
    strides = [size for size in sizes if size <= (patch or default)]
    stride = st.selectbox("Stride (pixels)", strides, index=len(strides) - 1,
                          key=f"fm_occlusion_stride_{patch}")
    return int(patch or default), int(stride or strides[-1])


def show_occlusion(page: PageModel, x: np.ndarray, shown: np.ndarray, class_index: int,
                   class_name: str) -> None:
    """In the current container: the map over `shown` once computed, its controls below."""
    height, width = x.shape[:2]
    picture = st.container()
    patch, stride = _chosen_patch(min(height, width))
    key = (page.key, image_digest(x), class_index, patch, stride)
    store = _cache()
    if st.button("Occlusion map", key="fm_occlusion_run"):
        try:
            with st.spinner("Covering the image, one place at a time…"):
                store[key] = occlusion_sensitivity(page.model, x, class_index, patch=patch,
                                                   stride=stride,
                                                   final_activation=final_activation(page.spec))
        except OcclusionError as error:
            st.error(str(error))
            return
        while len(store) > _MAX_CACHED:
            store.popitem(last=False)
    result = store.get(key)
    if result is None:
        picture.caption("Occlusion, a second opinion that needs no gradients: press the "
                        "button below to cover the image with a grey patch at every place.")
        return
    store.move_to_end(key)
    drops = np.clip(result.pixel_map(height, width), 0.0, None)
    peak = float(drops.max())
    picture.image(gradcam_overlay(shown, drops / peak if peak > 0 else drops))
    rows, cols = result.drops.shape
    picture.caption(f"Occlusion for {class_name}: how much p = {result.probability:.1%} drops "
                    f"when a grey {patch}×{patch} patch covers each place ({rows}×{cols} "
                    f"places, stride {stride}); the largest drop is {result.largest_drop:.1%}.")
    if peak <= 0:
        picture.info(f"No patch lowers p({class_name}): covering any part of the image leaves "
                     "it as high or raises it.")
