"""Everything that replaces or saves the whole architecture: presets, input shape, name,
undo/redo, the JSON file down and up, the share link and the generated Keras code."""

from __future__ import annotations

import dataclasses
import json

import streamlit as st

from cnnviz.archfile import MAX_FILE_BYTES, dump_architecture, load_architecture
from cnnviz.archfile import parse_architecture as parse_json
from cnnviz.export import keras_code
from cnnviz.presets import PRESET_DESCRIPTIONS, PRESETS
from cnnviz.settings import get_settings
from cnnviz.spec import MAX_INPUT_CHANNELS, MAX_INPUT_SIDE, ModelSpec, SpecError
from cnnviz.urlcodec import encode_spec
from ui.state import (
    URL_PARAM,
    can_redo,
    can_undo,
    current_spec,
    redo,
    refresh_widgets,
    set_selected_layer,
    set_spec,
    show_notice,
    undo,
    widget_epoch,
)

__all__ = ["INPUT_PRESETS", "architecture_files", "history_buttons", "input_and_presets"]

INPUT_PRESETS: dict[str, tuple[int, int, int]] = {
    "28×28×1 (MNIST)": (28, 28, 1), "32×32×3 (CIFAR-10)": (32, 32, 3), "64×64×3": (64, 64, 3),
    "150×150×3": (150, 150, 3), "224×224×3 (ImageNet)": (224, 224, 3),
}  # fmt: skip
_UPLOAD_KEY = "build_upload"
_PRESET_KEY = "build_preset"


def history_buttons() -> None:
    left, right = st.columns(2)
    left.button("↶ Undo", on_click=undo, disabled=not can_undo(), width="stretch",
                key="build_undo")
    right.button("↷ Redo", on_click=redo, disabled=not can_redo(), width="stretch",
                 key="build_redo")


def _offered_presets() -> list[str]:
    allowed = get_settings().presets
    return [name for name in PRESETS if not allowed or name in allowed]


def _load_preset() -> None:
    name = st.session_state.get(_PRESET_KEY)
    if name in PRESETS:
        set_spec(PRESETS[name])
        set_selected_layer(0)


def _loaded_preset(spec: ModelSpec) -> str | None:
    """The preset that `spec` is, unchanged; None once it is edited (or not a preset)."""
    return next((name for name, preset in PRESETS.items() if preset == spec), None)


def _set_input(key: str) -> None:
    epoch = widget_epoch()
    spec = current_spec()
    if key == "preset":
        shape = INPUT_PRESETS[st.session_state[f"build_in{epoch}_preset"]]
    else:
        shape = tuple(st.session_state[f"build_in{epoch}_{axis}"] for axis in "hwc")
    try:
        set_spec(dataclasses.replace(spec, input_shape=shape))
    except SpecError as error:
        show_notice(error.message)
        refresh_widgets()  # the fields show the model's input again; the notice says why


def _rename() -> None:
    try:
        set_spec(dataclasses.replace(current_spec(),
                                     name=st.session_state[f"build_name{widget_epoch()}"]))
    except SpecError as error:
        show_notice(error.message)


def input_and_presets(spec: ModelSpec) -> None:
    """One row: a preset to load, then the input shape (common sizes, or any H, W, C)."""
    epoch = widget_epoch()
    names = _offered_presets()
    pick, shape, height, width, channels = st.columns(
        [3, 1.9, 0.9, 0.9, 0.9], vertical_alignment="bottom")
    # Picking loads; the picker shows the preset only while the model is that preset, so
    # after Undo or an edit it never claims a model that is not the one on the page.
    loaded = _loaded_preset(spec)
    st.session_state[_PRESET_KEY] = loaded if loaded in names else None
    edited = spec.name in PRESETS and loaded is None
    pick.selectbox("Preset", names, key=_PRESET_KEY, on_change=_load_preset,
                   placeholder=f"{spec.name} (edited)" if edited else "Choose a preset…",
                   help="Choosing a preset replaces the stack; Undo brings it back. "
                   + PRESET_DESCRIPTIONS.get(spec.name, ""))
    shape_names = list(INPUT_PRESETS)
    current = [name for name, size in INPUT_PRESETS.items() if size == spec.input_shape]
    shape.selectbox("Input shape", shape_names, key=f"build_in{epoch}_preset",
                    index=shape_names.index(current[0]) if current else None,
                    placeholder="custom", on_change=_set_input, args=("preset",))
    for axis, column, value in zip("hwc", (height, width, channels), spec.input_shape,
                                   strict=True):
        label = {"h": "height", "w": "width", "c": "channels"}[axis]
        limit = MAX_INPUT_CHANNELS if axis == "c" else MAX_INPUT_SIDE
        column.number_input(label, min_value=1, value=value, step=1, key=f"build_in{epoch}_{axis}",
                            help=f"Up to {limit:,}.", on_change=_set_input, args=(axis,))


def model_name(spec: ModelSpec) -> None:
    st.text_input("Model name", value=spec.name, key=f"build_name{widget_epoch()}",
                  on_change=_rename, max_chars=64, help="Keras's model name; also the name "
                  "of the downloaded file")


def _read_upload() -> None:
    upload = st.session_state.get(_UPLOAD_KEY)
    if upload is None:
        return
    data = upload.getvalue()
    spec: ModelSpec | None
    try:
        spec = load_architecture(data)
    except SpecError as error:
        try:  # readable, only its shapes fail: load it so the page shows where
            spec = parse_json(json.loads(data)) if len(data) <= MAX_FILE_BYTES else None
        except (SpecError, ValueError, RecursionError):
            spec = None
        show_notice(f"{upload.name}: {error.message}"
                    + (" It is loaded so you can fix it." if spec is not None else ""))
        if spec is None:
            return
    set_spec(spec)
    set_selected_layer(0)


def architecture_files(spec: ModelSpec) -> None:
    files, code = st.columns(2, gap="large")
    with files:
        model_name(spec)
        st.download_button("Download architecture JSON", dump_architecture(spec),
                           file_name=f"{spec.name}.json", mime="application/json",
                           key="build_download", width="stretch", icon=":material/download:")
        st.file_uploader("Upload an architecture JSON (cnnviz or Keras model.to_json())",
                         type=["json"], key=_UPLOAD_KEY, on_change=_read_upload,
                         max_upload_size=max(1, MAX_FILE_BYTES // 1_000_000))
        st.caption("Share link: the address bar always holds this model. To copy it:")
        st.code(f"{st.context.url or ''}?{URL_PARAM}={encode_spec(spec)}", language=None,
                wrap_lines=True)
    with code:
        st.caption("The Keras code that builds this model (copy button at the top right):")
        st.code(keras_code(spec), language="python", wrap_lines=True)
