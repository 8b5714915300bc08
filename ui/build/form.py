"""The selected layer's settings: one widget per Keras argument, applied on every change.

A value the layer refuses (strides with dilation, groups that do not divide filters…) is
kept in its widget and reported as a *draft error* on the layer's row; the architecture
keeps its last valid version, so nothing is lost.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

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


# The kind of widget a field gets, by the coercer that checks it (`_kind` falls back on the
# field's name and type). Each kind is one entry of `_WIDGETS`: its widget and its read-back.
_KINDS: dict[Any, str] = {
    f.positive_int: "int", f.int_pair: "pair", f.optional_int_pair: "optional_pair",
    f.padding_pairs: "padding4", f.activation: "activation", f.boolean: "bool",
    f.data_format: "fixed", f.optional_int: "optional_int", f.layer_name: "name",
    f.integer: "signed_int", f.real_number: "real", f.non_negative_real: "non_negative_real",
    f.optional_non_negative_real: "optional_real", f.optional_non_negative_pair: "optional_pair0",
    f.axis_list: "axes", f.regularizer: "regularizer", f.target_shape: "json",
}
_CHOICES = {"interpolation": INTERPOLATIONS}
_Get = Callable[[str], Any]  # st.session_state.get
_UNSET: Final = object()  # a read-back that leaves the argument out of the config


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


def _json_or_text(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return text  # the layer's own check says what is wrong with it


@dataclass(frozen=True)
class _Drawn:
    """One field's widget as it is drawn: the field, its value, its key and its help."""

    field: dataclasses.Field[Any]
    value: Any
    key: str
    help: str
    auto_name: str
    on_change: Callable[[], None]

    @property
    def name(self) -> str:
        return self.field.name

    def common(self, help_text: str | None = None) -> dict[str, Any]:
        return {"key": self.key, "help": help_text or self.help, "on_change": self.on_change}


@dataclass(frozen=True)
class _Widget:
    """How one kind of field is drawn, and how its value is read back from the widgets.

    `read` gets a look-up in the session state and the field's key (None: the field is never read
    back); `row`: number inputs keyed `key_0`, `key_1`, … on a row of their own."""

    draw: Callable[[_Drawn], object]
    read: Callable[[_Get, str], Any] | None = lambda get, key: get(key)
    row: bool = False


def _pair_inputs(labels: tuple[str, ...], values: Any, drawn: _Drawn, minimum: int) -> None:
    """Number inputs side by side, two a row; keys `key_0`, `key_1`, …"""
    for start in range(0, len(labels), 2):
        for offset, column in enumerate(st.columns(2)):
            axis = start + offset
            column.number_input(labels[axis], min_value=minimum, step=1,
                                value=None if values is None else values[axis],
                                key=f"{drawn.key}_{axis}", on_change=drawn.on_change,
                                placeholder="None",
                                help=f"{drawn.help} Up to {f.MAX_WINDOW:,}.")


def _pair_widget(minimum: int, *, optional: bool) -> _Widget:
    def draw(drawn: _Drawn) -> None:
        _pair_inputs((f"{drawn.name} · height", f"{drawn.name} · width"), drawn.value, drawn,
                     minimum)

    def read(get: _Get, key: str) -> Any:
        pair = [get(f"{key}_0"), get(f"{key}_1")]
        return _UNSET if optional and pair == [None, None] else pair

    return _Widget(draw, read, row=True)


def _draw_padding4(drawn: _Drawn) -> None:
    (top, bottom), (left, right) = drawn.value
    _pair_inputs(("padding · top", "padding · bottom", "padding · left", "padding · right"),
                 (top, bottom, left, right), drawn, 0)


def _read_padding4(get: _Get, key: str) -> Any:
    sides = [get(f"{key}_{axis}") for axis in range(4)]
    return [sides[:2], sides[2:]]


def _draw_activation(drawn: _Drawn) -> None:
    options = [_NO_ACTIVATION, *(a for a in f.ACTIVATIONS if a != "linear")]
    st.selectbox(drawn.name, options, index=options.index(drawn.value or _NO_ACTIVATION),
                 **drawn.common())


def _read_activation(get: _Get, key: str) -> Any:
    value = get(key)
    return None if value in (None, _NO_ACTIVATION) else value


def _draw_initializer(drawn: _Drawn) -> None:
    options = _accepted(drawn.field, f.INITIALIZERS)
    st.selectbox(drawn.name, options,
                 index=options.index(drawn.value) if drawn.value in options else None,
                 **drawn.common())


def _draw_choice(drawn: _Drawn) -> None:
    options = list(_CHOICES[drawn.name])
    st.selectbox(drawn.name, options, index=options.index(drawn.value), **drawn.common())


def _real_widget(minimum: float | None) -> _Widget:
    def draw(drawn: _Drawn) -> None:
        st.number_input(drawn.name, min_value=minimum,
                        value=None if drawn.value is None else float(drawn.value),
                        format="%g", step=0.1, placeholder="None", **drawn.common())

    return _Widget(draw)


def _read_regularizer(get: _Get, key: str) -> Any:
    text = (get(key) or "").strip()
    return _json_or_text(text) if text else None


def _draw_fixed(drawn: _Drawn) -> None:
    shown = "channels_last" if drawn.name == "data_format" else str(drawn.value)
    st.text_input(drawn.name, value=shown, disabled=True, key=drawn.key, help=drawn.help)


# No max_value on whole numbers: the browser would silently refuse a number over it,
# where the layer's own check says what the limit is and why.
_WIDGETS: dict[str, _Widget] = {
    "int": _Widget(lambda d: st.number_input(
        d.name, min_value=1, step=1, value=d.value,
        **d.common(f"{d.help} Up to {f.MAX_SIZE:,}."))),
    "pair": _pair_widget(1, optional=False),
    "optional_pair": _pair_widget(1, optional=True),
    "optional_pair0": _pair_widget(0, optional=True),
    "padding4": _Widget(_draw_padding4, _read_padding4, row=True),
    "padding": _Widget(lambda d: st.radio(
        d.name, ["valid", "same"], index=["valid", "same"].index(d.value), horizontal=True,
        **d.common())),
    "activation": _Widget(_draw_activation, _read_activation),
    "initializer": _Widget(_draw_initializer),
    "bool": _Widget(lambda d: st.toggle(d.name, value=d.value, **d.common())),
    "choice": _Widget(_draw_choice),
    "signed_int": _Widget(lambda d: st.number_input(d.name, step=1, value=d.value,
                                                    **d.common())),
    "real": _real_widget(None),
    "non_negative_real": _real_widget(0.0),
    "optional_real": _real_widget(0.0),
    "axes": _Widget(
        lambda d: st.multiselect(d.name, [1, 2, 3], default=list(d.value or ()),
                                 placeholder="None", **d.common()),
        lambda get, key: sorted(get(key) or []) or None),
    "regularizer": _Widget(
        lambda d: st.text_input(d.name, value=_regularizer_text(d.value),
                                placeholder="None (no penalty)", **d.common()),
        _read_regularizer),
    "float": _Widget(lambda d: st.number_input(
        d.name, min_value=0.0, max_value=1.0, value=float(d.value), format="%g",
        step=_FLOAT_STEP.get(d.name, 0.01), **d.common())),
    "optional_int": _Widget(lambda d: st.number_input(
        d.name, min_value=0, max_value=2**31 - 1, step=1, value=d.value,
        placeholder="None (random)", **d.common())),
    "name": _Widget(
        lambda d: st.text_input(d.name, value=d.value or "",
                                placeholder=f"{d.auto_name} (automatic)", max_chars=64,
                                **d.common()),
        lambda get, key: get(key) or None),
    "json": _Widget(lambda d: st.text_input(d.name, value=json.dumps(d.value), **d.common()),
                    lambda get, key: _json_or_text(get(key))),
    "fixed": _Widget(_draw_fixed, read=None),
}


def _widget(spec_field: dataclasses.Field[Any], value: Any, key: str, auto_name: str,
            on_change: Callable[[], None]) -> None:
    help_text = field_help(spec_field.name, _default_text(spec_field))
    drawn = _Drawn(spec_field, value, key, help_text, auto_name, on_change)
    _WIDGETS[_kind(spec_field)].draw(drawn)


def _read_config(layer: LayerSpec, prefix: str) -> dict[str, Any]:
    """The layer's config as its widgets show it; a field without a widget on the page
    (in a closed "More arguments") keeps the layer's value."""
    state = st.session_state
    config: dict[str, Any] = {}
    current = layer.config(include_defaults=True)
    for spec_field in dataclasses.fields(layer):
        key, widget = prefix + spec_field.name, _WIDGETS[_kind(spec_field)]
        if widget.read is None:
            continue
        if (f"{key}_0" if widget.row else key) not in state:
            if spec_field.name in current:
                config[spec_field.name] = current[spec_field.name]
            continue
        value = widget.read(state.get, key)
        if value is not _UNSET:
            config[spec_field.name] = value
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
    pairs = [item for item in main if _WIDGETS[_kind(item)].row]
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
