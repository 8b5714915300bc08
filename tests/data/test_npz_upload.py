from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cnnviz.data import DatasetError, load_npz


def npz_bytes(**arrays: object) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def valid_arrays(**changes: object) -> dict[str, object]:
    rng = np.random.default_rng(0)
    arrays: dict[str, object] = {
        "x_train": rng.integers(0, 256, (20, 6, 6), dtype=np.uint8),
        "y_train": np.arange(20) % 3,
        "x_test": rng.integers(0, 256, (6, 6, 6), dtype=np.uint8),
        "y_test": np.arange(6) % 3,
    }
    arrays.update(changes)
    return {key: value for key, value in arrays.items() if value is not None}


def refused(data: bytes, *words: str, **kwargs: object) -> str:
    with pytest.raises(DatasetError) as caught:
        load_npz(data, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    for word in words:
        assert word in message, message
    return message


# --- what loads -------------------------------------------------------------------------


def test_keras_layout_with_uint8_grey_images_loads_scaled_with_a_channel_axis() -> None:
    arrays = valid_arrays()
    dataset = load_npz(npz_bytes(**arrays), name="mine")
    assert dataset.describe() == "mine: 20 train / 6 test, 6×6×1, 3 classes"
    assert dataset.x_train.dtype == np.float32 and dataset.y_train.dtype == np.int64
    np.testing.assert_allclose(dataset.x_train[..., 0], arrays["x_train"] / 255.0, atol=1e-7)
    assert dataset.class_names == ("0", "1", "2")


def test_a_path_loads_like_bytes(tmp_path: Path) -> None:
    path = tmp_path / "data.npz"
    path.write_bytes(npz_bytes(**valid_arrays()))
    assert load_npz(path).num_classes == 3
    assert load_npz(str(path)).num_classes == 3


def test_colour_images_keep_three_channels_and_alpha_is_dropped() -> None:
    x = np.zeros((20, 4, 4, 4), np.uint8)
    x[..., 3] = 255
    dataset = load_npz(npz_bytes(**valid_arrays(x_train=x, x_test=x[:6])))
    assert dataset.input_shape == (4, 4, 3)
    assert dataset.x_train.max() == 0.0


def test_square_rows_of_pixels_become_images() -> None:
    x = np.zeros((20, 784), np.uint8)
    dataset = load_npz(npz_bytes(**valid_arrays(x_train=x, x_test=x[:6])))
    assert dataset.input_shape == (28, 28, 1)


@pytest.mark.parametrize(
    ("x", "expected_max"),
    [
        (np.full((20, 3, 3), 0.5, np.float32), 0.5),
        (np.full((20, 3, 3), 127.5, np.float64), 0.5),
        (np.full((20, 3, 3), 1000, np.int32), 0.0),
        (np.ones((20, 3, 3), bool), 1.0),
    ],
)
def test_pixel_values_are_scaled_into_0_to_1(x: np.ndarray, expected_max: float) -> None:
    dataset = load_npz(npz_bytes(**valid_arrays(x_train=x, x_test=x[:6])))
    assert dataset.x_train.max() == pytest.approx(expected_max)


def test_values_outside_0_to_255_are_min_max_scaled_over_both_splits() -> None:
    x_train = np.linspace(-3, 5, 20 * 4).reshape(20, 2, 2)
    x_test = np.full((6, 2, 2), 1.0)
    dataset = load_npz(npz_bytes(**valid_arrays(x_train=x_train, x_test=x_test)))
    assert dataset.x_train.min() == 0.0 and dataset.x_train.max() == 1.0
    np.testing.assert_allclose(dataset.x_test, 0.5)


def test_extreme_float64_values_do_not_overflow() -> None:
    x = np.zeros((20, 2, 2))
    x[0, 0, 0], x[1, 0, 0] = -1e308, 1e308
    dataset = load_npz(npz_bytes(**valid_arrays(x_train=x, x_test=x[:6])))
    assert np.isfinite(dataset.x_train).all()
    assert dataset.x_train[0, 0, 0, 0] == 0.0 and dataset.x_train[1, 0, 0, 0] == 1.0


@pytest.mark.parametrize(
    "y_train",
    [
        np.eye(3, dtype=np.float32)[np.arange(20) % 3],
        (np.arange(20) % 3)[:, None],
        (np.arange(20) % 3).astype(np.float64),
        (np.arange(20) % 3).astype(np.uint8),
    ],
)
def test_labels_may_be_one_hot_a_column_floats_or_small_ints(y_train: np.ndarray) -> None:
    dataset = load_npz(npz_bytes(**valid_arrays(y_train=y_train)))
    assert dataset.y_train.tolist() == (np.arange(20) % 3).tolist()


def test_class_names_array_names_the_classes() -> None:
    names = np.array(["cat", "dog", "bird"])
    dataset = load_npz(npz_bytes(**valid_arrays(class_names=names)))
    assert dataset.class_names == ("cat", "dog", "bird")


def test_classes_only_in_the_test_split_still_count() -> None:
    dataset = load_npz(npz_bytes(**valid_arrays(y_test=np.array([0, 1, 2, 3, 4, 5]))))
    assert dataset.num_classes == 6


# --- what is refused --------------------------------------------------------------------


def test_empty_bytes_are_refused() -> None:
    refused(b"", "empty")


def test_a_text_file_is_not_an_npz() -> None:
    refused(b"x_train,y_train\n1,2\n", "not an .npz file", "np.savez")


def test_a_single_npy_array_is_explained() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    refused(buffer.getvalue(), "single .npy array")


def test_a_zip_of_other_files_names_the_missing_keys() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hi")
    refused(buffer.getvalue(), "x_train, y_train, x_test, y_test", "no arrays")


def test_missing_keys_are_named() -> None:
    message = refused(npz_bytes(**valid_arrays(y_test=None, x_test=None)), "x_test, y_test")
    assert "x_train, y_train" in message


@pytest.mark.parametrize(
    ("x", "words"),
    [
        (np.zeros(20), "shape (20,)"),
        (np.zeros((20, 2, 2, 1, 1)), "shape (20, 2, 2, 1, 1)"),
        (np.zeros((20, 4, 4, 2)), "1 (grey) or 3 (colour)"),
        (np.zeros((20, 10)), "not square"),
        (np.zeros((20, 0, 4)), "at least 1"),
        (np.zeros((0, 4, 4)), "empty"),
        (np.array(["a"] * 20), "must hold numbers"),
        (np.zeros((20, 2, 2), np.complex64), "must hold numbers"),
    ],
)
def test_images_of_the_wrong_shape_or_type_are_refused(x: np.ndarray, words: str) -> None:
    refused(npz_bytes(**valid_arrays(x_train=x)), "x_train", words)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_infinity_are_refused(bad: float) -> None:
    x = np.zeros((6, 6, 6), np.float32)
    x[2, 3, 4] = bad
    refused(npz_bytes(**valid_arrays(x_test=x)), "x_test", "NaN or infinite")


def test_train_and_test_images_of_different_sizes_are_refused() -> None:
    refused(npz_bytes(**valid_arrays(x_test=np.zeros((6, 5, 5)))), "same height, width")


def test_mismatched_lengths_are_refused() -> None:
    refused(npz_bytes(**valid_arrays(y_train=np.arange(19) % 3)), "19 labels", "20 images")


@pytest.mark.parametrize(
    ("y_train", "words"),
    [
        ((np.arange(20) % 3) + 0.5, "whole class numbers"),
        (np.where(np.arange(20) == 4, -1, np.arange(20) % 3), "negative"),
        (np.full((20, 3), 0.5), "not one-hot"),
        (np.eye(3)[np.arange(20) % 3] * 2, "not one-hot"),
        (np.arange(20) * 100, "up to 1000 classes"),
        (np.zeros(20, np.int64), "only one class"),
        (np.array(["a", "b"] * 10), "class numbers"),
        (np.zeros((20, 1, 1)), "shape (20, 1, 1)"),
    ],
)
def test_bad_labels_are_refused(y_train: np.ndarray, words: str) -> None:
    refused(npz_bytes(**valid_arrays(y_train=y_train)), words)


def test_labels_stored_as_python_objects_are_never_unpickled() -> None:
    labels = np.array([object()] * 20, dtype=object)
    buffer = io.BytesIO()
    np.savez(buffer, **valid_arrays(y_train=labels))  # type: ignore[arg-type]
    refused(buffer.getvalue(), "Python objects")


def test_too_few_class_names_are_refused() -> None:
    refused(npz_bytes(**valid_arrays(class_names=np.array(["a", "b"]))), "class_names")


def test_a_file_over_the_byte_limit_is_refused() -> None:
    refused(npz_bytes(**valid_arrays()), "limit", max_bytes=100)


def test_a_small_file_that_unpacks_to_too_much_is_refused_before_unpacking() -> None:
    zeros = np.zeros((2000, 100, 100), np.uint8)
    data = npz_bytes(**valid_arrays(x_train=zeros, y_train=np.arange(2000) % 3))
    assert len(data) < 100_000
    refused(data, "unpack to more than", max_bytes=1_000_000)


def test_too_many_samples_are_refused() -> None:
    refused(npz_bytes(**valid_arrays()), "26 images", "limit of 10", max_samples=10)


def test_a_header_claiming_more_data_than_stored_is_damaged() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for key, value in valid_arrays().items():
            member = io.BytesIO()
            np.save(member, np.asarray(value))
            raw = member.getvalue()
            if key == "x_train":
                raw = raw.replace(b"(20, 6, 6)", b"(90, 6, 6)")
            archive.writestr(f"{key}.npy", raw)
    refused(buffer.getvalue(), "x_train", "damaged")


def test_a_truncated_npz_is_damaged() -> None:
    data = npz_bytes(**valid_arrays())
    with pytest.raises(DatasetError):
        load_npz(data[: len(data) - 40])


def test_a_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_npz(tmp_path / "nothing.npz")


def test_something_that_is_neither_bytes_nor_a_path_is_refused() -> None:
    with pytest.raises(DatasetError, match="bytes or a file path"):
        load_npz(42)  # type: ignore[arg-type]
