"""An explanation written out with its real numbers, as lines of text and as one JSON object.

Small windows are written term by term (`0.5·0.12 + 0.3·(−0.2) + … = −0.41`); large ones
are summarised: one sum per input channel, or the largest products and the rest summed.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from cnnviz.featuremaps.explain import Explanation, Terms

__all__ = [
    "MAX_TERMS",
    "explanation_json",
    "explanation_lines",
    "fmt",
    "position_text",
    "summarised",
]

MAX_TERMS: Final = 75  # a 5×5 window over 3 channels is written out whole
LARGEST_SHOWN: Final = 12
CHANNELS_SHOWN: Final = 16


def fmt(value: float | None, digits: int = 4) -> str:
    """A number as people write it: 4 significant digits, a true minus sign."""
    if value is None:
        return "—"
    if value == 0:
        return "0"
    text = f"{value:.{digits}g}"
    return text.replace("-", "−")


def _factor(value: float) -> str:
    text = fmt(value)
    return f"({text})" if value < 0 else text


def position_text(at: tuple[int, ...] | np.ndarray) -> str:
    values = [int(i) for i in at]
    if len(values) == 3:
        return f"row {values[0]}, column {values[1]}, channel {values[2]}"
    return "index " + ", ".join(str(i) for i in values)


def summarised(explanation: Explanation, full: bool = False) -> bool:
    terms = explanation.terms
    return terms is not None and not full and len(terms) > MAX_TERMS


def _sum_line(terms: Terms, indices: np.ndarray) -> str:
    if terms.weights is None:
        return ", ".join(fmt(terms.inputs[i]) for i in indices)
    return " + ".join(f"{_factor(terms.inputs[i])}·{_factor(terms.weights[i])}" for i in indices)


def _weighted_lines(explanation: Explanation, full: bool) -> list[str]:
    terms = explanation.terms
    assert terms is not None
    lines: list[str] = []
    if explanation.stages:
        lines.append(f"Depthwise step: one {_kernel_text(explanation)} sum per input channel")
        for stage in explanation.stages[: None if full else CHANNELS_SHOWN]:
            indices = np.arange(len(stage.terms))
            lines.append(f"  {stage.label}: {_sum_line(stage.terms, indices)} = "
                         f"{fmt(stage.value)}")
        hidden = len(explanation.stages) - CHANNELS_SHOWN
        if hidden > 0 and not full:
            lines.append(f"  … {hidden} more depthwise channels")
        lines.append("Pointwise step: depthwise value · pointwise weight")
    parts: list[str] = []
    if not summarised(explanation, full):
        channel_sums = terms.channel_sums() if not explanation.stages else []
        if len(channel_sums) > 1:
            channels = terms.input_at[:, -1]
            for channel, _, total in channel_sums:
                indices = np.flatnonzero(channels == channel)
                lines.append(f"  input channel {channel}: {_sum_line(terms, indices)} = "
                             f"{fmt(total)}")
            parts = [_factor(total) for _, _, total in channel_sums]
        else:
            parts = [_sum_line(terms, np.arange(len(terms)))] if len(terms) else []
    else:
        channel_sums = terms.channel_sums() if not explanation.stages else []
        if 1 < len(channel_sums) <= CHANNELS_SHOWN:
            for channel, count, total in channel_sums:
                lines.append(f"  input channel {channel}: Σ of {count} products = {fmt(total)}")
            parts = [_factor(total) for _, _, total in channel_sums]
        else:
            largest = terms.largest(LARGEST_SHOWN)
            lines.append(f"  the {largest.size} largest of {len(terms)} products:")
            for i in largest:
                lines.append(f"    {_sum_line(terms, np.array([i]))} = "
                             f"{fmt(terms.products[i])}   (input at "
                             f"{position_text(terms.input_at[i])})")
            rest = float(np.sum(terms.products) - np.sum(terms.products[largest]))
            parts = [_factor(float(np.sum(terms.products[largest]))), _factor(rest)]
            lines.append(f"  the other {len(terms) - largest.size} products sum to {fmt(rest)}")
    if explanation.bias is not None:
        parts.append(f"{_factor(explanation.bias)} (bias)")
    lines.append(f"{' + '.join(parts) or '0'} = {fmt(explanation.pre_activation)}")
    return lines


def _kernel_text(explanation: Explanation) -> str:
    window = explanation.window
    if window is None:
        return ""
    rows = len(range(window.top, window.bottom + 1, window.row_step))
    cols = len(range(window.left, window.right + 1, window.col_step))
    return f"{rows}×{cols}"


def _window_line(explanation: Explanation) -> str | None:
    window = explanation.window
    if window is None:
        return None
    channels = window.channels
    channel_text = (f"channel {channels[0]}" if len(channels) == 1
                    else f"channels {channels[0]}–{channels[-1]}")
    step = (f", every {window.row_step}×{window.col_step} cells"
            if (window.row_step, window.col_step) != (1, 1) else "")
    padded = (f"; {window.padded_cells} of its cells per channel are zero padding"
              if window.padded_cells else "")
    return (f"Window: rows {window.top}–{window.bottom}, columns {window.left}–{window.right}"
            f"{step} of {window.source} {window.source_shape}, {channel_text}{padded}")


def _activation_line(explanation: Explanation) -> str | None:
    name = explanation.activation
    if name is None or name == "linear" or explanation.activated is None:
        return None
    settings = "".join(f", {key}={fmt(value)}" for key, value in explanation.parameters.items()
                       if explanation.operation == "activation")
    if name in ("softmax", "log_softmax") and explanation.operation != "activation":
        others = "units" if len(explanation.at) == 1 else "channels at this position"
        settings = f", with the pre-activations of the other {others}"
    return f"{name}({fmt(explanation.pre_activation)}{settings}) = {fmt(explanation.activated)}"


def _body_lines(explanation: Explanation, full: bool) -> list[str]:
    operation = explanation.operation
    terms = explanation.terms
    if operation == "weighted sum":
        return _weighted_lines(explanation, full)
    if operation in ("max", "mean") and terms is not None:
        if operation == "max":
            best = int(np.argmax(terms.inputs))
            shown = np.arange(len(terms)) if not summarised(explanation, full) else None
            listed = _sum_line(terms, shown) if shown is not None else f"{len(terms)} values"
            return [f"max({listed}) = {fmt(explanation.pre_activation)}",
                    f"the largest is at {position_text(terms.input_at[best])}"]
        values = (" + ".join(_factor(v) for v in terms.inputs)
                  if not summarised(explanation, full) else f"Σ of {len(terms)} values")
        return [f"({values}) / {len(terms)} = {fmt(explanation.pre_activation)}"]
    if operation == "normalization":
        p = explanation.parameters
        return [f"(x − mean) / √(var + ε) · γ + β = ({fmt(explanation.source_value)} − "
                f"{_factor(p['mean'])}) / √({fmt(p['variance'])} + {fmt(p['epsilon'])}) · "
                f"{_factor(p['gamma'])} + {_factor(p['beta'])} = "
                f"{fmt(explanation.pre_activation)}",
                f"x is {explanation.layer}'s input at {position_text(explanation.at)}; "
                "mean and var are the moving statistics learned in training"]
    if operation in ("activation", "copy") and explanation.source_at is not None:
        return [f"from its input at {position_text(explanation.source_at)}: "
                f"{fmt(explanation.source_value)}"]
    return []


def explanation_lines(explanation: Explanation, full: bool = False) -> list[str]:
    """The computation as readable lines, from the window to Keras's value."""
    lines = [f"{explanation.layer} ({explanation.class_name}) at "
             f"{position_text(explanation.at)}: {fmt(explanation.value)}"]
    window_line = _window_line(explanation)
    if window_line:
        lines.append(window_line)
    lines += _body_lines(explanation, full)
    activation_line = _activation_line(explanation)
    if activation_line:
        lines.append(activation_line)
    if explanation.note:
        lines.append(explanation.note)
    field = explanation.receptive_field
    if field is not None:
        lines.append("Receptive field: the whole input image" if field.whole else
                     "Receptive field: no input pixel (only the bias reaches it)" if field.empty
                     else f"Receptive field: rows {field.top}–{field.bottom}, columns "
                     f"{field.left}–{field.right} of the input image "
                     f"({field.height}×{field.width} pixels)")
    if explanation.computed is not None:
        lines.append(f"Keras computed {fmt(explanation.value, 7)}; rebuilt here "
                     f"{fmt(explanation.computed, 7)}")
    return lines


def _term_json(terms: Terms, i: int) -> dict[str, Any]:
    weight = None if terms.weights is None else float(terms.weights[i])
    return {"input_at": [int(v) for v in terms.input_at[i]], "input": float(terms.inputs[i]),
            "weight": weight, "product": None if weight is None else float(terms.products[i])}


def explanation_json(explanation: Explanation, full: bool = False) -> dict[str, Any]:
    """One JSON-ready object; large windows are summarised as on the page unless `full`."""
    terms = explanation.terms
    result: dict[str, Any] = {
        "layer": explanation.layer,
        "class_name": explanation.class_name,
        "at": list(explanation.at),
        "value": explanation.value,
        "operation": explanation.operation,
        "pre_activation": explanation.pre_activation,
        "activation": explanation.activation,
        "activated": explanation.activated,
        "bias": explanation.bias,
        "terms": [],
        "terms_count": 0 if terms is None else len(terms),
        "summarised": summarised(explanation, full),
        "window": None,
    }
    if terms is not None:
        indices = (terms.largest(LARGEST_SHOWN) if result["summarised"]
                   else np.arange(len(terms)))
        result["terms"] = [_term_json(terms, int(i)) for i in indices]
        if result["summarised"] and terms.weights is not None:
            result["rest"] = {"count": len(terms) - indices.size,
                              "sum": float(np.sum(terms.products) -
                                           np.sum(terms.products[indices]))}
        if terms.weights is not None:
            result["channels"] = [{"channel": c, "count": n, "sum": s}
                                  for c, n, s in terms.channel_sums()]
    if explanation.window is not None:
        window = explanation.window
        result["window"] = {"source": window.source, "rows": [window.top, window.bottom],
                            "cols": [window.left, window.right],
                            "step": [window.row_step, window.col_step],
                            "channels": list(window.channels),
                            "padded_cells": window.padded_cells}
    if explanation.stages:
        result["stages"] = [{"label": stage.label, "value": stage.value, "terms": (
            [_term_json(stage.terms, i) for i in range(len(stage.terms))] if full else [])}
            for stage in explanation.stages]
    if explanation.source_at is not None:
        result["source_at"] = list(explanation.source_at)
        result["source_value"] = explanation.source_value
    if explanation.parameters:
        result["parameters"] = explanation.parameters
    field = explanation.receptive_field
    if field is not None:
        result["receptive_field"] = {"rows": [field.top, field.bottom],
                                     "cols": [field.left, field.right], "whole": field.whole}
    result["note"] = explanation.note
    result["lines"] = explanation_lines(explanation, full)
    return result
