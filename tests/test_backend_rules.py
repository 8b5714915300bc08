"""cnnviz's verdict on unequal depthwise strides against TensorFlow's, with oneDNN on and off.

Each case runs in a fresh process, because TensorFlow reads TF_ENABLE_ONEDNN_OPTS once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cnnviz import backend_rules

_VERDICTS = """
import json
import numpy as np
import keras
from cnnviz.archfile import load_architecture
from cnnviz.spec import SpecError

try:
    model = keras.Sequential([keras.Input((8, 8, 2)),
                              keras.layers.DepthwiseConv2D(3, strides=(1, 2))])
    model(np.ones((1, 8, 8, 2), "float32"))
    keras_runs = True
except Exception:
    keras_runs = False
try:
    load_architecture({"input_shape": [8, 8, 2], "layers": [
        {"class_name": "DepthwiseConv2D", "config": {"kernel_size": 3, "strides": [1, 2]}}]})
    cnnviz_accepts = True
except SpecError:
    cnnviz_accepts = False
print(json.dumps({"keras": keras_runs, "cnnviz": cnnviz_accepts}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("switch", ["0", "1"])
def test_unequal_depthwise_strides_verdict_matches_tensorflow(switch: str) -> None:
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": switch, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", _VERDICTS], env=env, capture_output=True,
                          text=True, timeout=300, check=True)
    verdicts = json.loads(done.stdout.strip().splitlines()[-1])
    assert verdicts["cnnviz"] == verdicts["keras"], verdicts


def test_onednn_switch_overrides_the_cpu_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend_rules.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(backend_rules, "_cpu_flags", lambda: frozenset({"avx512_vnni"}))
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    assert backend_rules.onednn_enabled()
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert not backend_rules.onednn_enabled()
    monkeypatch.setattr(backend_rules, "_cpu_flags", lambda: frozenset({"avx2"}))
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    assert backend_rules.onednn_enabled()
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS")
    assert not backend_rules.onednn_enabled()


def test_no_onednn_off_x86(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend_rules.platform, "machine", lambda: "aarch64")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    assert not backend_rules.onednn_enabled()
