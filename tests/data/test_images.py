from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from cnnviz.data import (
    ALLOWED_FORMATS,
    ImageError,
    array_to_image,
    decode_image,
    read_image_size,
    to_model_input,
)


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def gradient_rgb(width: int = 24, height: int = 16) -> Image.Image:
    xs = np.linspace(0, 255, width, dtype=np.uint8)
    ys = np.linspace(0, 255, height, dtype=np.uint8)
    array = np.stack(
        [np.tile(xs, (height, 1)), np.tile(ys[:, None], (1, width)), np.full((height, width), 90)],
        axis=2,
    ).astype(np.uint8)
    return Image.fromarray(array)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares width×height but whose data is a few bytes."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


# --- formats that decode -------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "BMP"])
def test_lossless_formats_decode_to_the_same_rgb_pixels(fmt: str) -> None:
    original = gradient_rgb()
    params = {"lossless": True} if fmt == "WEBP" else {}
    decoded = decode_image(encode(original, fmt, **params), filename=f"x.{fmt.lower()}")
    assert decoded.mode == "RGB"
    assert decoded.size == original.size
    np.testing.assert_array_equal(np.asarray(decoded), np.asarray(original))


def test_jpeg_decodes_close_to_the_original() -> None:
    original = gradient_rgb()
    decoded = decode_image(encode(original, "JPEG", quality=95))
    assert decoded.mode == "RGB" and decoded.size == original.size
    difference = np.abs(np.asarray(decoded, np.int16) - np.asarray(original, np.int16))
    assert difference.mean() < 4


def test_jpeg_exif_orientation_6_is_rotated_upright() -> None:
    original = gradient_rgb(width=30, height=10)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(original, "JPEG", quality=95, exif=exif.tobytes())
    decoded = decode_image(data)
    assert decoded.size == (10, 30)
    assert read_image_size(data) == (10, 30)
    expected = np.asarray(original.transpose(Image.Transpose.ROTATE_270), np.int16)
    assert np.abs(np.asarray(decoded, np.int16) - expected).mean() < 4


def test_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    decoded = decode_image(data)
    assert decoded.mode == "RGB"
    assert tuple(np.asarray(decoded)[4, 4]) == (255, 0, 0)


def test_palette_image_becomes_rgb() -> None:
    palette_image = gradient_rgb().convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    decoded = decode_image(encode(palette_image, "PNG"))
    assert decoded.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(decoded), np.asarray(palette_image.convert("RGB")))


def test_transparent_palette_gif_is_composited_over_white() -> None:
    image = Image.new("P", (4, 4), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.putpixel((0, 0), 1)
    decoded = decode_image(encode(image, "GIF", transparency=0))
    pixels = np.asarray(decoded)
    assert tuple(pixels[0, 0]) == (255, 0, 0)
    assert tuple(pixels[3, 3]) == (255, 255, 255)


def test_rgba_is_composited_over_white() -> None:
    image = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    image.putpixel((0, 0), (0, 0, 255, 255))
    image.putpixel((1, 0), (0, 0, 0, 128))
    decoded = decode_image(encode(image, "PNG"))
    pixels = np.asarray(decoded)
    assert decoded.mode == "RGB"
    assert tuple(pixels[0, 0]) == (0, 0, 255)
    assert tuple(pixels[3, 3]) == (255, 255, 255)
    assert 120 <= pixels[0, 1, 0] <= 135


def test_grey_with_alpha_stays_grey_over_white() -> None:
    image = Image.new("LA", (4, 4), (0, 0))
    image.putpixel((0, 0), (10, 255))
    decoded = decode_image(encode(image, "PNG"))
    assert decoded.mode == "L"
    assert np.asarray(decoded)[0, 0] == 10 and np.asarray(decoded)[3, 3] == 255


def test_sixteen_bit_grey_is_scaled_over_the_full_range() -> None:
    values = np.array([[0, 257, 32896, 65535]], dtype=np.uint16)
    data = encode(Image.fromarray(values), "PNG")
    decoded = decode_image(data)
    assert decoded.mode == "L"
    np.testing.assert_array_equal(np.asarray(decoded), [[0, 1, 128, 255]])


def test_thirty_two_bit_integer_image_is_scaled_to_the_model_range() -> None:
    image = Image.fromarray(np.array([[0, 1000, 65535]], dtype=np.int32))
    assert image.mode == "I"
    array = to_model_input(image, (1, 3, 1))
    np.testing.assert_allclose(array[0, :, 0], [0.0, 4 / 255, 1.0], atol=1e-6)


def test_cmyk_jpeg_becomes_rgb() -> None:
    image = Image.new("CMYK", (8, 8), (0, 255, 255, 0))
    decoded = decode_image(encode(image, "JPEG", quality=95))
    assert decoded.mode == "RGB"
    red, green, blue = (int(v) for v in np.asarray(decoded)[4, 4])
    assert red > 200 and green < 60 and blue < 60


def test_one_bit_image_becomes_grey() -> None:
    image = Image.new("1", (8, 8), 0)
    image.putpixel((2, 2), 1)
    decoded = decode_image(encode(image, "BMP"))
    assert decoded.mode == "L"
    assert np.asarray(decoded)[2, 2] == 255 and np.asarray(decoded)[0, 0] == 0


def test_grey_png_stays_grey() -> None:
    decoded = decode_image(encode(Image.new("L", (5, 3), 77), "PNG"))
    assert decoded.mode == "L" and decoded.size == (5, 3)


def test_wrong_extension_with_an_allowed_format_is_fine() -> None:
    decoded = decode_image(encode(gradient_rgb(), "PNG"), filename="photo.jpg")
    assert decoded.size == (24, 16)


def test_decoded_image_is_independent_of_its_bytes() -> None:
    data = bytearray(encode(gradient_rgb(), "PNG"))
    decoded = decode_image(data)
    data[:] = b"\x00" * len(data)
    assert decoded.getpixel((23, 15)) == (255, 255, 90)


# --- inputs that are refused ----------------------------------------------------------


def assert_refused(data: bytes, *words: str, **kwargs: object) -> str:
    with pytest.raises(ImageError) as caught:
        decode_image(data, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    for word in words:
        assert word in message, message
    return message


def test_zero_bytes_say_so_and_list_the_formats() -> None:
    message = assert_refused(b"", "0 bytes", filename="empty.png")
    assert "PNG, JPEG, WebP, BMP or GIF" in message and "'empty.png'" in message


def test_too_many_bytes_are_refused_before_decoding() -> None:
    assert_refused(encode(gradient_rgb(), "PNG"), "limit", max_bytes=10)


def test_text_file_is_not_an_image() -> None:
    assert_refused(b"hello, this is a text file\n", "not an image", filename="notes.txt")


def test_random_bytes_are_not_an_image() -> None:
    assert_refused(np.random.default_rng(0).bytes(500), "not an image")


def test_format_outside_the_allow_list_names_the_real_format() -> None:
    data = encode(gradient_rgb(), "TIFF")
    assert_refused(data, "TIFF", "not accepted", filename="scan.png")
    assert "TIFF" not in ALLOWED_FORMATS


def test_truncated_png_is_refused() -> None:
    data = encode(
        Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), np.uint8)), "PNG"
    )
    assert_refused(data[: len(data) // 2], "truncated or damaged")


def test_truncated_jpeg_is_refused() -> None:
    noise = np.random.default_rng(2).integers(0, 255, (64, 64, 3), np.uint8)
    data = encode(Image.fromarray(noise), "JPEG")
    assert_refused(data[: len(data) // 2], "truncated or damaged")


def test_corrupt_png_data_is_refused() -> None:
    data = bytearray(encode(gradient_rgb(64, 64), "PNG"))
    start = data.index(b"IDAT") + 8
    data[start : start + 40] = b"\xff" * 40
    with pytest.raises(ImageError):
        decode_image(bytes(data))


def test_png_declaring_20000_by_20000_is_a_bomb_refused_before_decoding() -> None:
    data = png_header_only(20_000, 20_000)
    assert len(data) < 200
    message = assert_refused(data)
    assert "400,000,000" in message or "decompression bomb" in message


def test_pixel_limit_applies_to_moderate_images_too() -> None:
    assert_refused(encode(gradient_rgb(100, 100), "PNG"), "10,000", max_pixels=9_999)


def test_polyglot_of_text_and_png_is_not_an_image() -> None:
    assert_refused(b"#!/bin/sh\necho hi\n" + encode(gradient_rgb(), "PNG"), "not an image")


def test_polyglot_png_with_a_zip_appended_still_decodes_as_png() -> None:
    zip_tail = b"PK\x05\x06" + b"\x00" * 18
    decoded = decode_image(encode(gradient_rgb(), "PNG") + zip_tail)
    assert decoded.size == (24, 16)


def test_non_bytes_input_is_an_image_error() -> None:
    with pytest.raises(ImageError):
        decode_image("a string, not bytes")  # type: ignore[arg-type]


# --- arrays for the model and back ------------------------------------------------------


def test_to_model_input_resizes_and_converts_to_grey() -> None:
    array = to_model_input(gradient_rgb(24, 16), (8, 12, 1))
    assert array.shape == (8, 12, 1) and array.dtype == np.float32
    assert 0.0 <= array.min() and array.max() <= 1.0


def test_to_model_input_repeats_grey_into_three_channels() -> None:
    array = to_model_input(Image.new("L", (4, 4), 51), (4, 4, 3))
    np.testing.assert_allclose(array, np.full((4, 4, 3), 0.2, np.float32), atol=1e-6)


def test_to_model_input_flattens_transparency_of_an_undecoded_image() -> None:
    array = to_model_input(Image.new("RGBA", (2, 2), (0, 0, 0, 0)), (2, 2, 3))
    np.testing.assert_allclose(array, 1.0)


@pytest.mark.parametrize("shape", [(8, 8, 2), (0, 8, 1), (8, 8), "32x32"])
def test_to_model_input_refuses_a_bad_input_shape(shape: object) -> None:
    with pytest.raises(ImageError):
        to_model_input(gradient_rgb(), shape)  # type: ignore[arg-type]


def test_array_to_image_round_trips_through_to_model_input() -> None:
    original = gradient_rgb()
    array = to_model_input(original, (16, 24, 3))
    np.testing.assert_array_equal(np.asarray(array_to_image(array)), np.asarray(original))


def test_array_to_image_makes_grey_from_one_channel_and_clips() -> None:
    image = array_to_image(np.array([[[-0.5], [0.5], [2.0], [np.nan]]], np.float32))
    assert image.mode == "L"
    np.testing.assert_array_equal(np.asarray(image), [[0, 128, 255, 0]])


def test_array_to_image_refuses_two_channels() -> None:
    with pytest.raises(ImageError):
        array_to_image(np.zeros((4, 4, 2)))
