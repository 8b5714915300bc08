"""Fine-tuning: the frozen base stays bit for bit, the unfrozen block moves, Keras's counts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from training_data import block_conv, block_pool, stripes_dataset

from cnnviz.keras_build import build_model
from cnnviz.spec import ModelSpec
from cnnviz.train import (
    FineTuneError,
    FineTunePlan,
    HeadSpec,
    PretrainedBase,
    TrainingHooks,
    TrainingProgress,
    TrainingSettings,
    base_from_model,
    convolutional_base,
    default_unfreeze_from,
    fine_tune,
    finetune_in_worker,
    finetune_spec,
    imagenet_base,
)

_BASE = ModelSpec.from_dict({
    "name": "little", "input_shape": [8, 8, 1],
    "layers": [
        block_conv("block1_conv1"), block_pool("block1_pool"),
        block_conv("block2_conv1"),
        {"class_name": "BatchNormalization", "config": {"name": "block2_bn"}},
        block_conv("block2_conv2"), block_pool("block2_pool"),
    ],
})
_FROZEN = ("block1_conv1",)
_UNFROZEN = ("block2_conv1", "block2_conv2")


def _base() -> PretrainedBase:
    return PretrainedBase(_BASE, build_model(_BASE, seed=7).get_weights(), "random")


def _plan(head_epochs: int = 2, finetune_epochs: int = 2) -> FineTunePlan:
    def phase(optimizer: str, rate: float, epochs: int) -> TrainingSettings:
        return TrainingSettings(optimizer=optimizer, learning_rate=rate, epochs=epochs,
                                batch_size=16, schedule="constant")

    return FineTunePlan(unfreeze_from="block2_conv1", head=HeadSpec(dense_units=(8,)),
                        head_settings=phase("rmsprop", 1e-3, head_epochs),
                        finetune_settings=phase("rmsprop", 1e-3, finetune_epochs))


def _summary_counts(model: object) -> tuple[int, int]:
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))  # type: ignore[attr-defined]
    text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(lines))

    def number(label: str) -> int:
        found = re.search(rf"{label} params: ([\d,]+)", text)
        assert found is not None, text
        return int(found.group(1).replace(",", ""))

    return number("Trainable"), number("Non-trainable")


def _saved_in_keras_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, application: str,
                           *, seed: int, file_name: str) -> Any:
    """A keras.applications base without its top, random weights, saved as its ImageNet file
    in the models folder of a KERAS_HOME at `tmp_path`."""
    import keras

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    folder = tmp_path / "models"
    folder.mkdir()
    keras.utils.set_random_seed(seed)
    saved = getattr(keras.applications, application)(weights=None, include_top=False,
                                                     input_shape=(32, 32, 3))
    saved.save(folder / file_name)
    return saved


def _layer_weights(model: object, name: str) -> list[np.ndarray]:
    return [np.array(value) for value in model.get_layer(name).get_weights()]  # type: ignore[attr-defined]


class _StopAtEpoch:
    """Set once `epochs` epochs have ended: the end of phase 1 when it is phase 1's count."""

    def __init__(self, epochs: int) -> None:
        self.epochs, self.ended = epochs, 0

    def progress(self, progress: TrainingProgress) -> None:
        self.ended = len(progress.history.get("loss", ()))

    def is_set(self) -> bool:
        return self.ended >= self.epochs


def test_the_frozen_base_is_unchanged_after_the_head_phase_bit_for_bit() -> None:
    base = _base()
    start = build_model(base.spec)
    start.set_weights(base.weights)
    stop = _StopAtEpoch(2)
    head_only = fine_tune(base, stripes_dataset(), _plan(2, 2), progress=stop.progress,
                          stop_event=stop)
    assert len(head_only.phases) == 1 and head_only.training.epochs_completed == 2
    for name in _BASE.layer_names():  # the batch norm's moving statistics included
        for before, after in zip(_layer_weights(start, name),
                                 _layer_weights(head_only.training.model, name), strict=True):
            assert before.tobytes() == after.tobytes(), name
    head = head_only.training.model.get_layer("head_dense_1").get_weights()[0]
    assert not np.array_equal(head, build_model(head_only.training.spec, seed=0).get_layer(
        "head_dense_1").get_weights()[0])


def test_layers_before_the_unfreeze_point_stay_frozen_in_phase_two() -> None:
    base = _base()
    start = build_model(base.spec)
    start.set_weights(base.weights)
    outcome = fine_tune(base, stripes_dataset(), _plan(1, 2))
    for name in _FROZEN:
        for before, after in zip(_layer_weights(start, name),
                                 _layer_weights(outcome.training.model, name), strict=True):
            assert before.tobytes() == after.tobytes(), name


def test_the_unfrozen_block_changes_in_phase_two_and_the_head_in_phase_one() -> None:
    base = _base()
    start = build_model(base.spec)
    start.set_weights(base.weights)
    outcome = fine_tune(base, stripes_dataset(), _plan())
    for name in _UNFROZEN:
        before = _layer_weights(start, name)[0]
        assert not np.array_equal(before, _layer_weights(outcome.training.model, name)[0]), name
    assert [phase.name for phase in outcome.phases] == ["head", "fine-tune"]
    assert outcome.boundary_epoch == 2 and outcome.training.epochs_completed == 4
    assert len(outcome.training.history["loss"]) == 4


def test_each_phase_counts_as_keras_summary_does_after_trainable_false() -> None:
    import keras

    base = _base()
    outcome = fine_tune(base, stripes_dataset(), _plan(1, 1))
    reference = build_model(finetune_spec(_BASE, HeadSpec(dense_units=(8,)), 2, 0))
    for layer in reference.layers[: len(_BASE.layers)]:
        layer.trainable = False
    head_phase = outcome.phases[0]
    assert (head_phase.trainable_params, head_phase.non_trainable_params) == _summary_counts(
        reference)
    for layer in reference.layers[_BASE.layer_names().index("block2_conv1"):]:
        layer.trainable = True
    tune_phase = outcome.phases[1]
    assert (tune_phase.trainable_params, tune_phase.non_trainable_params) == _summary_counts(
        reference)
    assert tune_phase.non_trainable_params > 0 and head_phase.trainable_params > 0
    assert isinstance(reference, keras.Sequential)


def test_progress_runs_on_one_epoch_axis_across_both_phases() -> None:
    reports: list[TrainingProgress] = []
    fine_tune(_base(), stripes_dataset(), _plan(2, 2), progress=reports.append, report_every=3)
    assert {report.epochs for report in reports} == {4}
    assert max(report.epoch for report in reports) == 4
    last = reports[-1]
    assert len(last.history["loss"]) == 4
    xs = [point[0] for point in last.batch_curve]
    assert xs == sorted(xs) and xs[-1] == pytest.approx(4.0)
    assert [report.epoch for report in reports] == sorted(report.epoch for report in reports)


def test_the_worker_fine_tunes_as_this_process_does() -> None:
    here = fine_tune(_base(), stripes_dataset(), _plan(1, 1))
    weights_seen: list[int] = []
    there = finetune_in_worker(_base(), stripes_dataset(), _plan(1, 1),
                               TrainingHooks(epoch_weights=lambda done, weights:
                                             weights_seen.append(done)))
    assert there.phases == here.phases
    assert weights_seen == [1, 2]
    assert there.training.spec == here.training.spec
    for mine, theirs in zip(here.training.model.get_weights(),
                            there.training.model.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_a_trained_models_base_stops_before_its_classifier() -> None:
    full = _BASE.replace_layers((*_BASE.layers, *finetune_spec(
        _BASE, HeadSpec(), 2).layers[len(_BASE.layers):]))
    assert convolutional_base(full).layer_names() == _BASE.layer_names()
    model = build_model(full, seed=3)
    base = base_from_model(model, full, "trained")
    rebuilt = build_model(base.spec)
    rebuilt.set_weights(base.weights)
    for name in _BASE.layer_names():
        for mine, theirs in zip(_layer_weights(model, name), _layer_weights(rebuilt, name),
                                strict=True):
            assert mine.tobytes() == theirs.tobytes()
    assert default_unfreeze_from(_BASE) == "block2_conv1"


def test_an_unknown_unfreeze_layer_names_a_real_one() -> None:
    plan = FineTunePlan(unfreeze_from="block9_conv1")
    with pytest.raises(FineTuneError, match="e.g. block2_conv1. Received: unfreeze_from='block9"):
        fine_tune(_base(), stripes_dataset(), plan)


def test_missing_imagenet_weights_name_the_file_and_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FineTuneError) as caught:
        imagenet_base("vgg16", (32, 32, 3))
    message = str(caught.value)
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert str(tmp_path / "models") in message


def test_imagenet_weights_in_the_keras_folder_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = _saved_in_keras_folder(tmp_path, monkeypatch, "VGG16", seed=11,
                                   file_name="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
    base = imagenet_base("vgg16", (32, 32, 3))
    assert default_unfreeze_from(base.spec) == "block5_conv1"
    model = build_model(base.spec)
    model.set_weights(base.weights)
    for layer in saved.layers[1:]:
        for mine, theirs in zip(_layer_weights(model, layer.name),
                                [np.array(value) for value in layer.get_weights()], strict=True):
            assert mine.tobytes() == theirs.tobytes(), layer.name


def test_mobilenet_imagenet_weights_in_the_keras_folder_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the 224 file serves other sizes
    saved = _saved_in_keras_folder(tmp_path, monkeypatch, "MobileNet", seed=12,
                                   file_name="mobilenet_1_0_224_tf_no_top.h5")
    base = imagenet_base("mobilenet", (32, 32, 3))
    assert base.spec.layer_names() == tuple(layer.name for layer in saved.layers[1:])
    model = build_model(base.spec)
    model.set_weights(base.weights)
    for mine, theirs in zip(model.get_weights(), saved.get_weights(), strict=True):
        assert np.asarray(mine).tobytes() == np.asarray(theirs).tobytes()
