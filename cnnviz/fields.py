"""Coercion of raw JSON values into the normalised field values of a layer spec.

Each function takes the raw value and the field name, returns the normalised value, and
raises `SpecError` (without a layer yet; the caller attributes it) when Keras would refuse it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from cnnviz.errors import SpecError

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "MAX_SIZE",
    "MAX_WINDOW",
    "SIZE_REASON",
    "WINDOW_REASON",
    "Coercer",
    "activation",
    "bias_initializer",
    "boolean",
    "choice",
    "data_format",
    "initializer",
    "int_pair",
    "layer_name",
    "optional_int",
    "optional_int_pair",
    "padding_pairs",
    "positive_int",
    "probability",
    "real_in_range",
]

Coercer = Callable[[Any, str], Any]

MAX_SIZE = 65_536
MAX_WINDOW = 1_024
SIZE_REASON = "a layer that wide would not fit in memory"
WINDOW_REASON = "a kernel, stride or padding that large is almost surely a typo"

ACTIVATIONS: tuple[str, ...] = (
    "relu", "sigmoid", "softmax", "tanh", "linear", "elu", "selu", "softplus", "softsign",
    "swish", "silu", "gelu", "hard_sigmoid", "exponential", "leaky_relu", "relu6", "mish",
    "log_softmax", "hard_silu",
)  # fmt: skip

INITIALIZERS: tuple[str, ...] = (
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "zeros", "ones", "random_normal", "random_uniform", "truncated_normal",
    "orthogonal",
)  # fmt: skip

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def _whole(field: str) -> str:
    return f"write {field} as a whole number without quotes, e.g. 3"


def _as_int(value: Any, field: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"must be {what}", field=field, received=value, fix=_whole(field))
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise SpecError(f"must be {what}", field=field, received=value, fix=_whole(field))
        value = int(value)
    return value


def positive_int(value: Any, field: str) -> int:
    number = _as_int(value, field, "a whole number of at least 1")
    if number < 1:
        raise SpecError(
            "must be a whole number of at least 1",
            field=field,
            received=value,
            fix=f"set {field} to 1 or more",
        )
    if number > MAX_SIZE:
        raise SpecError(
            f"is larger than cnnviz allows ({MAX_SIZE:,}; {SIZE_REASON})",
            field=field,
            received=value,
            fix=f"use a value up to {MAX_SIZE:,}",
        )
    return number


def _pair(value: Any, field: str, *, minimum: int, limit: int) -> tuple[int, int]:
    items = [value, value] if not isinstance(value, (list, tuple)) else list(value)
    if len(items) != 2:
        raise SpecError(
            "must be one whole number or a pair [height, width]",
            field=field,
            received=value,
            fix=f"write {field} as e.g. 3 or [3, 3]",
        )
    what = "whole numbers of at least 1" if minimum == 1 else "whole numbers, 0 or more"
    pair = tuple(_as_int(item, field, what) for item in items)
    if min(pair) < minimum:
        raise SpecError(
            f"must be {what}",
            field=field,
            received=value,
            fix=f"use values of {minimum} or more, e.g. {max(minimum, 1)}",
        )
    if max(pair) > limit:
        raise SpecError(
            f"is larger than cnnviz allows ({limit:,}; {WINDOW_REASON})",
            field=field,
            received=value,
            fix=f"use values up to {limit:,}",
        )
    return pair[0], pair[1]


def int_pair(value: Any, field: str) -> tuple[int, int]:
    return _pair(value, field, minimum=1, limit=MAX_WINDOW)


def optional_int_pair(value: Any, field: str) -> tuple[int, int] | None:
    return None if value is None else int_pair(value, field)


def padding_pairs(value: Any, field: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """ZeroPadding2D: int, (sym_height, sym_width) or ((top, bottom), (left, right)).

    As keras/src/layers/reshaping/zero_padding2d.py: each of the two entries is an int or a
    pair on its own, so `[[1, 2], 3]` is ((1, 2), (3, 3)).
    """
    if not isinstance(value, (list, tuple)):
        side = _pair(value, field, minimum=0, limit=MAX_WINDOW)[0]
        return (side, side), (side, side)
    if len(value) != 2:
        raise SpecError(
            "must be one whole number, [height, width] or [[top, bottom], [left, right]]",
            field=field,
            received=value,
            fix=f"write {field} as e.g. 1, [1, 2] or [[0, 1], [0, 1]]",
        )
    top_bottom = _pair(value[0], field, minimum=0, limit=MAX_WINDOW)
    left_right = _pair(value[1], field, minimum=0, limit=MAX_WINDOW)
    return top_bottom, left_right


def choice(options: tuple[str, ...]) -> Coercer:
    def coerce(value: Any, field: str) -> str:
        text = value.lower() if isinstance(value, str) else value
        if text not in options:
            listed = " or ".join(repr(option) for option in options)
            raise SpecError(
                f"must be {listed}", field=field, received=value, fix=f"use {listed}"
            )
        return str(text)

    return coerce


def data_format(value: Any, field: str) -> None:
    if value in (None, "channels_last"):
        return None
    if value == "channels_first":
        raise SpecError(
            "cnnviz works with channels_last data only (height, width, channels)",
            field=field,
            received=value,
            fix="remove data_format or set it to 'channels_last'",
        )
    raise SpecError(
        "must be 'channels_last'",
        field=field,
        received=value,
        fix="remove data_format or set it to 'channels_last'",
    )


def activation(value: Any, field: str) -> str | None:
    if value is None or value == "linear":
        return None
    if not isinstance(value, str) or value.lower() not in ACTIVATIONS:
        raise SpecError(
            "is not an activation cnnviz knows",
            field=field,
            received=value,
            fix="use one of " + ", ".join(ACTIVATIONS),
        )
    return value.lower()


def initializer(value: Any, field: str) -> str:
    if not isinstance(value, str) or value.lower() not in INITIALIZERS:
        raise SpecError(
            "is not an initializer cnnviz knows (by name, with Keras's default arguments)",
            field=field,
            received=value,
            fix="use one of " + ", ".join(INITIALIZERS),
        )
    return value.lower()


def bias_initializer(value: Any, field: str) -> str:
    """An initializer for a bias vector: Keras's `orthogonal` needs a matrix and fails there."""
    name = initializer(value, field)
    if name == "orthogonal":
        raise SpecError(
            "'orthogonal' needs a matrix, but a bias is a vector",
            field=field,
            received=value,
            fix=f"remove {field} (Keras's default is 'zeros')",
        )
    return name


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise SpecError(
            "must be true or false",
            field=field,
            received=value,
            fix=f"write {field} as true or false, without quotes",
        )
    return value


def real_in_range(low: float, high: float, *, include_low: bool = True) -> Coercer:
    def coerce(value: Any, field: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(
                "must be a number",
                field=field,
                received=value,
                fix=f"write {field} as a number without quotes, e.g. {high:g}",
            )
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        too_low = number < low if include_low else number <= low
        if not math.isfinite(number) or too_low or number > high:
            bracket = "[" if include_low else "("
            raise SpecError(
                f"must be a number in {bracket}{low:g}, {high:g}]",
                field=field,
                received=value,
                fix=f"use a number above {low:g} and up to {high:g}"
                if not include_low
                else f"use a number from {low:g} to {high:g}",
            )
        return number

    return coerce


probability = real_in_range(0.0, 1.0)


def optional_int(value: Any, field: str) -> int | None:
    if value is None:
        return None
    number = _as_int(value, field, "a whole number")
    if not 0 <= number < 2**31:
        raise SpecError(
            "must be a whole number from 0 to 2**31 - 1",
            field=field,
            received=value,
            fix=f"remove {field} or use a number such as 42",
        )
    return number


def layer_name(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _NAME_PATTERN.match(value):
        raise SpecError(
            "must be 1 to 64 letters, digits, '_', '.' or '-'",
            field=field,
            received=value,
            fix="choose a short name such as 'conv_1'",
        )
    return value
