"""Workshop load test: N simultaneous sessions build, train briefly and view feature maps.

Starts `streamlit run app.py` on a free loopback port, holds N sessions over Streamlit's own
websocket protocol (no browser per session), and prints: sessions held, p50/p95 time of a
Build-page edit while trainings run, trainings completed/queued, errors, lost architectures,
peak memory of the server. Bounded in time; loopback only.

The workspace store is on, as in a workshop: each simulated session has no cookie, so it is
a new participant with its own workspace. `--store sqlite` (default) keeps it in a SQLite
file in a temp dir; `--store postgresql` starts a throwaway PostgreSQL cluster on loopback;
`--store-url URL` uses a database you started. Afterwards it prints the workspaces opened,
the runs stored against the trainings completed (lost runs) and the database size per run.

`--backend ray` trains on a two-node Ray cluster started on loopback (127.0.0.2 and
127.0.0.3, one CPU each) behind `--replicas` app servers (2 by default), the sessions spread
over them in turn; with `--store postgresql` the replicas share the room's queue too.

A host signs in and keeps the Host page open, its live room view redrawn every 3 s as a
browser does it (the room view's fragment alone); the host asks the room a question and
each participant answers it once. Participants rerun their pages' timed fragments (the
room's question) during their think time, as their browsers would. It prints the host's
refresh p50/p95 beside the edits'. `--no-host` leaves the host out.

Run: .venv/bin/python bench/load_test.py [--sessions 30] [--trainers 6] [--seconds 180] [--think 5]
     [--lead 30] [--store sqlite|postgresql] [--store-url URL] [--backend local|ray]
     [--replicas N] [--no-host] [--no-fragments]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ray_cluster import loopback_cluster  # noqa: E402
from streamlit_client import RunResult, StreamlitSession  # noqa: E402
from throwaway_postgres import throwaway_postgres  # noqa: E402

from cnnviz.presets import PRESETS  # noqa: E402
from cnnviz.settings import get_settings  # noqa: E402
from cnnviz.shapes import summarize  # noqa: E402
from cnnviz.train import choose_loss  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUILD, TRAIN, FEATURES, HOST = "", "Train", "Feature_maps", "Host"
HOST_SECRET = "load-test-host-secret"
HOST_REFRESH_SECONDS = 3.0
# Digits has 10 classes: the presets that end in 10 class scores (not vgg16-base, say), and
# that this server lets a participant train (vgg16 is over the default max_params).
TRAINABLE_PRESETS = [name for name, spec in PRESETS.items() if choose_loss(spec, 10).ok
                     and summarize(spec).total_params <= get_settings().max_params]


@dataclass
class Tally:
    edit_seconds: list[float] = field(default_factory=list)
    edit_seconds_while_training: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    trainings_started: int = 0
    training_seconds: list[float] = field(default_factory=list)  # Train pressed → results
    unfinished: list[str] = field(default_factory=list)  # the page's last words, per training
    trainings_completed: int = 0
    queued_seen: int = 0
    feature_views: int = 0
    lost_architectures: int = 0
    sessions_held: int = 0
    trainings_running: int = 0
    host_refresh_seconds: list[float] = field(default_factory=list)  # the room view's redraws
    fragment_seconds: list[float] = field(default_factory=list)  # participants' timed fragments
    answers_sent: int = 0
    host_saw_answers: int = 0  # the most answers the host's view counted


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(port: int, store_env: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CNNVIZ_TF_THREADS": os.environ.get("CNNVIZ_TF_THREADS", "1"),
           "CNNVIZ_HOST_SECRET": HOST_SECRET, **store_env}
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.enableXsrfProtection", "false", "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("the app did not start within 120 s")


def peak_memory_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


def check(result: RunResult, tally: Tally, where: str) -> None:
    tally.errors += [f"{where}: {message}" for message in result.exceptions]


RERUN_FRAGMENTS = True  # --no-fragments: participants' timed fragments are left out


async def think_time(session: StreamlitSession, tally: Tally, seconds: float) -> None:
    """Wait `seconds`, rerunning the page's timed fragments (`run_every`) on time, as the
    participant's browser does meanwhile."""
    if not RERUN_FRAGMENTS:
        await asyncio.sleep(seconds)
        return
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        interval = min(session.auto_reruns.values(), default=left)
        await asyncio.sleep(min(left, interval))
        if time.monotonic() >= end:
            return
        for fragment_id in list(session.auto_reruns):
            result = await session.fragment_rerun(fragment_id)
            check(result, tally, "timed fragment")
            tally.fragment_seconds.append(result.seconds)


async def answer_the_question(session: StreamlitSession, tally: Tally, number: int) -> None:
    """The host's question, answered once, where the Build page shows it."""
    if "build_room_guess" not in session.widget_ids:
        return
    guess = ("26x26x32", "13 x 13 x 32", "(26, 26, 32)")[number % 3]
    result = await session.rerun(build_room_guess=("string_value", guess),
                                 build_room_send=("trigger_value", True))
    check(result, tally, "answer the question")
    tally.answers_sent += 1


async def edit_loop(
    session: StreamlitSession, tally: Tally, until: float, think: float, rng: random.Random,
    number: int = 0,
) -> None:
    """Add a layer, then undo it: edits that leave the architecture as it was, each followed
    by a participant's think time (uniform between half and one and a half `think`); the
    host's question is answered once, when it shows."""
    answered = False
    while time.monotonic() < until:
        for key in ("build_add", "build_undo"):
            result = await session.rerun(**{key: ("trigger_value", True)})
            check(result, tally, key)
            tally.edit_seconds.append(result.seconds)
            if tally.trainings_running:
                tally.edit_seconds_while_training.append(result.seconds)
            if not answered and "build_room_guess" in session.widget_ids:
                await answer_the_question(session, tally, number)
                answered = True
            await think_time(session, tally, think * rng.uniform(0.5, 1.5))


async def host_watches_the_room(url: str, tally: Tally, until: float) -> None:
    """The host signs in, asks the room a question and keeps the Host page open: its live
    room view (one fragment) is redrawn every 3 s, timed."""
    host = StreamlitSession(url)
    try:
        await host.connect()
        check(await host.rerun(), tally, "host")
        check(await host.rerun(host_secret_typed=("string_value", HOST_SECRET),
                               host_sign_in_submit=("trigger_value", True)), tally, "sign in")
        check(await host.rerun(), tally, "host")  # the sign-in's own rerun may still be on
        check(await host.open_page(HOST), tally, "open Host")
        check(await host.rerun(host_quiz_ask=("trigger_value", True)), tally, "ask")
        while time.monotonic() < until:
            await asyncio.sleep(HOST_REFRESH_SECONDS)
            for fragment_id in list(host.auto_reruns):
                result = await host.fragment_rerun(fragment_id)
                check(result, tally, "host refresh")
                tally.host_refresh_seconds.append(result.seconds)
                counted = [int(found) for text in result.texts
                           for found in re.findall(r"\*\*(\d+) answered:", text)]
                tally.host_saw_answers = max([tally.host_saw_answers, *counted])
    except Exception as error:  # a load test reports every failure instead of stopping
        tally.errors.append(f"host: {type(error).__name__}: {error}")
    finally:
        await host.close()


async def train_once(session: StreamlitSession, tally: Tally, until: float) -> None:
    result = await session.open_page(TRAIN)
    check(result, tally, "open Train")
    result = await session.rerun(train_epochs=("double_value", 1.0))
    check(result, tally, "set epochs")
    result = await session.rerun(train_start=("trigger_value", True))
    check(result, tally, "train")
    tally.trainings_started += 1
    tally.trainings_running += 1
    pressed = time.monotonic()
    text = ""
    try:
        while time.monotonic() < until:
            await asyncio.sleep(2.0)
            result = await session.rerun()
            check(result, tally, "poll training")
            text = " ".join(result.texts)
            if "queued" in text.lower():
                tally.queued_seen += 1
            if "Test accuracy" in text or "test accuracy" in text:
                tally.trainings_completed += 1
                tally.training_seconds.append(time.monotonic() - pressed)
                return
            if any(words in text for words in
                   ("Training failed", "training process ended", "training was lost")):
                tally.errors.append(f"training failed: {text[-300:]}")
                return
        tally.unfinished.append(text[-300:])
    finally:
        tally.trainings_running -= 1


async def participant(
    url: str, number: int, trainer: bool, tally: Tally, until: float, think: float
) -> None:
    session = StreamlitSession(url)
    offered = TRAINABLE_PRESETS if trainer else list(PRESETS)
    preset = offered[number % len(offered)]
    try:
        await session.connect()
        check(await session.rerun(), tally, "first load")
        check(await session.rerun(build_preset=("string_value", preset)), tally, "load preset")
        tally.sessions_held += 1
        if trainer:
            await train_once(session, tally, until)
            result = await session.open_page(FEATURES)
            check(result, tally, "feature maps")
            tally.feature_views += 1
            check(await session.open_page(BUILD), tally, "back to Build")
        await edit_loop(session, tally, until, think, random.Random(number), number)
        final = await session.rerun()
        check(final, tally, "final")
        if f"Build · {preset}" not in " ".join(final.texts):
            tally.lost_architectures += 1
    except Exception as error:  # a load test reports every failure instead of stopping
        tally.errors.append(f"session {number}: {type(error).__name__}: {error}")
    finally:
        await session.close()


async def host_opens_the_app(url: str, lead: float, tally: Tally) -> None:
    """The host opens the app and its Train page `lead` seconds before the room arrives,
    as the README advises (the warm-up starts)."""
    host = StreamlitSession(url)
    try:
        await host.connect()
        check(await host.rerun(), tally, "host")
        check(await host.open_page(TRAIN), tally, "host opens Train")
    finally:
        await host.close()
    await asyncio.sleep(lead)


async def run(
    urls: list[str], sessions: int, trainers: int, seconds: float, think: float, lead: float,
    tally: Tally, host: bool = True,
) -> None:
    for url in urls[:-1]:
        await host_opens_the_app(url, 0.0, tally)
    await host_opens_the_app(urls[-1], lead, tally)
    until = time.monotonic() + seconds
    tasks = []
    if host:
        tasks.append(asyncio.create_task(host_watches_the_room(urls[0], tally, until)))
        await asyncio.sleep(1.0)  # the question is asked before the room arrives
    for number in range(sessions):
        url = urls[number % len(urls)]  # the proxy's sticky spread, one replica per session
        tasks.append(asyncio.create_task(
            participant(url, number, number < trainers, tally, until, think)))
        await asyncio.sleep(0.2)  # a room does not click at the very same millisecond
    await asyncio.gather(*tasks)


@dataclass(frozen=True)
class StoreFigures:
    workspaces: int
    runs_kept: int  # finished or stopped, with their weights
    runs_other: int  # running, interrupted, or without weights
    database_bytes: int
    weights_bytes: int  # the runs' weights blobs (bundles), all together


@contextmanager
def workspace_store(kind: str, url: str | None) -> Iterator[tuple[str, dict[str, str]]]:
    """The store's URL and the environment that points the server at it."""
    with tempfile.TemporaryDirectory(prefix="cnnviz-load-") as folder:
        uploads = {"CNNVIZ_UPLOAD_CACHE": str(Path(folder) / "uploads")}
        if url:
            yield url, {"CNNVIZ_STORE_URL": url, **uploads}
        elif kind == "postgresql":
            with throwaway_postgres() as made:
                yield made, {"CNNVIZ_STORE_URL": made, **uploads}
        else:
            path = Path(folder) / "cnnviz.db"
            yield f"sqlite:///{path}", {"CNNVIZ_STORE_PATH": str(path), "CNNVIZ_STORE_URL": "",
                                        **uploads}


def store_figures(url: str) -> StoreFigures:
    import sqlalchemy as sa

    from cnnviz.store import open_store
    from cnnviz.store.schema import participants, runs

    store = open_store(url)
    with store.engine.connect() as db:
        workspaces = db.execute(sa.select(sa.func.count()).select_from(participants)).scalar_one()
        kept = db.execute(sa.select(sa.func.count()).select_from(runs).where(
            runs.c.status.in_(("finished", "stopped")), runs.c.weights_bytes > 0)).scalar_one()
        total = db.execute(sa.select(sa.func.count()).select_from(runs)).scalar_one()
        weights = db.execute(sa.select(sa.func.coalesce(sa.func.sum(runs.c.weights_bytes), 0))
                             ).scalar_one()
        if store.engine.dialect.name == "postgresql":
            size = db.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
        else:
            database = store.engine.url.database or ""
            size = sum(Path(database + suffix).stat().st_size
                       for suffix in ("", "-wal") if Path(database + suffix).exists())
    store.engine.dispose()
    return StoreFigures(int(workspaces), int(kept), int(total) - int(kept), int(size),
                        int(weights))


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--trainers", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--think", type=float, default=5.0,
                        help="mean seconds a participant waits between two edits")
    parser.add_argument("--lead", type=float, default=30.0,
                        help="seconds between the host opening the app and the room joining")
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite",
                        help="the workspace store: a SQLite file, or a throwaway PostgreSQL "
                        "cluster started for this run")
    parser.add_argument("--store-url", default="",
                        help="an existing, empty database instead (e.g. postgresql://…)")
    parser.add_argument("--backend", choices=("local", "ray"), default="local",
                        help="ray: a two-node Ray cluster on loopback trains")
    parser.add_argument("--no-fragments", action="store_true",
                        help="participants do not rerun their pages' timed fragments")
    parser.add_argument("--no-host", action="store_true",
                        help="leave out the host watching the room view")
    parser.add_argument("--replicas", type=int, default=None,
                        help="app servers sharing the store (default: 1, or 2 with ray)")
    args = parser.parse_args()
    args.replicas = args.replicas or (2 if args.backend == "ray" else 1)
    global RERUN_FRAGMENTS
    RERUN_FRAGMENTS = not args.no_fragments
    with workspace_store(args.store, args.store_url) as (url, store_env):
        if args.backend == "ray":
            with loopback_cluster(nodes=2, cpus=1) as address:
                tally = load(args, {**store_env, "CNNVIZ_TRAINING_BACKEND": "ray",
                                    "CNNVIZ_RAY_ADDRESS": address})
        else:
            tally = load(args, store_env)
        figures = store_figures(url)
    print(f"workspace store:          {args.store_url and 'given URL' or args.store}")
    print(f"workspaces opened:        {figures.workspaces} (each session a new participant, "
          "and the host)")
    print(f"runs stored:              {figures.runs_kept} with results and weights "
          f"(+{figures.runs_other} unfinished)")
    completed = tally.trainings_completed
    print(f"lost runs:                {max(0, completed - figures.runs_kept)} "
          f"(trainings completed {completed}, runs stored {figures.runs_kept})")
    runs = figures.runs_kept + figures.runs_other
    print(f"database size:            {figures.database_bytes / 1e6:.2f} MB for {runs} runs "
          f"and {figures.workspaces} workspaces, "
          f"{figures.database_bytes / max(1, runs) / 1e6:.3f} MB per run (weights blobs "
          f"{figures.weights_bytes / max(1, runs) / 1e6:.3f} MB per run)")


def load(args: argparse.Namespace, store_env: dict[str, str]) -> Tally:
    """Run the room against a server using the store; print the room's figures."""
    servers = {}
    for _ in range(args.replicas):
        port = free_port()
        servers[f"http://127.0.0.1:{port}"] = start_server(port, store_env)
    tally = Tally()
    started = time.monotonic()
    try:
        asyncio.run(asyncio.wait_for(
            run(list(servers), args.sessions, args.trainers, args.seconds,
                args.think, args.lead, tally, host=not args.no_host),
            timeout=args.lead + args.seconds + 300,
        ))
    except TimeoutError:
        tally.errors.append("the load test ran past its time bound")
    finally:
        memory = max(peak_memory_mb(server.pid) for server in servers.values())
        for server in servers.values():
            server.terminate()
            server.wait(timeout=30)
    print(f"training backend:         {args.backend}, {args.replicas} replica(s)"
          + (" (a two-node Ray cluster on loopback)" if args.backend == "ray" else ""))
    print(f"sessions held:            {tally.sessions_held} of {args.sessions} "
          f"({args.trainers} train; think time {args.think:g} s between edits; the host "
          f"opened the app {args.lead:g} s before)")
    print(f"wall time:                {time.monotonic() - started:.0f} s")
    print(f"edits answered:           {len(tally.edit_seconds)}")
    print(f"edit p50 / p95 (all):     {statistics.median(tally.edit_seconds or [0]):.3f} s / "
          f"{percentile(tally.edit_seconds, 0.95):.3f} s")
    print(f"edit p50 / p95 (training):"
          f" {statistics.median(tally.edit_seconds_while_training or [0]):.3f} s / "
          f"{percentile(tally.edit_seconds_while_training, 0.95):.3f} s "
          f"({len(tally.edit_seconds_while_training)} edits while trainings ran)")
    if tally.fragment_seconds:
        print(f"timed fragments p50 / p95: {statistics.median(tally.fragment_seconds):.3f} s / "
              f"{percentile(tally.fragment_seconds, 0.95):.3f} s "
              f"({len(tally.fragment_seconds)} reruns of the participants' timed fragments)")
    if not args.no_host:
        print(f"host room view p50 / p95: "
              f"{statistics.median(tally.host_refresh_seconds or [0]):.3f} s / "
              f"{percentile(tally.host_refresh_seconds, 0.95):.3f} s "
              f"({len(tally.host_refresh_seconds)} redraws every {HOST_REFRESH_SECONDS:g} s)")
        print(f"room question:            {tally.answers_sent} answers sent, the host's view "
              f"counted {tally.host_saw_answers}")
    print(f"trainings started / completed: {tally.trainings_started} / "
          f"{tally.trainings_completed} (queued state seen {tally.queued_seen} times)")
    if tally.training_seconds:
        turnaround = tally.training_seconds
        print(f"training turnaround:      median {statistics.median(turnaround):.0f} s, "
              f"longest {max(turnaround):.0f} s (Train pressed → results shown, queue "
              "included)")
    for words in tally.unfinished:
        print(f"  still going at the end: …{words}")
    print(f"feature-map views:        {tally.feature_views}")
    print(f"errors:                   {len(tally.errors)}")
    for error in tally.errors[:10]:
        print(f"  {error}")
    print(f"lost architectures:       {tally.lost_architectures}")
    print(f"server peak memory:       {memory:,.0f} MB (the largest replica)")
    return tally


if __name__ == "__main__":
    main()
