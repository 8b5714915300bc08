"""The "Where the model looks" tab: Grad-CAM for the predicted class or any other, and
occlusion sensitivity beside it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz.featuremaps import (
    GradCam,
    GradCamError,
    apply_colormap,
    compute_gradcam,
    gradcam_overlay,
)
from ui.featuremaps.model import ImageResults, PageModel, image_digest
from ui.featuremaps.occlusion import show_occlusion

__all__ = ["show_gradcam"]

_CLASS_KEY: Final = "fm_gradcam_class"
_CLASS_FOR_KEY: Final = "cnnviz_fm_gradcam_for"  # the model and image the choice was made for


def _gradcam(page: PageModel, results: ImageResults, x: np.ndarray, class_index: int) -> GradCam:
    if class_index not in results.gradcams:
        results.gradcams[class_index] = compute_gradcam(page.model, x, class_index=class_index)
    cam: GradCam = results.gradcams[class_index]
    return cam


def _heatmap_image(cam: GradCam, side: int) -> Image.Image:
    colours = apply_colormap(cam.heatmap)
    height, width = cam.heatmap.shape
    factor = max(1, side // max(height, width))
    return Image.fromarray(colours).resize((width * factor, height * factor),
                                           Image.Resampling.NEAREST)


def show_gradcam(page: PageModel, results: ImageResults, x: np.ndarray, shown: np.ndarray,
                 probabilities: np.ndarray, class_names: Sequence[str]) -> None:
    """`shown`: the original image at display size, (H, W, C) in [0, 1]."""
    predicted = int(np.argmax(probabilities))
    labels = [f"{name} ({probabilities[i]:.1%})" + (" — predicted" if i == predicted else "")
              for i, name in enumerate(class_names)]
    # A new image or model starts again from its own prediction; the person's choice of
    # another class holds only for the image it was made for.
    showing = (page.key, image_digest(x))
    if st.session_state.get(_CLASS_FOR_KEY) != showing or _CLASS_KEY not in st.session_state:
        st.session_state[_CLASS_FOR_KEY] = showing
        st.session_state[_CLASS_KEY] = predicted
    choice = st.selectbox("Class", range(len(labels)), format_func=labels.__getitem__,
                          key=_CLASS_KEY)
    class_index = predicted if choice is None else int(choice)
    try:
        cam = _gradcam(page, results, x, class_index)
    except GradCamError as error:
        st.info(str(error))
        return
    height, width = cam.heatmap.shape
    left, right, beside = st.columns(3)
    left.image(gradcam_overlay(shown, cam.heatmap))
    left.caption(f"Grad-CAM for {class_names[class_index]} over the original")
    right.image(_heatmap_image(cam, shown.shape[0]))
    right.caption(f"The map itself: {height}×{width}, from layer {cam.layer_name}")
    with beside:
        show_occlusion(page, x, shown, class_index, class_names[class_index])
    st.caption(
        "Bright where the layer's maps, weighted by how much each raises the class score "
        "(the score before softmax), are high. The map has the layer's resolution, "
        "stretched over the image."
    )
    if cam.is_flat:
        st.info(f"Nothing in this image raises the score of {class_names[class_index]} at "
                f"layer {cam.layer_name}: the weighted maps are zero or negative everywhere.")
    if not page.trained:
        st.warning("Random weights: this heatmap is not evidence of anything learned. "
                   "Train the model on the Train page, then come back.")
