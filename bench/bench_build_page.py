"""The Build page: from a change to the updated summary, and proof that it never imports TF.

Run: .venv/bin/python bench/bench_build_page.py [--server]

1. The page's own work per change (summary, advice, stack rows, table rows, block drawing)
   for the largest preset, in microseconds.
2. A whole page run after a change (Streamlit's AppTest runs the real page script).
3. With --server: a real `streamlit run app.py` and a websocket client that changes the
   first layer's `filters` and waits for the finished run (what a browser waits for).
4. Only then: `import keras` and the plain-Keras way to get the same numbers
   (build the model, `count_params()`), and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from timing import run_times  # noqa: E402

from cnnviz.advice import advise  # noqa: E402
from cnnviz.presets import PRESETS  # noqa: E402
from cnnviz.shapes import summarize  # noqa: E402
from cnnviz.spec import ModelSpec  # noqa: E402
from cnnviz.urlcodec import encode_spec  # noqa: E402

HEAVY = ("tensorflow", "keras")


def largest_preset() -> tuple[str, ModelSpec]:
    return max(PRESETS.items(), key=lambda item: summarize(item[1]).total_params)


def median_seconds(repeats: int, action: Callable[[], object]) -> float:
    return statistics.median(run_times(repeats, action))


def page_work(spec: ModelSpec) -> None:
    from ui.build.cube_svg import cube_svg
    from ui.build.stack import stack_rows
    from ui.build.summary import summary_rows

    summary = summarize(spec)
    advice = advise(spec, summary=summary, max_activation_bytes=256_000_000,
                    max_params=20_000_000)
    stack_rows(spec, summary, advice)
    summary_rows(spec, summary, advice)
    cube_svg(summary)


def apptest_rerun(spec: ModelSpec, repeats: int) -> float:
    from streamlit.testing.v1 import AppTest

    from ui.state import SPEC_KEY

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state[SPEC_KEY] = spec
    at.run()
    timings = []
    for value in range(repeats):
        filters = next(widget for widget in at.number_input if widget.label == "filters")
        filters.set_value(64 + value % 2)
        start = time.perf_counter()
        at.run()
        timings.append(time.perf_counter() - start)
        assert not at.exception, at.exception
    return statistics.median(timings)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _server_reruns(url: str, spec: ModelSpec, repeats: int) -> tuple[float, float]:
    from streamlit_client import StreamlitSession

    session = StreamlitSession(url)
    await session.connect()
    try:
        session.query_string = "arch=" + encode_spec(spec)
        first = await session.rerun()
        key = next(key for key in session.widget_ids if key.endswith("_0_Conv2D_filters"))
        timings = []
        for value in range(repeats):
            result = await session.rerun(**{key: ("int_value", 65 + value % 2)})
            if result.exceptions:
                raise RuntimeError(result.exceptions)
            timings.append(result.seconds)
        return first.seconds, statistics.median(timings)
    finally:
        await session.close()


def server_reruns(spec: ModelSpec, repeats: int) -> tuple[float, float]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.25)
        return asyncio.run(_server_reruns(url, spec, repeats))
    finally:
        server.terminate()
        server.wait(timeout=15)


def keras_way(spec: ModelSpec) -> tuple[float, float]:
    """(seconds to import keras, median seconds to build the model and count its params)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    start = time.perf_counter()
    import keras  # noqa: F401

    imported = time.perf_counter() - start
    from cnnviz.keras_build import build_model

    return imported, median_seconds(3, lambda: build_model(spec).count_params())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", action="store_true",
                        help="also time reruns of a real streamlit server over its websocket")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    # The page alone, here and in the server started below (it inherits the environment):
    # no background TensorFlow warm-up to share the interpreter with.
    os.environ["CNNVIZ_WARM_UP"] = "false"

    name, spec = largest_preset()
    summary = summarize(spec)
    print(f"largest preset: {name} ({len(spec.layers)} layers, {summary.total_params:,} params)")

    work = median_seconds(200, lambda: page_work(spec))
    print(f"page work per change (summary + advice + rows + drawing): {work * 1e3:.2f} ms")
    rerun = apptest_rerun(spec, args.repeats)
    print(f"whole page run after a change (AppTest, median of {args.repeats}): "
          f"{rerun * 1e3:.0f} ms")
    loaded = [module for module in HEAVY if module in sys.modules]
    print("TensorFlow/Keras imported by the Build page: "
          + (", ".join(loaded) if loaded else "no (checked in sys.modules)"))
    if loaded:
        return 1

    if args.server:
        first, change = server_reruns(spec, args.repeats)
        print(f"real server, websocket client: first page run {first * 1e3:.0f} ms; "
              f"a change to finished run, median of {args.repeats}: {change * 1e3:.0f} ms")

    imported, build = keras_way(spec)
    print(f"plain Keras: import {imported:.2f} s; build + count_params {build * 1e3:.0f} ms")
    print(f"ratio, Keras build / page work per change: {build / work:.0f}×")
    print(f"ratio, Keras import + build / whole page run: {(imported + build) / rerun:.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
