"""The selected layer's settings: one widget per Keras argument, applied on every change.

A value the layer refuses (strides with dilation, groups that do not divide filters…) is
kept in its widget and reported as a *draft error* on the layer's row; the architecture
keeps its last valid version, so nothing is lost.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import streamlit as st

from cnnviz import fields as f
from cnnviz.advice import config_fixes
from cnnviz.edits import replace_layer
from cnnviz.layers import INTERPOLATIONS, LayerSpec
from cnnviz.spec import ModelSpec, SpecError, layer_from_dict
from ui.build.layer_help import field_help
from ui.state import current_spec, refresh_widgets, set_spec, widget_epoch

__all__ = ["DRAFT_KEY", "draft_error", "layer_settings"]

DRAFT_KEY = "build_draft_error"  # a DraftError while the widgets show a refused value
_ADVANCED = {"kernel_initializer", "bias_initializer", "depthwise_initializer",
             "pointwise_initializer", "alpha_initializer", "kernel_regularizer",
             "bias_regularizer", "depthwise_regularizer", "pointwise_regularizer",
             "alpha_regularizer", "data_format", "axis", "seed", "name", "trainable"}
_NO_ACTIVATION = "linear (None)"
_FLOAT_STEP = {"rate": 0.05, "momentum": 0.01, "epsilon": 0.0001}


@dataclass(frozen=True)
class DraftError:
    """A value the selected layer refused, kept while its widgets (of `epoch`) show it."""

    index: int
    epoch: int
    message: str
    fixes: tuple[tuple[str, dict[str, Any]], ...]  # (label, the config that clears it)


_KINDS: dict[Any, str] = {
    f.positive_int: "int", f.int_pair: "pair", f.optional_int_pair: "optional_pair",
    f.padding_pairs: "padding4", f.activation: "activation", f.boolean: "bool",
    f.data_format: "fixed", f.optional_int: "optional_int", f.layer_name: "name",
    f.integer: "signed_int", f.real_number: "real", f.non_negative_real: "non_negative_real",
    f.optional_non_negative_real: "optional_real", f.optional_non_negative_pair: "optional_pair0",
    f.axis_list: "axes", f.regularizer: "regularizer", f.target_shape: "json",
}
_PAIR_KINDS = ("pair", "optional_pair", "optional_pair0", "padding4")
_CHOICES = {"interpolation": INTERPOLATIONS}


def _kind(spec_field: dataclasses.Field[Any]) -> str:
    """Which widget edits this field; "json" (a text box) for any field not known here."""
    coerce = spec_field.metadata.get("coerce")
    if not spec_field.metadata.get("keras", True):
        return "fixed"
    if coerce in _KINDS:
        return _KINDS[coerce]
    if spec_field.name.endswith("initializer"):
        return "initializer"
    if spec_field.name in _CHOICES:
        return "choice"
    if spec_field.name in ("padding", "axis"):
        return "padding" if spec_field.name == "padding" else "fixed"
    return "float" if spec_field.type in ("float", float) else "json"


def _accepted(spec_field: dataclasses.Field[Any], options: tuple[str, ...]) -> list[str]:
    coerce = spec_field.metadata["coerce"]
    accepted = []
    for option in options:
        try:
            coerce(option, spec_field.name)
        except SpecError:
            continue
        accepted.append(option)
    return accepted


def _default_text(spec_field: dataclasses.Field[Any]) -> str:
    if spec_field.default is dataclasses.MISSING:
        return "required"
    if spec_field.name == "data_format":
        return "None (channels_last)"
    return repr(spec_field.default)


def _regularizer_text(value: f.Regularizer | None) -> str:
    if value is None:
        return ""
    shown = value.to_json()
    return shown if isinstance(shown, str) else json.dumps(shown)


def _pair_inputs(labels: tuple[str, ...], values: Any, key: str, help_text: str, minimum: int,
                 on_change: Any) -> None:
    """Number inputs side by side, two a row; keys `key_0`, `key_1`, …"""
    for start in range(0, len(labels), 2):
        for offset, column in enumerate(st.columns(2)):
            axis = start + offset
            column.number_input(labels[axis], min_value=minimum, step=1,
                                value=None if values is None else values[axis],
                                key=f"{key}_{axis}", on_change=on_change, placeholder="None",
                                help=f"{help_text} Up to {f.MAX_WINDOW:,}.")


def _widget(spec_field: dataclasses.Field[Any], value: Any, key: str, auto_name: str,
            on_change: Any) -> None:
    name, kind = spec_field.name, _kind(spec_field)
    help_text = field_help(name, _default_text(spec_field))
    # No max_value on whole numbers: the browser would silently refuse a number over it,
    # where the layer's own check says what the limit is and why.
    common = {"key": key, "help": help_text, "on_change": on_change}
    if kind == "int":
        common["help"] = f"{help_text} Up to {f.MAX_SIZE:,}."
        st.number_input(name, min_value=1, step=1, value=value, **common)
    elif kind in ("pair", "optional_pair", "optional_pair0"):
        _pair_inputs((f"{name} · height", f"{name} · width"), value, key, help_text,
                     0 if kind == "optional_pair0" else 1, on_change)
    elif kind == "padding4":
        (top, bottom), (left, right) = value
        _pair_inputs(("padding · top", "padding · bottom", "padding · left", "padding · right"),
                     (top, bottom, left, right), key, help_text, 0, on_change)
    elif kind == "padding":
        st.radio(name, ["valid", "same"], index=["valid", "same"].index(value),
                 horizontal=True, **common)
    elif kind == "activation":
        options = [_NO_ACTIVATION, *(a for a in f.ACTIVATIONS if a != "linear")]
        st.selectbox(name, options, index=options.index(value or _NO_ACTIVATION), **common)
    elif kind == "initializer":
        options = _accepted(spec_field, f.INITIALIZERS)
        st.selectbox(name, options, index=options.index(value) if value in options else None,
                     **common)
    elif kind == "bool":
        st.toggle(name, value=value, **common)
    elif kind == "choice":
        options = list(_CHOICES[name])
        st.selectbox(name, options, index=options.index(value), **common)
    elif kind == "signed_int":
        st.number_input(name, step=1, value=value, **common)
    elif kind in ("real", "non_negative_real", "optional_real"):
        st.number_input(name, min_value=None if kind == "real" else 0.0,
                        value=None if value is None else float(value), format="%g", step=0.1,
                        placeholder="None", **common)
    elif kind == "axes":
        st.multiselect(name, [1, 2, 3], default=list(value or ()), placeholder="None",
                       **common)
    elif kind == "regularizer":
        st.text_input(name, value=_regularizer_text(value), placeholder="None (no penalty)",
                      **common)
    elif kind == "float":
        st.number_input(name, min_value=0.0, max_value=1.0, value=float(value), format="%g",
                        step=_FLOAT_STEP.get(name, 0.01), **common)
    elif kind == "optional_int":
        st.number_input(name, min_value=0, max_value=2**31 - 1, step=1, value=value,
                        placeholder="None (random)", **common)
    elif kind == "name":
        st.text_input(name, value=value or "", placeholder=f"{auto_name} (automatic)",
                      max_chars=64, **common)
    elif kind == "json":
        st.text_input(name, value=json.dumps(value), **common)
    else:
        shown = "channels_last" if name == "data_format" else str(value)
        st.text_input(name, value=shown, disabled=True, key=key, help=help_text)


def _json_or_text(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return text  # the layer's own check says what is wrong with it


def _read_config(layer: LayerSpec, prefix: str) -> dict[str, Any]:
    """The layer's config as its widgets show it; a field without a widget on the page
    (in a closed "More arguments") keeps the layer's value."""
    state = st.session_state
    config: dict[str, Any] = {}
    current = layer.config(include_defaults=True)
    for spec_field in dataclasses.fields(layer):
        key, kind = prefix + spec_field.name, _kind(spec_field)
        if kind == "fixed":
            continue
        probe = f"{key}_0" if kind in _PAIR_KINDS else key
        if probe not in state:
            if spec_field.name in current:
                config[spec_field.name] = current[spec_field.name]
            continue
        if kind == "padding4":
            sides = [state.get(f"{key}_{axis}") for axis in range(4)]
            config["padding"] = [sides[:2], sides[2:]]
        elif kind in ("pair", "optional_pair", "optional_pair0"):
            pair = [state.get(f"{key}_0"), state.get(f"{key}_1")]
            if kind != "pair" and pair == [None, None]:
                continue
            config[spec_field.name] = pair
        elif kind == "activation":
            value = state.get(key)
            config["activation"] = None if value in (None, _NO_ACTIVATION) else value
        elif kind == "name":
            config["name"] = state.get(key) or None
        elif kind == "json":
            config[spec_field.name] = _json_or_text(state.get(key))
        elif kind == "regularizer":
            text = (state.get(key) or "").strip()
            config[spec_field.name] = _json_or_text(text) if text else None
        elif kind == "axes":
            config[spec_field.name] = sorted(state.get(key) or []) or None
        else:
            config[spec_field.name] = state.get(key)
    return config


def _store(index: int, class_name: str, config: dict[str, Any]) -> None:
    """Apply a layer config from the widgets, or keep it as a draft error on the row."""
    spec = current_spec()
    try:
        layer = layer_from_dict({"class_name": class_name, "config": config}, index)
        set_spec(replace_layer(spec, index, layer), from_widgets=True)
        st.session_state.pop(DRAFT_KEY, None)
    except SpecError as error:
        error = error.at_layer(spec.layer_ref(index))
        st.session_state[DRAFT_KEY] = DraftError(index, widget_epoch(), error.message,
                                                 config_fixes(config, error))


def _apply_fix(index: int, class_name: str, config: dict[str, Any]) -> None:
    _store(index, class_name, config)
    refresh_widgets()  # fresh widgets show the fixed values


def _current_draft() -> DraftError | None:
    draft = st.session_state.get(DRAFT_KEY)
    if not isinstance(draft, DraftError) or draft.epoch != widget_epoch():
        return None
    return draft


def draft_error() -> tuple[int, str] | None:
    """(layer index, message) of a setting the layer refused, while its widgets show it."""
    draft = _current_draft()
    return None if draft is None else (draft.index, draft.message)


def layer_settings(spec: ModelSpec, index: int) -> None:
    layer = spec.layers[index]
    fields = dataclasses.fields(layer)
    prefix = f"build_f{widget_epoch()}_{index}_{layer.class_name}_"
    auto_name = spec.layer_names()[index]

    def on_change() -> None:
        _store(index, layer.class_name, _read_config(layer, prefix))

    main = [item for item in fields if item.name not in _ADVANCED]
    pairs = [item for item in main if _kind(item) in _PAIR_KINDS]
    columns = st.columns(2)
    for position, spec_field in enumerate(item for item in main if item not in pairs):
        with columns[position % 2]:
            _widget(spec_field, getattr(layer, spec_field.name), prefix + spec_field.name,
                    auto_name, on_change)
    for spec_field in pairs:  # height and width side by side, a row each
        _widget(spec_field, getattr(layer, spec_field.name), prefix + spec_field.name,
                auto_name, on_change)
    more = st.expander("More arguments: name, trainable, initializers, regularizers",
                       key=f"{prefix}more",
                       on_change="rerun")
    if more.open:  # drawn only when open: most edits never need these
        with more:
            for spec_field in (item for item in fields if item.name in _ADVANCED):
                _widget(spec_field, getattr(layer, spec_field.name), prefix + spec_field.name,
                        auto_name, on_change)
    draft = _current_draft()
    if draft is not None and draft.index == index:
        st.error(draft.message, icon=":material/error:")
        for number, (label, config) in enumerate(draft.fixes):
            st.button(label, key=f"build_draft_fix_{number}", on_click=_apply_fix,
                      args=(index, layer.class_name, config))
