"""First paint in a real browser: the Build page's summary table against a bare Streamlit page.

Run: .venv/bin/python bench/bench_first_paint.py [--loads 5] [--width 1280]

Starts `streamlit run app.py` and a bare one-table Streamlit page on free ports (the same
config, the same flags), then drives headless Chromium: each load is a new browser context
(a first visit: new session, empty cache), timed from navigation until the page's table is
drawn. Loads of the pages take turns, so all see the same machine. Idle, a third page
is measured as well: the bare table below 30 stock widgets (number inputs, select boxes,
buttons), what Streamlit's widgets alone cost a first visit. Two conditions:
idle, and while two trainings run in the app (started over the app's own websocket, as a
participant's Train button does, then polled as their browser does: the live fragment
alone, every `run_every` seconds). Prints the median and p95 of each and the ratios; only
ratios from one run compare, as the machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
TABLE = '[data-testid="stDataFrame"] [data-testid="data-grid-canvas"]'
BARE_PAGE = '''import streamlit as st

st.dataframe([{"#": str(i), "Layer (type)": f"dense_{i} (Dense)", "Output shape": "(None, 10)",
               "Param #": f"{i * 100:,}"} for i in range(8)], hide_index=True)
'''
# The bare table below 30 stock widgets (the Build page has about 35): what Streamlit's own
# widgets cost a first visit, whoever draws them.
WIDGETS_PAGE = BARE_PAGE.replace("import streamlit as st\n", """import streamlit as st

for i in range(10):
    st.number_input(f"number {i}", key=f"number_{i}")
    st.selectbox(f"choice {i}", ["a", "b"], key=f"choice_{i}")
    st.button(f"button {i}", key=f"button_{i}")
""", 1)
TRAINING_PRESET = "lenet-5"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def streamlit_server(script: Path) -> Iterator[str]:
    """A `streamlit run` of `script` from the repository (so with its config); its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"streamlit run {script.name} did not start") from None
                time.sleep(0.25)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def load_seconds(browser: Any, url: str, width: int, height: int) -> tuple[float, int]:
    """Seconds from navigation to the table drawn, for a first visit, and the requests the
    browser had sent by then (Streamlit loads a script chunk per kind of element)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        requests = [0]
        page.on("request", lambda _: requests.__setitem__(0, requests[0] + 1))
        start = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.wait_for_selector(TABLE, state="visible", timeout=120_000)
        return time.perf_counter() - start, requests[0]
    finally:
        context.close()


class Trainings:
    """Keeps `count` trainings running in the app until stopped (each restarts when done)."""

    def __init__(self, url: str, count: int) -> None:
        self.url, self.count = url, count
        self.started = 0
        self.polls = 0  # reruns of the live fragment, as the participants' browsers send them
        self.running = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> Trainings:
        self._thread.start()
        if not self.running.wait(timeout=180):
            raise RuntimeError("the trainings did not start")
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    async def _main(self) -> None:
        await asyncio.gather(*(self._trainer() for _ in range(self.count)))

    async def _trainer(self) -> None:
        from streamlit_client import StreamlitSession

        session = StreamlitSession(self.url)
        await session.connect()
        try:
            await session.rerun()
            # Picking a preset loads it (the picker's on_change); no button to press.
            await session.rerun(build_preset=("string_value", TRAINING_PRESET))
            await session.open_page("Train")
            await session.rerun(train_epochs=("double_value", 50.0))
            while not self._stop.is_set():
                await session.rerun(train_start=("trigger_value", True))
                self.started += 1
                if self.started >= self.count:
                    await asyncio.sleep(3.0)  # past the start, into the fitting
                    self.running.set()
                # Poll as the participant's browser does: only the live fragment reruns,
                # every `run_every` seconds, until the training ends and the page reruns.
                while not self._stop.is_set() and session.auto_reruns:
                    fragment_id, interval = next(iter(session.auto_reruns.items()))
                    await asyncio.sleep(interval)
                    await session.fragment_rerun(fragment_id)
                    self.polls += 1
                if not self._stop.is_set():
                    await session.rerun()  # the finished page, then the next training
            if "train_stop" in session.widget_ids:
                await session.rerun(train_stop=("trigger_value", True))
        finally:
            await session.close()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(browser: Any, pages: dict[str, str], loads: int, width: int, height: int,
            ) -> dict[str, list[tuple[float, int]]]:
    """`loads` first visits of each page (name: URL), the pages taking turns."""
    for url in pages.values():
        load_seconds(browser, url, width, height)  # each server's very first run is not a visit
    timings: dict[str, list[tuple[float, int]]] = {name: [] for name in pages}
    for _ in range(loads):
        for name, url in pages.items():
            timings[name].append(load_seconds(browser, url, width, height))
    return timings


def report(condition: str, timings: dict[str, list[tuple[float, int]]]) -> float:
    """Prints each page's figures and its ratio to the bare page; the Build page's ratio."""
    print(f"{condition}:")
    bare = [t for t, _ in timings["bare page"]]
    ratios = {}
    for name, loads in timings.items():
        times = [t for t, _ in loads]
        ratios[name] = statistics.median(times) / statistics.median(bare)
        print(f"  {name:<18} median {statistics.median(times):.2f} s  p95 {p95(times):.2f} s  "
              f"({', '.join(f'{t:.2f}' for t in times)}; "
              f"{statistics.median(n for _, n in loads):.0f} requests)"
              + ("" if name == "bare page" else
                 f"  ratio to bare: median {ratios[name]:.2f}×, p95 {p95(times) / p95(bare):.2f}×"))
    return ratios["Build page"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    parser.add_argument("--trainings", type=int, default=2)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        bare_script = Path(folder) / "bare_table.py"
        bare_script.write_text(BARE_PAGE, encoding="utf-8")
        widgets_script = Path(folder) / "bare_table_widgets.py"
        widgets_script.write_text(WIDGETS_PAGE, encoding="utf-8")
        with (streamlit_server(ROOT / "app.py") as app, streamlit_server(bare_script) as bare,
              streamlit_server(widgets_script) as widgets, sync_playwright() as playwright):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                 headless=True)
            print(f"{args.loads} first visits of each page at {args.width}×{args.height}, "
                  f"{os.cpu_count()} CPUs")
            idle = report("idle", measure(
                browser, {"bare page": bare, "Build page": app, "bare + 30 widgets": widgets},
                args.loads, args.width, args.height))
            with Trainings(app, args.trainings) as trainings:
                busy = report(f"while {args.trainings} trainings run",
                              measure(browser, {"bare page": bare, "Build page": app},
                                      args.loads, args.width, args.height))
                started, polls = trainings.started, trainings.polls
            browser.close()
    print(f"trainings started: {started}, live-panel polls: {polls}")
    print(f"targets: idle ≤ 1.3× ({'met' if idle <= 1.3 else 'NOT met'}), "
          f"training ≤ 2× ({'met' if busy <= 2.0 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
