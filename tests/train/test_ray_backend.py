"""The `ray` training backend on a real two-node Ray cluster, all on loopback.

The head node says it is 127.0.0.2 and the second node 127.0.0.3 (with a custom resource
"second_node"), so that the two raylets stand in for two machines. Skipped when Ray
cannot start here, unless CNNVIZ_REQUIRE_RAY=1.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import ui.train.finetune
import ui.train.job
from cnnviz.archfile import dump_architecture
from cnnviz.cli import main
from cnnviz.data import load_dataset
from cnnviz.keras_build import build_model
from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec
from cnnviz.spec import ModelSpec
from cnnviz.train import (
    FineTunePlan,
    HeadSpec,
    PretrainedBase,
    TrainingError,
    TrainingHooks,
    TrainingProgress,
    TrainingSettings,
    base_from_model,
    finetune_spec,
    predicted_labels,
)
from cnnviz.train.backends import LocalBackend, RayBackend, builtin_source, ray_init_arguments
from ui.train.finetune import FineTuneJob
from ui.train.job import TrainingJob

HEAD_IP, SECOND_IP = "127.0.0.2", "127.0.0.3"
RAY = str(Path(sys.executable).with_name("ray"))


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _ray_command(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RAY, *arguments], env=env, capture_output=True, text=True, timeout=180, check=False
    )


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """The head's address; the cluster is stopped (`ray stop --force`) afterwards."""
    required = os.environ.get("CNNVIZ_REQUIRE_RAY") == "1"
    tmp = tempfile.mkdtemp(prefix="ray")  # short: Ray's socket paths must stay short
    env = {**os.environ, "RAY_TMPDIR": tmp, "RAY_USAGE_STATS_ENABLED": "0"}
    port = _free_port(HEAD_IP)
    address = f"{HEAD_IP}:{port}"
    head = _ray_command(
        "start",
        "--head",
        f"--node-ip-address={HEAD_IP}",
        f"--port={port}",
        "--num-cpus=1",
        "--include-dashboard=false",
        "--disable-usage-stats",
        env=env,
    )
    second = (
        head
        if head.returncode
        else _ray_command(
            "start",
            f"--address={address}",
            f"--node-ip-address={SECOND_IP}",
            "--num-cpus=1",
            '--resources={"second_node": 1}',
            env=env,
        )
    )
    try:
        if second.returncode:
            message = f"Ray cannot start here: {(second.stderr or second.stdout)[-500:]}"
            if required:
                pytest.fail(message)
            pytest.skip(message)
        os.environ["RAY_TMPDIR"] = tmp
        yield address
    finally:
        import ray

        ray.shutdown()
        _ray_command("stop", "--force", env=env)


def _spec() -> ModelSpec:
    return ModelSpec(
        input_shape=(8, 8, 1),
        layers=(
            Conv2DSpec(filters=8, kernel_size=(3, 3), activation="relu"),
            FlattenSpec(),
            DenseSpec(units=10, activation="softmax"),
        ),
        name="small",
    )


SETTINGS = TrainingSettings(epochs=1, batch_size=16, learning_rate=0.01)


def test_a_loopback_address_keeps_the_driver_on_that_address() -> None:
    assert ray_init_arguments("127.0.0.2:6379")["_node_ip_address"] == "127.0.0.2"
    assert "_node_ip_address" not in ray_init_arguments("10.0.0.5:6379")
    with pytest.raises(TrainingError, match="ray_address"):
        ray_init_arguments("")


def test_ray_gives_the_accuracy_local_gives_and_streams_progress(cluster: str) -> None:
    digits = load_dataset("digits")
    reports: list[TrainingProgress] = []
    placed: list[str] = []
    on_ray = RayBackend(cluster).train(
        _spec(),
        digits,
        SETTINGS,
        TrainingHooks(progress=reports.append, report_every=5, on_placed=placed.append),
        source=builtin_source(digits),
    )
    here = LocalBackend().train(_spec(), digits, SETTINGS)
    assert on_ray.test_accuracy == here.test_accuracy > 0.5
    assert placed and placed[0] in (HEAD_IP, SECOND_IP)
    assert len(reports) > 3 and reports[-1].epoch == 1
    predicted = predicted_labels(on_ray.model.predict(digits.x_test, verbose=0), 0.5)
    assert on_ray.test_accuracy == pytest.approx(float(np.mean(predicted == digits.y_test)))


def test_a_training_from_given_weights_on_ray_is_the_one_made_here(cluster: str) -> None:
    digits = load_dataset("digits")
    start = build_model(_spec(), seed=11).get_weights()
    on_ray = RayBackend(cluster).train(_spec(), digits, SETTINGS, source=builtin_source(digits),
                                       initial_weights=start)
    here = LocalBackend().train(_spec(), digits, SETTINGS, initial_weights=start)
    seeded = LocalBackend().train(_spec(), digits, SETTINGS)
    assert on_ray.test_accuracy == here.test_accuracy
    for mine, theirs in zip(here.model.get_weights(), on_ray.model.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    assert any(not np.allclose(a, b) for a, b in zip(
        here.model.get_weights(), seeded.model.get_weights(), strict=True))


def test_stop_after_the_first_report_keeps_the_trained_weights(cluster: str) -> None:
    digits = load_dataset("digits")
    stop = threading.Event()
    result = RayBackend(cluster).train(
        _spec(), digits, TrainingSettings(epochs=5, batch_size=16, learning_rate=0.01),
        TrainingHooks(progress=lambda progress: stop.set(), stop_event=stop, report_every=2),
    )  # fmt: skip
    assert result.stopped and result.epochs_completed < 5
    untrained = RayBackend(cluster).train(
        _spec(), digits, TrainingSettings(epochs=1, batch_size=16, learning_rate=0.0001),
        TrainingHooks(stop_event=_always_set()),
    )  # fmt: skip
    weights, first = result.model.get_weights(), untrained.model.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(weights, first, strict=True))
    predicted = predicted_labels(result.model.predict(digits.x_test, verbose=0), 0.5)
    assert result.test_accuracy == pytest.approx(float(np.mean(predicted == digits.y_test)))


def _always_set() -> threading.Event:
    event = threading.Event()
    event.set()
    return event


def test_a_training_asking_for_the_custom_resource_runs_on_the_second_node(
    cluster: str,
) -> None:
    placed: list[str] = []
    epochs: list[int] = []
    result = RayBackend(cluster, resources={"second_node": 1}).train(
        _spec(), load_dataset("digits"), SETTINGS, TrainingHooks(
            on_placed=placed.append, epoch_weights=lambda done, weights: epochs.append(done)),
    )  # fmt: skip
    assert placed == [SECOND_IP]
    assert epochs == [1] and result.epochs_completed == 1


def test_the_command_line_trains_on_ray_as_it_trains_here(
    cluster: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    architecture = tmp_path / "small.json"
    architecture.write_text(dump_architecture(_spec()))
    common = ["train", str(architecture), "--dataset", "digits", "--epochs", "1", "--json",
              "--batch-size", "16", "--learning-rate", "0.01"]  # fmt: skip
    assert main([*common, "--backend", "ray", "--ray-address", cluster]) == 0
    on_ray = capsys.readouterr()
    assert main([*common, "--backend", "local"]) == 0
    here = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert json.loads(on_ray.out.splitlines()[-1])["test_accuracy"] == here["test_accuracy"]
    assert "training on the Ray node at 127.0.0." in on_ray.err


def _second_node_processes() -> list[int]:
    """The second node's raylet and its children (the training's worker among them)."""
    raylets = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            words
            and words[0].endswith(b"/raylet")
            and f"--node_ip_address={SECOND_IP}".encode() in words
        ):
            raylets.append(int(entry.name))
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", ",".join(map(str, raylets))],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return [int(pid) for pid in children] + raylets


def _job_on(settings: TrainingSettings) -> TrainingJob:
    """The app's training job (what the Train page polls) on the small digits model."""
    digits = load_dataset("digits")
    job = TrainingJob(spec=_spec(), dataset=digits, settings=settings)
    job.source = builtin_source(digits)
    job.thread = threading.Thread(target=job.run, daemon=True)
    return job


def _the_apps_backend(cluster: str, monkeypatch: pytest.MonkeyPatch, method: str,
                      page: ModuleType) -> list[str]:
    """A Ray backend asking for the second node becomes `page`'s `training_backend`; its
    `method` (train or fine_tune) notes where each training was placed in the list returned."""
    placed: list[str] = []
    backend = RayBackend(cluster, resources={"second_node": 1})
    original = getattr(backend, method)
    monkeypatch.setattr(backend, method, lambda what, data, plan, hooks, **kwargs: original(
        what, data, plan, dataclasses.replace(hooks, on_placed=placed.append), **kwargs))
    monkeypatch.setattr(page, "training_backend", lambda: backend)
    return placed


def test_the_app_job_trains_through_the_configured_backend(
    cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    placed = _the_apps_backend(cluster, monkeypatch, "train", ui.train.job)
    job = _job_on(SETTINGS)
    job.run()
    assert job.state == "finished" and job.progress is not None and placed == [SECOND_IP]
    assert job.result is not None and job.result.epochs_completed == 1 and job.x_test is not None


def _conv(name: str) -> dict[str, object]:
    return {"class_name": "Conv2D", "config": {"filters": 4, "kernel_size": 3, "padding": "same",
                                               "activation": "relu", "name": name}}


def _base() -> PretrainedBase:
    """The convolutional base of a small digits model (untrained: its seeded weights)."""
    trained = ModelSpec.from_dict({
        "name": "digits-net", "input_shape": [8, 8, 1],
        "layers": [_conv("block1_conv1"), {"class_name": "MaxPooling2D",
                                           "config": {"pool_size": 2, "name": "block1_pool"}},
                   _conv("block2_conv1"), {"class_name": "Flatten", "config": {}},
                   {"class_name": "Dense", "config": {"units": 10, "activation": "softmax"}}],
    })
    return base_from_model(build_model(trained, seed=3), trained, "digits-net")


def _plan(head_epochs: int = 1) -> FineTunePlan:
    def phase(rate: float, epochs: int) -> TrainingSettings:
        return TrainingSettings(optimizer="rmsprop", learning_rate=rate, epochs=epochs,
                                schedule="constant", batch_size=16)

    return FineTunePlan("block2_conv1", HeadSpec(dense_units=(8,)), phase(1e-3, head_epochs),
                        phase(1e-4, 1))


def test_a_fine_tuning_on_ray_is_the_one_made_here_and_streams_both_phases(
    cluster: str,
) -> None:
    digits, base, plan = load_dataset("digits"), _base(), _plan()
    reports: list[TrainingProgress] = []
    epochs: list[int] = []
    placed: list[str] = []
    on_ray = RayBackend(cluster, resources={"second_node": 1}).fine_tune(
        base, digits, plan, TrainingHooks(
            progress=reports.append, on_placed=placed.append,
            epoch_weights=lambda done, weights: epochs.append(done)),
        source=builtin_source(digits),
    )  # fmt: skip
    here = LocalBackend().fine_tune(base, digits, plan)
    assert placed == [SECOND_IP] and epochs == [1, 2]
    assert [report.epochs for report in reports] == [2] * len(reports)
    assert reports[-1].epoch == 2 and reports[-1].phase == "done"
    assert on_ray.phases == here.phases and on_ray.boundary_epoch == 1
    assert on_ray.phases[1].first_trainable_layer == "block2_conv1"
    model = on_ray.training.model
    assert model.get_layer("block1_conv1").trainable is False
    predicted = predicted_labels(model.predict(digits.x_test, verbose=0), 0.5)
    accuracy = float(np.mean(predicted == digits.y_test))
    assert on_ray.training.test_accuracy == pytest.approx(accuracy)
    assert on_ray.training.test_accuracy == here.training.test_accuracy


def test_a_stop_in_phase_1_on_ray_keeps_its_weights_and_skips_phase_2(cluster: str) -> None:
    digits, stop = load_dataset("digits"), threading.Event()
    outcome = RayBackend(cluster).fine_tune(
        _base(), digits, _plan(head_epochs=5),
        TrainingHooks(progress=lambda progress: stop.set(), stop_event=stop, report_every=2),
        source=builtin_source(digits),
    )  # fmt: skip
    assert outcome.training.stopped and len(outcome.phases) == 1
    assert outcome.training.epochs_completed < 5


def test_the_app_fine_tunes_through_the_configured_backend(
    cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    placed = _the_apps_backend(cluster, monkeypatch, "fine_tune", ui.train.finetune)
    digits, base, plan = load_dataset("digits"), _base(), _plan()
    job = FineTuneJob(spec=finetune_spec(base.spec, plan.head, 10, 2), dataset=digits,
                      settings=plan.combined_settings, phase_boundary=1,
                      base_loader=lambda: base, plan=plan)
    job.source = builtin_source(digits)
    job.run()
    assert job.state == "finished", job.error
    assert placed == [SECOND_IP]
    assert job.progress is not None and job.progress.epoch == 2
    record = job.finetune_record()
    assert record is not None and record.boundary_epoch == 1 and record.base == "digits-net"
    assert job.result is not None and job.result.epochs_completed == 2


def test_killing_the_second_node_mid_training_is_a_clear_message_in_the_app(
    cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_second = RayBackend(cluster, resources={"second_node": 1})
    monkeypatch.setattr(ui.train.job, "training_backend", lambda: on_second)
    job = _job_on(TrainingSettings(epochs=50, batch_size=8, learning_rate=0.001))
    assert job.thread is not None
    job.thread.start()
    while job.progress is None and job.thread.is_alive():
        job.thread.join(0.1)
    for pid in _second_node_processes():
        os.kill(pid, signal.SIGKILL)
    job.thread.join(180)
    assert job.state == "failed" and job.error is not None
    assert "lost" in job.error and SECOND_IP in job.error
    monkeypatch.setattr(ui.train.job, "training_backend", lambda: RayBackend(cluster))
    after = _job_on(SETTINGS)
    after.run()
    assert after.state == "finished"  # the rest of the cluster still trains
