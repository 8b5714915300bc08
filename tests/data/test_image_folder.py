from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnviz.data import DatasetError, image_folder, load_image_folder


def png(colour: int | tuple[int, int, int], size: tuple[int, int] = (6, 4)) -> bytes:
    mode = "L" if isinstance(colour, int) else "RGB"
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def two_classes(prefix: str = "", count: int = 5) -> dict[str, bytes]:
    files = {f"{prefix}red/{i}.png": png((255, 0, 0)) for i in range(count)}
    files.update({f"{prefix}blue/{i}.png": png((0, 0, 255)) for i in range(count)})
    return files


def refused(source: bytes | Path, *words: str, **kwargs: object) -> str:
    with pytest.raises(DatasetError) as caught:
        load_image_folder(source, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    for word in words:
        assert word in message, message
    return message


# --- what loads -------------------------------------------------------------------------


def test_a_zip_of_class_folders_loads_with_sorted_class_names() -> None:
    dataset = load_image_folder(zip_of(two_classes()), name="colours")
    assert dataset.class_names == ("blue", "red")
    assert dataset.describe() == "colours: 8 train / 2 test, 4×6×3, 2 classes"
    assert sorted(dataset.y_test.tolist()) == [0, 1]
    blue = dataset.x_train[dataset.y_train == 0]
    np.testing.assert_allclose(blue[..., 2], 1.0)
    np.testing.assert_allclose(blue[..., 0], 0.0)


def test_the_split_is_deterministic_for_a_seed() -> None:
    data = zip_of(two_classes(count=20))
    first, again = load_image_folder(data, seed=4), load_image_folder(data, seed=4)
    np.testing.assert_array_equal(first.y_train, again.y_train)
    np.testing.assert_array_equal(first.x_test, again.x_test)


def test_a_single_wrapping_folder_is_looked_through() -> None:
    dataset = load_image_folder(zip_of(two_classes(prefix="my data/pets/")))
    assert dataset.class_names == ("blue", "red")


def test_images_in_deeper_folders_belong_to_their_class_folder() -> None:
    files = two_classes()
    files["red/more/extra.png"] = png((255, 0, 0))
    dataset = load_image_folder(zip_of(files))
    assert len(dataset.x_train) + len(dataset.x_test) == 11


def test_hidden_files_and_macos_metadata_are_skipped() -> None:
    files = two_classes()
    files["__MACOSX/red/._0.png"] = b"\x00\x05\x16\x07 resource fork"
    files["red/.DS_Store"] = b"\x00\x00\x00\x01Bud1"
    files[".hidden/x.png"] = b"junk"
    files["blue/Thumbs.db"] = b"junk"
    assert load_image_folder(zip_of(files)).class_names == ("blue", "red")


def test_a_directory_loads_like_a_zip(tmp_path: Path) -> None:
    for name, data in two_classes().items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main")
    assert load_image_folder(tmp_path).class_names == ("blue", "red")
    assert load_image_folder(str(tmp_path)).num_classes == 2


def test_a_zip_path_loads_like_zip_bytes(tmp_path: Path) -> None:
    path = tmp_path / "colours.zip"
    path.write_bytes(zip_of(two_classes()))
    assert load_image_folder(path).class_names == ("blue", "red")


def test_grey_images_give_one_channel_and_any_colour_gives_three() -> None:
    grey = {f"dark/{i}.png": png(20) for i in range(3)}
    grey.update({f"light/{i}.png": png((200, 200, 200)) for i in range(3)})
    assert load_image_folder(zip_of(grey)).input_shape == (4, 6, 1)
    grey["light/colour.png"] = png((200, 10, 10))
    assert load_image_folder(zip_of(grey)).input_shape == (4, 6, 3)


def test_images_are_resized_to_the_most_common_size() -> None:
    files = two_classes()
    files["red/big.png"] = png((255, 0, 0), size=(40, 30))
    assert load_image_folder(zip_of(files)).input_shape == (4, 6, 3)


def test_image_size_overrides_the_common_size() -> None:
    dataset = load_image_folder(zip_of(two_classes()), image_size=(10, 12))
    assert dataset.input_shape == (10, 12, 3)


def test_large_photos_are_shrunk_to_the_default_longest_side() -> None:
    files = {f"a/{i}.png": png((255, 0, 0), size=(400, 300)) for i in range(2)}
    files.update({f"b/{i}.png": png((0, 255, 0), size=(400, 300)) for i in range(2)})
    assert load_image_folder(zip_of(files)).input_shape == (96, 128, 3)


def test_any_allowed_format_and_extension_is_read() -> None:
    files = two_classes()
    buffer = io.BytesIO()
    Image.new("RGB", (6, 4), (255, 0, 0)).save(buffer, "JPEG")
    files["red/photo.JPG"] = buffer.getvalue()
    files["blue/mislabelled.gif"] = png((0, 0, 255))
    assert load_image_folder(zip_of(files)).num_classes == 2


def test_a_lone_image_in_a_class_stays_in_training() -> None:
    files = two_classes()
    files["green/only.png"] = png((0, 255, 0))
    dataset = load_image_folder(zip_of(files))
    green = dataset.class_names.index("green")
    assert green in dataset.y_train.tolist() and green not in dataset.y_test.tolist()


# --- what is refused --------------------------------------------------------------------


def test_bytes_that_are_not_a_zip_are_refused() -> None:
    refused(b"just some text", "not a .zip file", "own folder")


def test_an_empty_zip_has_no_images() -> None:
    refused(zip_of({}), "No images found")


def test_a_single_class_folder_is_not_enough() -> None:
    refused(zip_of({f"cats/{i}.png": png(0) for i in range(3)}), "only one class", "'cats'")


def test_an_empty_class_folder_is_named() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in two_classes().items():
            archive.writestr(name, data)
        archive.writestr("green/", b"")
    refused(buffer.getvalue(), "'green' has no images")


def test_an_empty_class_directory_is_named(tmp_path: Path) -> None:
    for name, data in two_classes().items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (tmp_path / "green").mkdir()
    refused(tmp_path, "'green' has no images")


def test_an_image_outside_any_class_folder_is_named() -> None:
    files = two_classes()
    files["stray.png"] = png(0)
    refused(zip_of(files), "'stray.png' is not inside a class folder")


def test_a_text_file_in_a_class_folder_is_named() -> None:
    files = two_classes()
    files["red/notes.txt"] = b"these are my notes"
    refused(zip_of(files), "'red/notes.txt'", "not an image")


def test_a_corrupt_image_is_named() -> None:
    files = two_classes()
    files["blue/broken.png"] = png((0, 0, 255))[:40]
    refused(zip_of(files), "'blue/broken.png'")


def test_a_tiff_image_is_refused_by_its_real_format() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (6, 4)).save(buffer, "TIFF")
    files = two_classes()
    files["red/scan.png"] = buffer.getvalue()
    refused(zip_of(files), "'red/scan.png'", "TIFF")


@pytest.mark.parametrize(
    "name", ["../evil/x.png", "red/../../x.png", "/etc/red/x.png", "C:/red/x.png", "..\\red\\x.png"]
)
def test_path_traversal_in_a_zip_is_refused(name: str) -> None:
    files = two_classes()
    files[name] = png(0)
    refused(zip_of(files), "unsafe path")


def test_a_zip_bomb_is_refused_by_its_unpacked_size() -> None:
    files = two_classes()
    files["red/bomb.png"] = b"\x00" * 5_000_000
    data = zip_of(files)
    assert len(data) < 100_000
    refused(data, "unpacks to more than", max_bytes=1_000_000)


def test_too_many_files_are_refused() -> None:
    refused(zip_of(two_classes(count=10)), "more than 5 files", max_files=5)


def test_too_many_files_in_a_directory_are_refused(tmp_path: Path) -> None:
    for name, data in two_classes().items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(data)
    refused(tmp_path, "more than 3 files", max_files=3)


def test_an_image_with_too_many_pixels_is_refused_before_decoding() -> None:
    files = two_classes()
    files["red/huge.png"] = png((255, 0, 0), size=(300, 300))
    refused(zip_of(files), "'red/huge.png'", "300×300", max_pixels=50_000)


def test_too_many_pixels_in_all_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_folder, "MAX_TOTAL_PIXELS", 100)
    refused(zip_of(two_classes()), "pixels in all")


def test_an_image_size_needing_too_much_memory_is_refused() -> None:
    refused(zip_of(two_classes()), "GB of memory", image_size=(4096, 4096))


def test_a_password_protected_member_is_refused() -> None:
    data = bytearray(zip_of(two_classes()))
    directory = data.index(b"PK\x01\x02")
    data[directory + 8] |= 0x1
    refused(bytes(data), "password-protected")


def test_a_truncated_zip_is_refused() -> None:
    data = zip_of(two_classes())
    with pytest.raises(DatasetError):
        load_image_folder(data[: len(data) // 2])


def test_only_one_image_per_class_leaves_nothing_to_test() -> None:
    refused(zip_of({"a/1.png": png(0), "b/1.png": png(255)}), "2 or more images")


@pytest.mark.parametrize("size", [(0, 5), (5, 100_000), ("big", 4), (3,)])
def test_a_bad_image_size_is_refused(size: object) -> None:
    refused(zip_of(two_classes()), "image_size", image_size=size)


def test_a_missing_path_is_refused(tmp_path: Path) -> None:
    refused(tmp_path / "nothing.zip", "does not exist")
