"""Random and mutated uploads: only ImageError / DatasetError may ever come out."""

from __future__ import annotations

import io
import zipfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from cnnviz.data import Dataset, DatasetError, ImageError, decode_image, load_image_folder, load_npz

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def encoded(fmt: str, mode: str = "RGB", **params: object) -> bytes:
    pixels = np.random.default_rng(0).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buffer, fmt, **params)
    return buffer.getvalue()


VALID_IMAGES = [
    encoded("PNG"),
    encoded("PNG", "P"),
    encoded("PNG", "LA"),
    encoded("JPEG", quality=80),
    encoded("JPEG", "L"),
    encoded("WEBP"),
    encoded("BMP"),
    encoded("GIF"),
    encoded("TIFF"),
]


def npz_bytes(compressed: bool) -> bytes:
    rng = np.random.default_rng(1)
    arrays = {
        "x_train": rng.integers(0, 256, (6, 4, 4), dtype=np.uint8),
        "y_train": np.arange(6) % 2,
        "x_test": rng.random((2, 4, 4)),
        "y_test": np.array([[1.0, 0.0], [0.0, 1.0]]),
    }
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def folder_zip(compression: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for i, data in enumerate(VALID_IMAGES[:4]):
            archive.writestr(f"pets/{'cat' if i % 2 else 'dog'}/{i}.img", data)
        archive.writestr("pets/cat/extra.png", VALID_IMAGES[0])
        archive.writestr("pets/dog/", b"")
    return buffer.getvalue()


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A valid file with a few bytes overwritten, some inserted, and maybe cut short."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 8))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        position = draw(st.integers(0, len(data)))
        data[position:position] = draw(st.binary(min_size=1, max_size=16))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def assert_image_or_image_error(data: bytes) -> None:
    try:
        image = decode_image(data, filename="fuzz.bin", max_pixels=2_000_000)
    except ImageError:
        return
    assert image.mode in ("L", "RGB")
    assert image.width * image.height <= 2_000_000


def assert_dataset_or_dataset_error(load: object, data: bytes) -> None:
    try:
        dataset = load(data)  # type: ignore[operator]
    except DatasetError:
        return
    assert isinstance(dataset, Dataset)
    assert dataset.x_train.dtype == np.float32
    assert 0.0 <= dataset.x_train.min() and dataset.x_train.max() <= 1.0


@FUZZ
@given(st.binary(max_size=4096))
def test_decode_image_random_bytes(data: bytes) -> None:
    assert_image_or_image_error(data)


MAGIC_PREFIXES = [
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF89a",
    b"GIF87a",
    b"BM",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"II*\x00",
    b"PK\x03\x04",
    b"\x93NUMPY",
]


@FUZZ
@given(st.sampled_from(MAGIC_PREFIXES), st.binary(max_size=2048))
def test_decode_image_random_bytes_behind_a_real_signature(prefix: bytes, tail: bytes) -> None:
    assert_image_or_image_error(prefix + tail)


@FUZZ
@given(mutated(VALID_IMAGES))
def test_decode_image_mutated_images(data: bytes) -> None:
    assert_image_or_image_error(data)


@FUZZ
@given(st.binary(max_size=4096))
def test_load_npz_random_bytes(data: bytes) -> None:
    assert_dataset_or_dataset_error(load_npz, data)


@FUZZ
@given(mutated([npz_bytes(compressed=False), npz_bytes(compressed=True)]))
def test_load_npz_mutated_files(data: bytes) -> None:
    assert_dataset_or_dataset_error(load_npz, data)


@FUZZ
@given(st.binary(max_size=4096))
def test_load_image_folder_random_bytes(data: bytes) -> None:
    assert_dataset_or_dataset_error(load_image_folder, data)


@FUZZ
@given(mutated([folder_zip(zipfile.ZIP_STORED), folder_zip(zipfile.ZIP_DEFLATED)]))
def test_load_image_folder_mutated_zips(data: bytes) -> None:
    assert_dataset_or_dataset_error(load_image_folder, data)
