"""Train page: choosing the data, and making it fit the model's input (or the reverse)."""

from __future__ import annotations

import dataclasses
import io
import threading
import weakref
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz.data import (
    BUILTIN_DATASETS,
    Dataset,
    DatasetError,
    ImageError,
    check_input_shape,
    fit_to_input,
    load_dataset,
    load_upload,
    missing_download,
)
from cnnviz.errors import LimitError
from cnnviz.limits import check_upload_bytes
from cnnviz.settings import get_settings, setting_source
from cnnviz.shapes import summarize
from cnnviz.spec import ModelSpec
from ui.lesson import locked_dataset
from ui.state import DATASET_KEY, set_spec
from ui.workspace import keep_uploaded_dataset

__all__ = [
    "UPLOAD", "choose_dataset", "enlarged", "fit_choice", "limits_caption", "shape_text", "strip",
    "upload_hash",
]

UPLOAD: Final = "Upload (.npz or .zip)"
_UPLOADED_KEY: Final = "cnnviz_train_upload"  # (file id, Dataset | error text), this session
# (file id, content hash in the store or None, why it is not kept or None)
_UPLOAD_HASH_KEY: Final = "cnnviz_train_upload_hash"
_FIT_KEY: Final = "train_fit_choice"
_RESIZE, _SET_INPUT = "resize", "set_input"
_PREVIEW_COUNT: Final = 6
# The built-in datasets' image shapes, known without loading them.
_IMAGE_SHAPES: Final = {"digits": (8, 8, 1), "shapes": (32, 32, 3), "mnist": (28, 28, 1),
                        "fashion_mnist": (28, 28, 1), "cifar10": (32, 32, 3)}


# Pictures drawn from a dataset, made once and shared by every session that shows it;
# they go when the dataset does (an upload, when its session ends).
_PICTURES: weakref.WeakKeyDictionary[Dataset, dict[object, Any]] = weakref.WeakKeyDictionary()
_PICTURES_LOCK: Final = threading.Lock()


def _pictures(dataset: Dataset, key: object, make: Callable[[], Any]) -> Any:
    with _PICTURES_LOCK:
        made = _PICTURES.setdefault(dataset, {})
        if key in made:
            return made[key]
    picture = make()
    with _PICTURES_LOCK:
        _PICTURES.setdefault(dataset, {})[key] = picture
    return picture


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


def enlarged(image: np.ndarray, side: int = 84) -> np.ndarray:
    """An (H, W, C) float image in [0, 1] as uint8 pixels, blown up with visible pixels."""
    pixels = (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)
    picture = Image.fromarray(pixels[..., 0] if pixels.shape[2] == 1 else pixels)
    scale = max(1, side // max(picture.size))
    return np.asarray(picture.resize((picture.width * scale, picture.height * scale),
                                     Image.Resampling.NEAREST))


def strip(images: np.ndarray, side: int = 72, gap: int = 6) -> np.ndarray:
    """Images side by side as one RGB picture, each blown up to about `side` pixels."""
    tiles = [enlarged(image, side) for image in images]
    tiles = [np.repeat(t[..., None], 3, axis=2) if t.ndim == 2 else t for t in tiles]
    height = max(tile.shape[0] for tile in tiles)
    spacer = np.full((height, gap, 3), 255, dtype=np.uint8)
    parts: list[np.ndarray] = []
    for tile in tiles:
        padded = np.full((height, tile.shape[1], 3), 255, dtype=np.uint8)
        padded[: tile.shape[0]] = tile
        parts += [padded, spacer]
    return np.concatenate(parts[:-1], axis=1)


def _offered() -> list[str]:
    allowed = get_settings().datasets
    return [name for name in BUILTIN_DATASETS if not allowed or name in allowed]


def _uploaded() -> Dataset | None:
    upload = st.file_uploader(
        "A .npz (x_train, y_train, x_test, y_test, as keras.datasets) or a .zip with one "
        "folder of images per class", type=["npz", "zip"], key="train_upload",
    )  # fmt: skip
    if upload is None:
        return None
    cached = st.session_state.get(_UPLOADED_KEY)
    if not (isinstance(cached, tuple) and cached[0] == upload.file_id):
        limit = get_settings().max_upload_bytes
        try:
            with st.spinner(f"Reading {upload.name}…"):
                data = upload.getvalue()
                check_upload_bytes(len(data), upload.name)
                loaded: Dataset | str = load_upload(upload.name, data, max_bytes=limit)
        except (DatasetError, LimitError) as error:
            loaded = f"{upload.name}: {error}"
        cached = (upload.file_id, loaded)
        st.session_state[_UPLOADED_KEY] = cached
        if not isinstance(loaded, str):
            st.session_state[_UPLOAD_HASH_KEY] = (upload.file_id,
                                                  *keep_uploaded_dataset(upload.name, data))
    if isinstance(cached[1], str):
        st.error(cached[1], icon=":material/error:")
        return None
    kept = st.session_state.get(_UPLOAD_HASH_KEY)
    if isinstance(kept, tuple) and kept[0] == upload.file_id and kept[2]:
        st.info(kept[2], icon=":material/cloud_off:")
    return cached[1]


def upload_hash(dataset: Dataset) -> str | None:
    """The store's content hash of `dataset` when it is this session's kept upload."""
    cached, kept = st.session_state.get(_UPLOADED_KEY), st.session_state.get(_UPLOAD_HASH_KEY)
    if not (isinstance(cached, tuple) and cached[1] is dataset and isinstance(kept, tuple)):
        return None
    return kept[1] if kept[0] == cached[0] and isinstance(kept[1], str) else None


def _samples(dataset: Dataset, count: int = 10) -> None:
    def draw() -> tuple[list[bytes], list[str]]:
        picks = [int(np.flatnonzero(dataset.y_train == c)[0])
                 for c in range(dataset.num_classes) if np.any(dataset.y_train == c)][:count]
        return ([_png(enlarged(dataset.x_train[i], 64)) for i in picks],
                [dataset.class_names[dataset.y_train[i]] for i in picks])

    images, captions = _pictures(dataset, ("samples", count), draw)
    st.image(images, caption=captions, width=30)  # one row of ten, even at 1280 pixels


def _default_index(names: list[str], spec: ModelSpec | None) -> int:
    """A fresh session's dataset: the first one on this computer whose images already fit
    the model (none to resize), else the first one that needs no download."""
    ready = [name for name in names if name != UPLOAD and missing_download(name) is None]
    fitting = [name for name in ready
               if spec is not None and _IMAGE_SHAPES.get(name) == spec.input_shape]
    if fitting:
        return names.index(fitting[0])
    return names.index(ready[0]) if ready else 0


def _download_button(name: str) -> Dataset | None:
    """The calm note for a dataset that is not here yet, and a button to try Keras's download."""
    st.info(missing_download(name) or "", icon=":material/download:")
    if not st.button(f"Try to download {name} now", key=f"train_download_{name}",
                     icon=":material/cloud_download:",
                     help="Keras downloads it once; this needs an internet connection."):
        return None
    try:
        with st.spinner(f"Downloading {name}…"):
            return load_dataset(name)
    except DatasetError as error:
        st.warning(f"The download did not work. {error}", icon=":material/cloud_off:")
        return None


def choose_dataset(spec: ModelSpec | None = None) -> Dataset | None:
    """The dataset picked or uploaded, described with a few samples; None with a message.

    A fresh session starts on a dataset that fits `spec`'s input when one is on this
    computer; Keras datasets not downloaded yet are offered as such, with where to put them.
    """
    fixed = locked_dataset()
    names = [fixed] if fixed else [*_offered(), UPLOAD]
    if fixed:  # the server checks it again when a training starts
        if st.session_state.get("train_dataset") != fixed:
            st.session_state.pop("train_dataset", None)
        st.caption(f":material/lock: The host fixed the dataset to **{fixed}** for this lesson.")
    remembered = st.session_state.get(DATASET_KEY)
    index = names.index(remembered) if remembered in names else _default_index(names, spec)
    name = st.selectbox("Dataset", names, index=index, key="train_dataset",
                        format_func=lambda option: option if missing_download(option) is None
                        else f"{option} (not downloaded yet)",
                        help="digits and shapes are built in; mnist, fashion_mnist and cifar10 "
                        "are downloaded by Keras the first time.") or names[0]
    if name == UPLOAD:
        dataset = _uploaded()
    elif missing_download(name) is not None:
        dataset = _download_button(name)
    else:
        try:
            with st.spinner(f"Loading {name}…"):
                dataset = load_dataset(name)
        except DatasetError as error:
            st.warning(str(error), icon=":material/cloud_off:")
            return None
    if dataset is None:
        return None
    st.session_state[DATASET_KEY] = dataset.name if name != UPLOAD else UPLOAD
    st.caption(dataset.describe())
    _samples(dataset)
    return dataset


def _set_input(spec: ModelSpec, shape: tuple[int, int, int]) -> None:
    set_spec(dataclasses.replace(spec, input_shape=shape))


def _convertible(model_shape: tuple[int, int, int]) -> bool:
    """Whether images can be resized/converted to this input (1 or 3 channels)."""
    try:
        check_input_shape(model_shape)
    except ImageError:
        return False
    return True


def fit_choice(spec: ModelSpec, dataset: Dataset, *, frozen: bool) -> bool:
    """When data and model shapes differ, offer both fixes; True when training may go on."""
    data_shape, model_shape = dataset.input_shape, spec.input_shape
    if data_shape == model_shape:
        return True
    choices = (_RESIZE, _SET_INPUT) if _convertible(model_shape) else (_SET_INPUT,)
    how = ("choose how they meet." if len(choices) == 2 else
           f"images come in 1 channel (grey) or 3 (colour), so they cannot be converted to "
           f"{model_shape[2]} channels. Set the model's input to the data's shape here, or give "
           "the input 1 or 3 channels on the Build page.")
    st.info(f"The images are **{shape_text(data_shape)}** and the model expects "
            f"**{shape_text(model_shape)}**: {how}", icon=":material/aspect_ratio:")
    choice = st.radio(
        "Make them match", choices, key=_FIT_KEY + ("" if len(choices) == 2 else "_input"),
        horizontal=True,
        format_func=lambda value: {
            _RESIZE: f"Resize the data to {shape_text(model_shape)}",
            _SET_INPUT: f"Set the model's input to {shape_text(data_shape)}",
        }[value],
    )  # fmt: skip
    if choice == _RESIZE:
        def draw() -> tuple[bytes, bytes]:
            before = dataset.x_test[:_PREVIEW_COUNT]
            return _png(strip(before)), _png(strip(fit_to_input(before, model_shape)))

        before, after = _pictures(dataset, ("preview", model_shape), draw)
        stored, seen = st.columns(2)
        stored.image(before, caption=f"as stored ({shape_text(data_shape)})")
        seen.image(after, caption=f"what the model sees ({shape_text(model_shape)})")
        return True
    candidate = dataclasses.replace(spec, input_shape=data_shape)
    error = summarize(candidate).error
    if error is not None:
        st.error(f"With a {shape_text(data_shape)} input this model does not work: "
                 f"{error.message} "
                 + ("Resize the data instead, or change" if len(choices) == 2 else "Change")
                 + " the layers on the Build page.", icon=":material/error:")
    st.button(f"Set the input to {shape_text(data_shape)}", disabled=error is not None or frozen,
              on_click=_set_input, args=(spec, data_shape), icon=":material/input:",
              help="Changes the model on the Build page (undo is there)."
              if not frozen else "Not while a training runs.")
    return False


def limits_caption() -> str:
    host = get_settings()
    return (f"This server trains up to {host.max_epochs:,} epochs, {host.max_train_samples:,} "
            f"training images and {host.max_params:,} parameters; the host sets these with "
            f"{setting_source('max_epochs')} (and the same for the others).")
