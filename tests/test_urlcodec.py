"""The architecture in the URL: compact, URL-safe, and every hostile string is a SpecError."""

from __future__ import annotations

import base64
import json
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnviz.presets import PRESETS
from cnnviz.spec import ModelSpec, SpecError
from cnnviz.urlcodec import MAX_DECODED_BYTES, MAX_ENCODED_CHARS, PREFIX, decode_spec, encode_spec

URL_SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def _pack(payload: bytes) -> str:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = compressor.compress(payload) + compressor.flush()
    return PREFIX + base64.urlsafe_b64encode(packed).decode().rstrip("=")


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_round_trips(name: str) -> None:
    assert decode_spec(encode_spec(PRESETS[name])) == PRESETS[name]


def test_the_encoding_is_url_safe_and_compact() -> None:
    spec = PRESETS["vgg16-base"]
    encoded = encode_spec(spec)
    assert encoded.startswith(PREFIX)
    assert set(encoded) <= URL_SAFE
    assert len(encoded) < len(json.dumps(spec.to_dict(), separators=(",", ":"))) / 2


def test_a_spec_with_an_error_in_its_shapes_still_round_trips() -> None:
    spec = ModelSpec.from_dict({"input_shape": [4, 4, 1], "layers": [
        {"class_name": "Conv2D", "config": {"filters": 1, "kernel_size": 9}}]})
    assert decode_spec(encode_spec(spec)) == spec


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "must be text"),
        ("", "does not start with"),
        ("2.abc", "does not start with"),
        ("1.", "characters that do not belong"),
        ("1.abc def", "characters that do not belong"),
        ("1.ab+/", "characters that do not belong"),
        ("1.A", "bad base64"),
        ("1." + "A" * (MAX_ENCODED_CHARS + 1), "cnnviz reads up to"),
        ("1.____", "does not decompress"),
        (_pack(b"\xff\xfe\xfd"), "not UTF-8"),
        (_pack(b"{not json"), "not valid JSON"),
        (_pack(b"[1, 2, 3]"), "not a JSON object"),
        (_pack(b"[" * 100_000 + b"]" * 100_000), "nested too deeply"),
        (_pack(b" " * (MAX_DECODED_BYTES + 10)), "larger than"),
        (_pack(b'{"input_shape": [28, 28, 1]}')[:-6], "cut short"),
    ],
)
def test_a_damaged_link_is_a_spec_error_that_says_what_is_wrong(text: object,
                                                                problem: str) -> None:
    with pytest.raises(SpecError) as raised:
        decode_spec(text)
    assert problem in raised.value.message
    assert raised.value.field == "arch"


def test_a_decompression_bomb_is_refused_without_expanding_it() -> None:
    bomb = _pack(b"{" + b" " * 10_000_000 + b"}")
    assert len(bomb) < MAX_ENCODED_CHARS
    with pytest.raises(SpecError, match="larger than"):
        decode_spec(bomb)


def test_a_well_formed_link_to_an_unsupported_layer_names_the_layer() -> None:
    text = _pack(json.dumps({"input_shape": [8, 8, 1], "layers": [
        {"class_name": "Lambda", "config": {"function": "os.system"}}]}).encode())
    with pytest.raises(SpecError) as raised:
        decode_spec(text)
    assert raised.value.layer is not None and raised.value.field == "class_name"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_any_text_decodes_to_a_spec_or_a_spec_error(text: str) -> None:
    for candidate in (text, PREFIX + text):
        try:
            decode_spec(candidate)
        except SpecError:
            pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_compressed_bytes_decode_to_a_spec_or_a_spec_error(payload: bytes) -> None:
    try:
        decode_spec(_pack(payload))
    except SpecError:
        pass
