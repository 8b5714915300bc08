from __future__ import annotations

import io
import socket
import sys
import types
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnviz.data import (
    BUILTIN_DATASETS,
    SHAPE_NAMES,
    Dataset,
    DatasetError,
    datasets,
    fit_to_input,
    generate_shapes,
    load_any,
    load_dataset,
    load_upload,
    stratified_split,
)


def tiny_dataset(**changes: object) -> Dataset:
    fields: dict[str, object] = {
        "name": "tiny",
        "x_train": np.zeros((4, 2, 2, 1), np.float32),
        "y_train": np.array([0, 1, 0, 1], np.int64),
        "x_test": np.zeros((2, 2, 2, 1), np.float32),
        "y_test": np.array([0, 1], np.int64),
        "class_names": ("a", "b"),
    }
    fields.update(changes)
    return Dataset(**fields)  # type: ignore[arg-type]


# --- Dataset ----------------------------------------------------------------------------


def test_dataset_reports_input_shape_classes_and_a_description() -> None:
    dataset = tiny_dataset()
    assert dataset.input_shape == (2, 2, 1)
    assert dataset.num_classes == 2
    assert dataset.describe() == "tiny: 4 train / 2 test, 2×2×1, 2 classes"


@pytest.mark.parametrize(
    "changes",
    [
        {"x_train": np.zeros((4, 2, 2, 1), np.float64)},
        {"x_train": np.zeros((4, 2, 2, 2), np.float32)},
        {"y_train": np.array([0, 1, 0], np.int64)},
        {"y_train": np.array([0, 1, 0, 1], np.int32)},
        {"y_test": np.array([0, 2], np.int64)},
        {"x_test": np.zeros((2, 3, 3, 1), np.float32)},
        {"class_names": ("only",)},
    ],
)
def test_dataset_refuses_inconsistent_arrays(changes: dict[str, object]) -> None:
    with pytest.raises(DatasetError):
        tiny_dataset(**changes)


# --- stratified split -------------------------------------------------------------------


def test_stratified_split_uses_every_index_once_and_keeps_class_proportions() -> None:
    labels = np.repeat(np.arange(4), [50, 30, 15, 5])
    train, test = stratified_split(labels, seed=3)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(100))
    assert len(test) == 20
    assert np.bincount(labels[test]).tolist() == [10, 6, 3, 1]


def test_stratified_split_is_deterministic_per_seed() -> None:
    labels = np.arange(200) % 7
    first, again, other = (stratified_split(labels, s) for s in (1, 1, 2))
    np.testing.assert_array_equal(first[1], again[1])
    assert set(first[1].tolist()) != set(other[1].tolist())


def test_stratified_split_keeps_a_lone_item_for_training_and_one_test_item_per_pair() -> None:
    labels = np.array([0, 1, 1, 2, 2, 2, 2, 2, 2, 2])
    train, test = stratified_split(labels, seed=0)
    assert 0 in train
    assert set(labels[test].tolist()) == {1, 2}


# --- digits -----------------------------------------------------------------------------


def test_digits_has_the_expected_shapes_range_and_classes() -> None:
    digits = load_dataset("digits")
    assert digits.describe() == "digits: 1,437 train / 360 test, 8×8×1, 10 classes"
    assert digits.x_train.dtype == np.float32 and digits.y_train.dtype == np.int64
    assert digits.class_names == tuple(str(i) for i in range(10))
    assert digits.x_train.min() == 0.0 and digits.x_train.max() == 1.0
    assert set(digits.y_test.tolist()) == set(range(10))


@pytest.mark.slow
def test_digits_are_exactly_scikit_learns_load_digits() -> None:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    table = datasets._digits_table()
    np.testing.assert_array_equal(table[:, :64], bunch.data)
    np.testing.assert_array_equal(table[:, 64], bunch.target)


def test_digits_split_is_deterministic_and_depends_on_the_seed() -> None:
    first = datasets._digits(0)
    again = datasets._digits(0)
    other = datasets._digits(1)
    np.testing.assert_array_equal(first.x_test, again.x_test)
    np.testing.assert_array_equal(first.y_train, again.y_train)
    assert not np.array_equal(first.x_test, other.x_test)


def test_builtin_datasets_are_cached_and_read_only() -> None:
    digits = load_dataset("digits")
    assert load_dataset("Digits") is digits
    with pytest.raises(ValueError):
        digits.x_train[0, 0, 0, 0] = 1.0


def test_unknown_dataset_lists_the_builtin_ones() -> None:
    with pytest.raises(DatasetError, match="digits, shapes, mnist, fashion_mnist, cifar10"):
        load_dataset("imagenet")


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_a_seed_that_is_not_a_natural_number_is_refused(seed: object) -> None:
    with pytest.raises(DatasetError, match="seed"):
        load_dataset("digits", seed=seed)  # type: ignore[arg-type]


# --- shapes -----------------------------------------------------------------------------


@pytest.mark.slow
def test_shapes_has_balanced_classes_in_both_splits() -> None:
    shapes = load_dataset("shapes")
    assert (
        shapes.describe()
        == f"shapes: 5,000 train / 1,000 test, 32×32×3, {len(SHAPE_NAMES)} classes"
    )
    assert shapes.class_names == SHAPE_NAMES
    assert 6 <= shapes.num_classes <= 10
    k = shapes.num_classes
    assert np.bincount(shapes.y_train, minlength=k).tolist() == [5000 // k] * k
    assert np.bincount(shapes.y_test, minlength=k).tolist() == [1000 // k] * k
    assert shapes.x_train.dtype == np.float32
    assert shapes.x_train.min() >= 0.0 and shapes.x_train.max() <= 1.0


def test_shapes_are_the_same_for_a_seed_and_differ_between_seeds() -> None:
    x_first, y_first = generate_shapes(5, 64)
    x_again, y_again = generate_shapes(5, 64)
    x_other, _ = generate_shapes(6, 64)
    np.testing.assert_array_equal(x_first, x_again)
    np.testing.assert_array_equal(y_first, y_again)
    assert not np.array_equal(x_first, x_other)


def test_shapes_train_and_test_streams_do_not_share_images() -> None:
    x_train, _ = generate_shapes(0, 200, stream=0)
    x_test, _ = generate_shapes(0, 200, stream=1)
    flat_train = {image.tobytes() for image in x_train}
    assert not any(image.tobytes() in flat_train for image in x_test)


def test_every_shape_image_has_a_visible_shape() -> None:
    x, _ = generate_shapes(1, 400)
    contrast = x.reshape(len(x), -1, 3).std(axis=1).max(axis=1)
    assert contrast.min() > 0.05


# --- Keras datasets -----------------------------------------------------------------------

OFFLINE = Exception(
    "URL fetch failure on https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
    "mnist.npz: None -- [Errno -2] Name or service not known"
)


@pytest.fixture
def keras_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    datasets._cached_builtin.cache_clear()
    yield tmp_path
    datasets._cached_builtin.cache_clear()


def fake_loader(monkeypatch: pytest.MonkeyPatch, name: str, result: object) -> None:
    """Stand in for `keras.datasets.<name>.load_data` without importing Keras (seconds)."""

    def load_data() -> object:
        if isinstance(result, Exception):
            raise result
        return result

    fake_keras = sys.modules.get("keras")
    if not isinstance(fake_keras, types.SimpleNamespace):
        fake_keras = types.SimpleNamespace(datasets=types.SimpleNamespace())
        monkeypatch.setitem(sys.modules, "keras", fake_keras)
    setattr(fake_keras.datasets, name, types.SimpleNamespace(load_data=load_data))


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("mnist", ["mnist.npz", "datasets"]),
        (
            "fashion_mnist",
            ["train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "fashion-mnist"],
        ),
        ("cifar10", ["cifar-10-python.tar.gz", "cifar-10-batches-py"]),
    ],
)
def test_offline_keras_dataset_says_which_file_to_put_where(
    name: str, words: list[str], keras_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_loader(monkeypatch, name, OFFLINE)
    with pytest.raises(DatasetError) as caught:
        load_dataset(name)
    message = str(caught.value)
    for word in [*words, str(keras_home), "digits", "shapes", "Name or service not known"]:
        assert word in message, message


def test_damaged_cached_keras_file_is_reported_as_damaged(
    keras_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (keras_home / "datasets").mkdir()
    (keras_home / "datasets" / "mnist.npz").write_bytes(b"not a zip")
    fake_loader(monkeypatch, "mnist", zipfile.BadZipFile("File is not a zip file"))
    with pytest.raises(DatasetError, match="damaged"):
        load_dataset("mnist")


def test_keras_datasets_are_scaled_given_a_channel_axis_and_named(
    keras_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grey = np.full((6, 28, 28), 255, np.uint8)
    colour = np.zeros((4, 32, 32, 3), np.uint8)
    fake_loader(monkeypatch, "mnist", ((grey, np.arange(6) % 10), (grey[:2], np.array([1, 2]))))
    fake_loader(
        monkeypatch, "cifar10", ((colour, np.arange(4)[:, None]), (colour[:1], np.array([[9]])))
    )
    fake_loader(monkeypatch, "fashion_mnist", ((grey, np.arange(6)), (grey[:2], np.array([0, 9]))))
    mnist = load_dataset("mnist")
    assert mnist.x_train.shape == (6, 28, 28, 1) and mnist.x_train.max() == 1.0
    assert mnist.y_test.tolist() == [1, 2] and mnist.y_test.dtype == np.int64
    cifar = load_dataset("cifar10")
    assert cifar.input_shape == (32, 32, 3) and cifar.y_train.shape == (4,)
    assert cifar.class_names[9] == "truck"
    assert load_dataset("fashion-mnist").class_names[9] == "Ankle boot"


@pytest.mark.slow
def test_real_keras_download_offline_fails_with_the_clear_error(keras_home: Path) -> None:
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(10.0)
    try:
        result = load_dataset("mnist")
    except DatasetError as error:
        assert "mnist.npz" in str(error)
    else:  # a machine with internet or a cached copy really loads it
        assert result.x_train.shape == (60_000, 28, 28, 1)
    finally:
        socket.setdefaulttimeout(previous_timeout)


# --- fit_to_input -----------------------------------------------------------------------


def pillow_resize(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """Per image and channel, Pillow's own float ("F") bilinear resize: the oracle."""
    out = np.empty((len(x), height, width, x.shape[3]), np.float32)
    for i, image in enumerate(x):
        for c in range(x.shape[3]):
            picture = Image.fromarray(np.ascontiguousarray(image[:, :, c]))
            out[i, :, :, c] = np.asarray(picture.resize((width, height), Image.Resampling.BILINEAR))
    return out


@pytest.mark.parametrize(
    ("source", "target"), [((28, 28), (32, 32)), ((32, 32), (8, 8)), ((8, 13), (21, 5))]
)
def test_fit_to_input_resizes_exactly_like_pillow_bilinear(
    source: tuple[int, int], target: tuple[int, int]
) -> None:
    x = np.random.default_rng(0).uniform(size=(3, *source, 3)).astype(np.float32)
    fitted = fit_to_input(x, (*target, 3))
    np.testing.assert_allclose(fitted, pillow_resize(x, *target), atol=1e-5)


def test_fit_to_input_repeats_grey_into_colour() -> None:
    x = np.random.default_rng(1).uniform(size=(2, 5, 5, 1)).astype(np.float32)
    fitted = fit_to_input(x, (5, 5, 3))
    assert fitted.shape == (2, 5, 5, 3)
    np.testing.assert_array_equal(fitted[..., 2], x[..., 0])


def test_fit_to_input_turns_colour_into_luminance_like_pillow() -> None:
    rgb = np.random.default_rng(2).integers(0, 256, (1, 6, 6, 3), dtype=np.uint8)
    fitted = fit_to_input(rgb.astype(np.float32) / 255, (6, 6, 1))
    expected = np.asarray(Image.fromarray(rgb[0]).convert("L"), np.float32) / 255
    np.testing.assert_allclose(fitted[0, :, :, 0], expected, atol=1 / 255 + 1e-6)


def test_fit_to_input_returns_a_fitting_batch_untouched() -> None:
    x = np.zeros((2, 4, 4, 1), np.float32)
    assert fit_to_input(x, (4, 4, 1)) is x


def test_fit_to_input_reads_uint8_as_0_to_255_and_accepts_missing_channel_axis() -> None:
    fitted = fit_to_input(np.full((1, 4, 4), 255, np.uint8), (2, 2, 3))
    assert fitted.dtype == np.float32
    np.testing.assert_allclose(fitted, 1.0)


def test_fit_to_input_does_not_change_the_callers_array() -> None:
    x = np.full((1, 4, 4, 1), 0.5, np.float32)
    fit_to_input(x, (8, 8, 1))
    assert (x == 0.5).all()


@pytest.mark.parametrize(
    ("shape", "input_shape"),
    [
        ((2, 4, 4, 2), (4, 4, 1)),
        ((4, 4), (4, 4, 1)),
        ((2, 4, 4, 1), (4, 4, 4)),
        ((2, 4, 4, 1), (0, 4, 1)),
    ],
)
def test_fit_to_input_refuses_shapes_it_cannot_convert(
    shape: tuple[int, ...], input_shape: tuple[int, int, int]
) -> None:
    with pytest.raises(DatasetError):
        fit_to_input(np.zeros(shape, np.float32), input_shape)


# --- load_any ---------------------------------------------------------------------------


def write_class_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for label, colour in (("red", (255, 0, 0)), ("blue", (0, 0, 255))):
            for i in range(3):
                buffer = io.BytesIO()
                Image.new("RGB", (6, 6), colour).save(buffer, "PNG")
                archive.writestr(f"{label}/{i}.png", buffer.getvalue())


def test_load_any_accepts_a_builtin_name_npz_zip_and_folder(tmp_path: Path) -> None:
    assert load_any("digits").name == "digits"
    x = np.zeros((4, 3, 3), np.uint8)
    np.savez(tmp_path / "mine.npz", x_train=x, y_train=[0, 1, 0, 1], x_test=x, y_test=[1, 0, 1, 0])
    assert load_any(str(tmp_path / "mine.npz")).name == "mine"
    write_class_zip(tmp_path / "colours.zip")
    zipped = load_any(str(tmp_path / "colours.zip"))
    assert zipped.name == "colours" and zipped.class_names == ("blue", "red")
    with zipfile.ZipFile(tmp_path / "colours.zip") as archive:
        archive.extractall(tmp_path / "folder")
    assert load_any(str(tmp_path / "folder")).class_names == ("blue", "red")


def test_load_any_explains_what_it_accepts(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="neither a built-in dataset"):
        load_any(str(tmp_path / "missing.npz"))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DatasetError, match="not a .npz file"):
        load_any(str(tmp_path / "notes.txt"))


def test_an_upload_loads_as_its_file_would_named_after_it(tmp_path: Path) -> None:
    x = np.zeros((4, 3, 3), np.uint8)
    np.savez(tmp_path / "mine.npz", x_train=x, y_train=[0, 1, 0, 1], x_test=x, y_test=[1, 0, 1, 0])
    write_class_zip(tmp_path / "colours.zip")
    for name in ("mine.npz", "colours.zip"):
        uploaded = load_upload(name.upper(), (tmp_path / name).read_bytes(), max_bytes=10**6)
        from_file = load_any(str(tmp_path / name))
        assert uploaded.name == name.split(".")[0].upper() and uploaded.class_names == \
            from_file.class_names
        np.testing.assert_array_equal(uploaded.x_train, from_file.x_train)
    with pytest.raises(DatasetError, match="Expected a .npz file or a .zip"):
        load_upload("notes.txt", b"hello", max_bytes=10**6)


def test_builtin_names_are_the_documented_ones() -> None:
    assert BUILTIN_DATASETS == ("digits", "shapes", "mnist", "fashion_mnist", "cifar10")


@pytest.mark.slow
def test_a_tiny_vgg_learns_shapes_to_95_percent_in_five_epochs() -> None:
    keras = pytest.importorskip("keras")
    shapes = load_dataset("shapes")
    keras.utils.set_random_seed(0)
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input(shapes.input_shape),
            layers.Conv2D(10, 3, activation="relu"),
            layers.Conv2D(10, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(10, 3, activation="relu"),
            layers.Conv2D(10, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(shapes.num_classes, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(shapes.x_train, shapes.y_train, batch_size=32, epochs=5, verbose=0)
    _, accuracy = model.evaluate(shapes.x_test, shapes.y_test, verbose=0)
    assert accuracy >= 0.95
