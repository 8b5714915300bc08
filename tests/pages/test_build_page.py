"""The Build page through Streamlit's AppTest: presets, edits, errors, undo, files and the URL."""

from __future__ import annotations

import dataclasses
import html
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.advice import advise
from cnnviz.archfile import dump_architecture
from cnnviz.layers import LayerSpec
from cnnviz.presets import PRESETS, get_preset
from cnnviz.shapes import readable_size, summarize
from cnnviz.spec import ModelSpec, SpecError
from cnnviz.train import TrainingRun, TrainingSettings
from cnnviz.urlcodec import encode_spec
from ui.build.cube_svg import blocks, cube_svg
from ui.build.stack import stack_rows
from ui.build.stack_ops import NEW_LAYER_CONFIG, apply_action, new_layer
from ui.build.text_block import TEXT_BLOCK_CLASS, text_block_html
from ui.state import DEFAULT_PRESET, RUNS_KEY, SPEC_KEY, URL_PARAM

ROOT = Path(__file__).resolve().parents[2]


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _spec(at: AppTest) -> ModelSpec:
    spec: ModelSpec = at.session_state[SPEC_KEY]
    return spec


def _metric(at: AppTest, label: str) -> str:
    return next(metric.value for metric in at.metric if metric.label == label)


def _text_blocks(at: AppTest) -> list[str]:
    """The monospaced blocks (ui.build.text_block) as their plain text."""
    bodies = [str(element.value) for element in at.html]
    return [html.unescape(body.split("<pre", 1)[1].split(">", 1)[1].rsplit("</pre>", 1)[0])
            for body in bodies if f'<pre class="{TEXT_BLOCK_CLASS}' in body]


def _totals(at: AppTest) -> str:
    return next(block for block in _text_blocks(at) if block.startswith("Total params"))


def _table(at: AppTest) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = at.dataframe[0].value.to_dict("records")
    return rows


def _widget(widgets, label: str):  # type: ignore[no-untyped-def]
    return next(widget for widget in widgets if widget.label == label)


def _click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def _open_tab(at: AppTest, label: str) -> AppTest:
    """Open one of the page's lazy tabs (only the open one is drawn)."""
    at.session_state["build_tabs"] = label
    at.run()
    assert not at.exception, at.exception
    return at


def _open_more_arguments(at: AppTest) -> AppTest:
    """Open the selected layer's "More arguments" (drawn only when open)."""
    more = next(item for item in at.expander if item.label.startswith("More arguments"))
    at.session_state[more.key] = True
    at.run()
    assert not at.exception, at.exception
    return at


def _files_tab(at: AppTest) -> AppTest:
    return _open_tab(at, "Name, file, link and Keras code")


def _load_preset(at: AppTest, name: str) -> AppTest:
    at.selectbox(key="build_preset").set_value(name).run()  # picking loads
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def keras_totals() -> dict[str, tuple[int, int, int]]:
    """(total, trainable, non-trainable) of every preset, as Keras counts them."""
    import keras

    from cnnviz.keras_build import build_model

    counts = {}
    for name, spec in PRESETS.items():
        model = build_model(spec)
        trainable = sum(int(keras.ops.size(w)) for w in model.trainable_weights)
        frozen = sum(int(keras.ops.size(w)) for w in model.non_trainable_weights)
        counts[name] = (model.count_params(), trainable, frozen)
    return counts


def test_default_page_shows_the_default_preset_without_error() -> None:
    at = _app()
    summary = summarize(get_preset(DEFAULT_PRESET))
    assert _metric(at, "Parameters") == f"{summary.total_params:,}"
    assert len(_table(at)) == len(summary.layers) + 1  # the input row, then each layer
    assert not at.error


@pytest.mark.parametrize("name", list(PRESETS))
def test_loading_a_preset_shows_keras_totals(
    name: str, keras_totals: dict[str, tuple[int, int, int]]
) -> None:
    at = _load_preset(_app(), name)
    total, trainable, frozen = keras_totals[name]
    assert _spec(at) == PRESETS[name]
    assert _totals(at).splitlines() == [
        f"Total params: {total:,} ({readable_size(total * 4)})",
        f"Trainable params: {trainable:,} ({readable_size(trainable * 4)})",
        f"Non-trainable params: {frozen:,} ({readable_size(frozen * 4)})",
    ]
    assert _metric(at, "Parameters") == f"{total:,}"


def test_adding_a_layer_after_the_selected_one_updates_the_table() -> None:
    at = _app()
    before = len(_table(at))
    at.selectbox(key="build_new_type").set_value("BatchNormalization")
    _click(at, "build_add")
    rows = _table(at)
    assert len(rows) == before + 1
    assert rows[2]["Layer (type)"] == "batch_normalization (BatchNormalization)"
    assert rows[2]["Param #"] == "128"  # 4 · 32 channels, half of them non-trainable
    assert "Non-trainable params: 64 " in _totals(at)


def test_editing_filters_applies_at_once() -> None:
    at = _app()
    _widget(at.number_input, "filters").set_value(16).run()
    assert not at.exception
    assert _spec(at).layers[0].filters == 16  # type: ignore[attr-defined]
    rows = _table(at)
    assert rows[1]["Param #"] == "160"
    assert rows[1]["Parameters"] == "(3·3·1 + 1)·16 = 160"
    assert _metric(at, "Parameters") == f"{summarize(_spec(at)).total_params:,}"


def test_an_edit_keeps_the_arguments_hidden_in_a_closed_more_arguments() -> None:
    at = _app()
    _open_more_arguments(at)
    _widget(at.text_input, "name").set_value("first_conv").run()
    _widget(at.selectbox, "kernel_initializer").set_value("he_normal").run()
    more = next(item for item in at.expander if item.label.startswith("More arguments"))
    at.session_state[more.key] = False
    at.run()
    assert not any(widget.label == "name" for widget in at.text_input)
    _widget(at.number_input, "filters").set_value(8).run()
    assert not at.exception, at.exception
    layer = _spec(at).layers[0]
    assert (layer.filters, layer.name) == (8, "first_conv")  # type: ignore[attr-defined]
    assert layer.kernel_initializer == "he_normal"  # type: ignore[attr-defined]


def test_moving_down_and_deleting_update_the_stack() -> None:
    at = _app()
    original = _spec(at)
    _click(at, "build_down")
    assert _spec(at).layers[:2] == (original.layers[1], original.layers[0])
    assert _table(at)[1]["Layer (type)"] == "max_pooling2d (MaxPooling2D)"
    _click(at, "build_up")
    assert _spec(at) == original
    _click(at, "build_delete")
    assert _spec(at).layers == original.layers[1:]
    assert len(_table(at)) == len(original.layers)


def test_duplicate_inserts_a_copy_after_the_layer() -> None:
    at = _app()
    _click(at, "build_duplicate")
    layers = _spec(at).layers
    assert layers[0] == layers[1]
    assert _table(at)[2]["Layer (type)"] == "conv2d_1 (Conv2D)"


def test_kernel_larger_than_its_input_is_shown_on_its_row_and_fixed_in_one_click() -> None:
    at = _app()
    _click(at, "build_down")  # select the pooling layer (now second) …
    _click(at, "build_up")  # … and back: the first Conv2D is selected
    _widget(at.number_input, "kernel_size · height").set_value(29).run()
    assert not at.exception
    assert len(_spec(at).layers) == len(get_preset(DEFAULT_PRESET).layers)  # nothing lost
    assert any("Layer 1" in error.value and "kernel_size" in error.value for error in at.error)
    first = _table(at)[1]
    assert first["Output shape"] == "error" and "larger than its 28×28 input" in first["Note"]
    # The fix is a button on the layer's card (the panel names it, without a second button).
    assert not any(button.label == "Use padding='same' here" for button in at.button)
    assert any("layer 1's card" in caption.value and "Use padding='same' here" in caption.value
               for caption in at.caption)
    spec = _spec(at)
    advice = advise(spec)
    fixes = stack_rows(spec, summarize(spec), advice)[0]["fixes"]
    number = fixes.index("Use padding='same' here")
    fixed, selected = apply_action(spec, {"op": "fix", "index": 0, "fix": number}, advice)
    assert fixed.layers[0].padding == "same" and selected == 0  # type: ignore[attr-defined]
    assert summarize(fixed).ok
    with pytest.raises(SpecError):
        apply_action(spec, {"op": "fix", "index": 1, "fix": 0}, advice)  # nothing offered there


def test_strides_with_dilation_keep_the_last_valid_spec_and_say_why() -> None:
    at = _app()
    _widget(at.number_input, "strides · height").set_value(2).run()
    valid = _spec(at)
    _widget(at.number_input, "dilation_rate · height").set_value(2).run()
    assert not at.exception
    assert _spec(at) == valid
    assert any("dilation_rate" in error.value for error in at.error)
    fix = next(button for button in at.button if button.label == "Set strides to 1")
    fix.click().run()
    assert _spec(at).layers[0].dilation_rate == (2, 1)  # type: ignore[attr-defined]
    assert _spec(at).layers[0].strides == (1, 1)  # type: ignore[attr-defined]
    assert not at.error


def test_dense_on_an_image_map_warns_and_inserts_a_flatten() -> None:
    at = _app()
    spec = get_preset(DEFAULT_PRESET)
    flatten = next(i for i, layer in enumerate(spec.layers) if layer.class_name == "Flatten")
    at.session_state[SPEC_KEY] = spec.replace_layers(
        spec.layers[:flatten] + spec.layers[flatten + 1:])
    at.run()
    assert any("To classify the whole image" in warning.value for warning in at.warning)
    edited = _spec(at)
    advice = advise(edited)
    dense = next(item.layer_index for item in advice if "To classify" in item.message)
    assert dense is not None  # the fix is a button on the Dense layer's card
    number = stack_rows(edited, summarize(edited), advice)[dense]["fixes"].index(
        "Insert a Flatten before it")
    fixed, _ = apply_action(edited, {"op": "fix", "index": dense, "fix": number}, advice)
    assert fixed == spec


def test_undo_and_redo_round_trip() -> None:
    at = _app()
    original = _spec(at)
    _load_preset(at, "vgg16-base")
    _click(at, "build_delete")
    edited = _spec(at)
    _click(at, "build_undo")
    assert _spec(at) == PRESETS["vgg16-base"]
    _click(at, "build_undo")
    assert _spec(at) == original
    assert at.button(key="build_undo").disabled
    _click(at, "build_redo")
    _click(at, "build_redo")
    assert _spec(at) == edited
    assert at.button(key="build_redo").disabled


def test_uploaded_json_replaces_the_model() -> None:
    at = _files_tab(_app())
    text = dump_architecture(PRESETS["mini-mobilenet"])
    at.file_uploader(key="build_upload").set_value(("m.json", text.encode(), "application/json"))
    at.run()
    assert not at.exception
    assert _spec(at) == PRESETS["mini-mobilenet"]
    assert dump_architecture(_spec(at)) == text


def test_an_unreadable_upload_says_why_and_keeps_the_model() -> None:
    at = _files_tab(_app())
    before = _spec(at)
    at.file_uploader(key="build_upload").set_value(("bad.json", b"{\"layers\": [", "text/json"))
    at.run()
    assert not at.exception
    assert _spec(at) == before
    assert any("bad.json" in warning.value and "not valid JSON" in warning.value
               for warning in at.warning)


def test_an_upload_whose_shapes_fail_is_loaded_with_the_error_on_its_row() -> None:
    data = PRESETS["lenet-5"].to_dict()
    data["input_shape"] = [8, 8, 1]
    at = _files_tab(_app())
    at.file_uploader(key="build_upload").set_value(
        ("small.json", json.dumps(data).encode(), "application/json"))
    at.run()
    assert not at.exception
    assert _spec(at).input_shape == (8, 8, 1)
    assert any("Layer 3" in error.value for error in at.error)


def test_the_url_holds_the_architecture_and_reopens_it() -> None:
    at = _app()
    _load_preset(at, "separable-convnet")
    assert at.query_params[URL_PARAM] == encode_spec(PRESETS["separable-convnet"])
    reopened = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    reopened.query_params[URL_PARAM] = encode_spec(PRESETS["separable-convnet"])
    reopened.run()
    assert _spec(reopened) == PRESETS["separable-convnet"]


def test_a_damaged_link_opens_the_default_model_and_says_so() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params[URL_PARAM] = "1.AAAA!!not-base64"
    at.run()
    assert not at.exception
    assert _spec(at) == get_preset(DEFAULT_PRESET)
    assert any("could not be opened" in warning.value for warning in at.warning)


def test_time_per_epoch_appears_once_a_run_is_recorded() -> None:
    at = _app()
    assert _metric(at, "Time per epoch") == "—"
    run = TrainingRun(run_id=1, architecture=_spec(at), settings=TrainingSettings(),
                      dataset_name="shapes", history={}, test_accuracy=0.5, test_loss=1.0,
                      params=0, seconds_per_epoch=2.5, epochs_completed=1, stopped=False,
                      test_images=10)
    at.session_state[RUNS_KEY] = [{"seconds_per_epoch": "n/a"}, run]
    at.run()
    assert _metric(at, "Time per epoch") == "2.5 s"


def test_the_page_never_imports_tensorflow() -> None:
    script = textwrap.dedent(f"""
        import sys
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({str(ROOT / "app.py")!r}, default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        heavy = sorted(name for name in ("tensorflow", "keras") if name in sys.modules)
        print(",".join(heavy) or "none")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=ROOT, timeout=120, check=True)
    assert result.stdout.strip().splitlines()[-1] == "none"


# The actions the drag-and-drop component sends (untrusted data from the browser).

def test_a_dropped_palette_layer_is_inserted_at_the_drop_position() -> None:
    spec = get_preset(DEFAULT_PRESET)
    dropped, selected = apply_action(spec, {"op": "insert", "class_name": "Dropout", "index": 2})
    assert selected == 2
    assert dropped.layers[2].class_name == "Dropout"
    assert dropped.layers[:2] + dropped.layers[3:] == spec.layers


def test_a_dragged_card_moves_to_its_new_position() -> None:
    spec = get_preset(DEFAULT_PRESET)
    moved, selected = apply_action(spec, {"op": "move", "from": 0, "to": 2})
    assert selected == 2
    assert moved.layers[2] == spec.layers[0] and moved.layers[:2] == spec.layers[1:3]


def test_duplicate_and_delete_from_the_card_buttons() -> None:
    spec = get_preset(DEFAULT_PRESET)
    twice, _ = apply_action(spec, {"op": "duplicate", "index": 7})
    assert twice.layers[8] == twice.layers[7] and len(twice.layers) == 9
    once, selected = apply_action(twice, {"op": "delete", "index": 8})
    assert once == spec and selected == 7


def test_a_copy_of_a_named_layer_takes_an_automatic_name() -> None:
    spec = PRESETS["vgg16-base"]
    copied, _ = apply_action(spec, {"op": "duplicate", "index": 0})
    assert copied.layer_names()[:2] == ("block1_conv1", "conv2d")


@pytest.mark.parametrize("action", [
    None, [], {"op": 3}, {"op": "explode"},
    {"op": "insert", "class_name": "Lambda", "index": 0},
    {"op": "insert", "class_name": "Dense", "index": 99},
    {"op": "insert", "class_name": "Dense", "index": True},
    {"op": "move", "from": 0, "to": -1}, {"op": "move", "from": "0", "to": 1},
    {"op": "delete", "index": 8}, {"op": "select", "index": 1.5},
])
def test_a_malformed_action_is_a_spec_error(action: object) -> None:
    with pytest.raises(SpecError):
        apply_action(get_preset(DEFAULT_PRESET), action)


@pytest.mark.parametrize("class_name", list(NEW_LAYER_CONFIG))
def test_every_palette_layer_can_be_dropped_into_an_empty_stack(class_name: str) -> None:
    empty = ModelSpec(input_shape=(32, 32, 3))
    spec, _ = apply_action(empty, {"op": "insert", "class_name": class_name, "index": 0})
    assert spec.layers == (new_layer(class_name),)
    assert summarize(spec).ok


def _one_layer_with_all_arguments(class_name: str) -> tuple[AppTest, LayerSpec]:
    """The Build page on a model of one fresh `class_name` layer, its More arguments open."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    layer = new_layer(class_name)
    at.session_state[SPEC_KEY] = ModelSpec(input_shape=(32, 32, 3), layers=(layer,))
    at.run()
    assert not at.exception, at.exception
    return _open_more_arguments(at), layer


@pytest.mark.parametrize("class_name", list(NEW_LAYER_CONFIG))
def test_every_layer_type_shows_its_settings_with_keras_names(class_name: str) -> None:
    at, layer = _one_layer_with_all_arguments(class_name)
    labels = {widget.label.split(" · ")[0] for kind in (
        at.number_input, at.text_input, at.selectbox, at.radio, at.toggle, at.multiselect)
        for widget in kind}
    for spec_field in dataclasses.fields(layer):
        assert spec_field.name in labels, spec_field.name


@pytest.mark.parametrize("class_name", list(NEW_LAYER_CONFIG))
def test_every_argument_reads_back_from_its_widget_as_it_was_drawn(class_name: str) -> None:
    at, layer = _one_layer_with_all_arguments(class_name)
    _widget(at.text_input, "name").set_value("probe").run()  # every widget is read back
    assert not at.exception, at.exception
    assert _spec(at).layers[0] == dataclasses.replace(layer, name="probe")


def test_a_dropout_rate_edit_applies_and_an_empty_optional_stays_none() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[SPEC_KEY] = ModelSpec(input_shape=(8, 8, 1), layers=(
        new_layer("MaxPooling2D"), new_layer("Dropout")))
    at.session_state["cnnviz_selected_layer"] = 1
    at.run()
    _widget(at.number_input, "rate").set_value(0.5).run()
    assert _spec(at).layers[1].rate == 0.5  # type: ignore[attr-defined]
    at.session_state["cnnviz_selected_layer"] = 0
    at.run()
    _widget(at.number_input, "pool_size · height").set_value(3).run()
    assert _spec(at).layers[0].strides is None  # type: ignore[attr-defined]
    assert _spec(at).layers[0].pool_size == (3, 2)  # type: ignore[attr-defined]


def test_undo_after_an_edit_restores_the_value_in_its_widget() -> None:
    at = _app()
    _widget(at.number_input, "filters").set_value(48).run()
    assert _table(at)[1]["Param #"] == "480"
    _click(at, "build_undo")
    assert _widget(at.number_input, "filters").value == 32
    assert _table(at)[1]["Param #"] == "320"


def test_the_block_drawing_has_one_block_per_change_of_shape() -> None:
    summary = summarize(PRESETS["keras-cifar10-cnn"])
    found = blocks(summary)
    assert [block.shape for block in found[:3]] == [(32, 32, 3), (32, 32, 32), (30, 30, 32)]
    assert "activation" not in {block.label for block in found}  # same shape: no block
    assert [block.class_name for block in found[-2:]] == ["Dense", "Dense"]
    svg = cube_svg(summary)
    assert svg.startswith("<svg") and svg.count("<polygon") == 3 * len(found)
    assert ">2304<" in svg and ">flatten<" in svg


def test_the_build_page_shows_its_arithmetic_without_the_code_highlighter() -> None:
    """st.code loads a syntax highlighter that costs a first visit about half a second."""
    at = _app()
    assert [code.value for code in at.code] == []
    arithmetic = next(block for block in _text_blocks(at) if block.startswith("input"))
    assert "output size" in arithmetic and "parameters" in arithmetic
    assert _totals(at).startswith("Total params")


def test_a_text_block_shows_its_text_as_text() -> None:
    assert "a &lt;b&gt; &amp; c\n2" in text_block_html("a <b> & c\n2")


def test_picking_a_preset_loads_it_and_undo_clears_the_picker() -> None:
    at = _app()
    default = _spec(at)
    assert at.selectbox(key="build_preset").value == DEFAULT_PRESET
    at = _load_preset(at, "lenet-5")
    assert _spec(at) == PRESETS["lenet-5"]
    assert at.selectbox(key="build_preset").value == "lenet-5"
    _click(at, "build_undo")
    assert _spec(at) == default
    assert at.selectbox(key="build_preset").value == DEFAULT_PRESET
    _click(at, "build_redo")
    assert at.selectbox(key="build_preset").value == "lenet-5"


def test_an_edited_preset_is_not_claimed_by_the_picker() -> None:
    at = _load_preset(_app(), "lenet-5")
    _click(at, "build_delete")  # the first layer goes
    picker = at.selectbox(key="build_preset")
    assert picker.value is None and picker.placeholder == "lenet-5 (edited)"
    at = _load_preset(at, "lenet-5")  # picking it again brings it back whole
    assert _spec(at) == PRESETS["lenet-5"]


def _broken_at(index: int) -> ModelSpec:
    """The default preset with layer `index` (a Conv2D) given a kernel larger than its input."""
    spec = get_preset(DEFAULT_PRESET)
    layers = list(spec.layers)
    layers[index] = dataclasses.replace(layers[index], kernel_size=(29, 29))
    return dataclasses.replace(spec, layers=tuple(layers))


def _app_with(spec: ModelSpec) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[SPEC_KEY] = spec
    at.run()
    assert not at.exception, at.exception
    return at


def test_totals_with_an_error_say_how_far_they_count() -> None:
    spec = _broken_at(2)
    at = _app_with(spec)
    counted = summarize(spec).total_params
    assert 0 < counted < summarize(get_preset(DEFAULT_PRESET)).total_params
    badge = next(metric for metric in at.metric if metric.label == "Parameters")
    assert (badge.value, badge.delta) == (f"{counted:,}", "up to layer 2")
    totals = _totals(at).splitlines()
    assert totals[0] == f"Total params: {counted:,} ({readable_size(counted * 4)}), up to layer 2"
    assert totals[-1].startswith("Layer 3 has an error")


def test_totals_with_an_error_in_the_first_layer_are_a_dash() -> None:
    at = _app_with(_broken_at(0))
    assert _metric(at, "Parameters") == "—" and _metric(at, "MACs per image") == "—"
    assert _totals(at).splitlines()[0] == "Total params: —"
