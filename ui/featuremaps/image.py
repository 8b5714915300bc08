"""Choosing the image for the Feature maps page: a dataset sample, an upload, a camera
photo, a digit drawn with the mouse, or the image the Train page handed over."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz.data import (
    DatasetError,
    ImageError,
    array_to_image,
    decode_upload,
    load_dataset,
    to_model_input,
)
from cnnviz.errors import LimitError
from cnnviz.settings import get_settings
from cnnviz.spec import ModelSpec
from ui.featuremaps.state import kept_widget
from ui.state import DATASET_KEY, handed_image

__all__ = [
    "ChosenImage",
    "choose_image",
    "model_view",
    "show_input",
    "shown_picture",
]

SAMPLE, UPLOAD, CAMERA, DRAW, HANDED = (
    "Dataset sample", "Upload", "Camera", "Draw a digit", "From the Train page",
)  # fmt: skip
_SOURCE_KEY: Final = "fm_source"
_HANDED_SEEN_KEY: Final = "cnnviz_fm_handed_seen"
_LAST_IMAGES_KEY: Final = "cnnviz_fm_last_images"  # source → the last image it gave
_UPLOAD_TYPES: Final = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]
_SAMPLE_DATASETS: Final = ("shapes", "digits", "mnist", "fashion_mnist", "cifar10")
_CANVAS_SIDE: Final = 280
_CANVAS_TOOLBAR_ROOM: Final = 24  # px; with the gaps around it, room for the canvas toolbar
_VIEW_SIDE: Final = 224


@dataclass(frozen=True, eq=False)
class ChosenImage:
    picture: Image.Image  # upright, "L" or "RGB"
    label: str
    source: str


def _handed_over() -> ChosenImage | None:
    handed = handed_image()
    if handed is None:
        return None
    try:
        picture = array_to_image(handed.array)
    except (ImageError, TypeError, ValueError):
        return None
    return ChosenImage(picture, f"{handed.label} · {handed.source}", handed.source)


def _decoded(data: bytes, filename: str | None, source: str,
             label: str | None = None) -> ChosenImage | None:
    try:
        picture = decode_upload(data, filename=filename)
    except (ImageError, LimitError) as error:
        st.error(str(error))
        return None
    return _latest(source, ChosenImage(picture, label or filename or source, source), "")


def _default_dataset(spec: ModelSpec, trained_dataset: str | None) -> str:
    for name in (trained_dataset, st.session_state.get(DATASET_KEY)):
        if isinstance(name, str) and name in _SAMPLE_DATASETS:
            return name
    return "shapes" if spec.input_shape[2] == 3 else "digits"


def _dataset_sample(spec: ModelSpec, trained_dataset: str | None) -> ChosenImage | None:
    allowed = get_settings().datasets
    names = [name for name in _SAMPLE_DATASETS if not allowed or name in allowed]
    default = _default_dataset(spec, trained_dataset)
    names = names if default in names else [default, *names]
    columns = st.columns([2, 2, 1])
    name = kept_widget(columns[0].selectbox, "fm_dataset", default, "Dataset", names,
                       valid=names.__contains__) or default
    try:
        dataset = load_dataset(name)
    except DatasetError as error:
        st.warning(str(error))
        return None
    classes = list(dataset.class_names)
    label = kept_widget(columns[1].selectbox, f"fm_class_{name}", classes[0], "Class", classes,
                        valid=classes.__contains__) or classes[0]
    class_index = classes.index(label)
    members = np.flatnonzero(dataset.y_test == class_index)
    if members.size == 0:
        st.info(f"The {name} test set has no image of class {label!r}; choose another class.")
        return None
    number = kept_widget(
        columns[2].number_input, f"fm_index_{name}_{class_index}", 1,
        f"Image (1–{members.size})", min_value=1, max_value=int(members.size), step=1,
        valid=lambda value: isinstance(value, int) and 1 <= value <= members.size,
    )  # fmt: skip
    array = dataset.x_test[members[int(number) - 1]]
    return ChosenImage(array_to_image(array), f"{label} · {name} test image {int(number)}", SAMPLE)


def _drawing() -> ChosenImage | None:
    from streamlit_drawable_canvas import st_canvas

    st.space(_CANVAS_TOOLBAR_ROOM)  # its toolbar appears above it, here, not over the choices
    result = st_canvas(stroke_width=20, stroke_color="#ffffff", background_color="#000000",
                       height=_CANVAS_SIDE, width=_CANVAS_SIDE, drawing_mode="freedraw",
                       return_image_data=True, key="fm_canvas")
    st.caption("Draw a digit with the mouse — white on black, as in MNIST. Point at the "
               "canvas for its toolbar: undo, redo, clear.")
    rgba = result.image_data
    if rgba is None or rgba.ndim != 3 or int(rgba[..., :3].max(initial=0)) < 32:
        return None
    picture = Image.fromarray(np.ascontiguousarray(rgba[..., :3], dtype=np.uint8)).convert("L")
    return ChosenImage(picture, "your drawing", DRAW)


def _sync_source_with_handover(handed: ChosenImage | None) -> None:
    """Show a newly handed-over image once, without overriding the person's later choice."""
    if handed is None:
        return
    fingerprint = hashlib.sha1(handed.picture.tobytes()).hexdigest()
    if st.session_state.get(_HANDED_SEEN_KEY) != fingerprint:
        st.session_state[_HANDED_SEEN_KEY] = fingerprint
        st.session_state[_SOURCE_KEY] = HANDED


def _latest(source: str, chosen: ChosenImage | None, waiting: str) -> ChosenImage | None:
    """The new image of `source`, or the last one it gave (its widget forgets it when the
    person visits another page), or None with a hint."""
    last: dict[str, ChosenImage] = st.session_state.setdefault(_LAST_IMAGES_KEY, {})
    if chosen is not None:
        last[source] = chosen
        return chosen
    if source in last:
        st.caption(f"Showing your last image ({last[source].label}); {waiting} to replace it.")
        return last[source]
    st.info(f"{waiting[0].upper()}{waiting[1:]} to see what every layer makes of it.")
    return None


def choose_image(spec: ModelSpec, trained_dataset: str | None) -> ChosenImage | None:
    handed = _handed_over()
    _sync_source_with_handover(handed)
    options = [SAMPLE, UPLOAD, CAMERA, DRAW] + ([HANDED] if handed else [])
    source = kept_widget(st.radio, _SOURCE_KEY, SAMPLE, "Image", options, horizontal=True,
                         valid=options.__contains__)
    if source == HANDED:
        return handed
    if source == UPLOAD:
        file = st.file_uploader("An image file (PNG, JPEG, WebP, BMP or GIF)",
                                type=_UPLOAD_TYPES, key="fm_upload")
        if file is not None:
            return _decoded(file.getvalue(), file.name, UPLOAD)
        return _latest(UPLOAD, None, "upload an image")
    if source == CAMERA:
        photo = st.camera_input("Take a photo", key="fm_camera")
        if photo is not None:
            return _decoded(photo.getvalue(), None, CAMERA, "camera photo")
        return _latest(CAMERA, None, "take a photo")
    if source == DRAW:
        return _latest(DRAW, _drawing(), "draw something on the black square")
    return _dataset_sample(spec, trained_dataset)


def model_view(chosen: ChosenImage, spec: ModelSpec) -> np.ndarray:
    """What the model sees: resized (bilinear) to its input, its channels, values in [0, 1]."""
    return to_model_input(chosen.picture, spec.input_shape)


def _enlarged(picture: Image.Image, side: int = _VIEW_SIDE) -> Image.Image:
    width, height = picture.size
    factor = side / max(width, height)
    method = Image.Resampling.NEAREST if factor >= 1 else Image.Resampling.LANCZOS
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return picture.resize(size, method)


def show_input(chosen: ChosenImage, x: np.ndarray, spec: ModelSpec, columns: Sequence[Any]) -> None:
    """The original and what the model sees, side by side in the first two of `columns`."""
    height, width, channels = spec.input_shape
    original_w, original_h = chosen.picture.size
    kind = "colour" if chosen.picture.mode == "RGB" else "grey"
    columns[0].image(_enlarged(chosen.picture))
    columns[0].caption(f"Original: {chosen.label} ({original_w}×{original_h}, {kind})")
    colour = "RGB" if channels == 3 else "greyscale"
    columns[1].image(_enlarged(array_to_image(x)))
    columns[1].caption(f"What the model sees: {height}×{width}×{channels} — resized "
                       f"(bilinear), {colour}, values scaled to [0, 1]")


def shown_picture(chosen: ChosenImage, side: int = _VIEW_SIDE) -> np.ndarray:
    """The original at display size, as (H, W, C) floats in [0, 1] (for overlays)."""
    picture: Any = _enlarged(chosen.picture, side)
    return np.asarray(picture, dtype=np.float32) / 255.0
