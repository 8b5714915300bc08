"""What one refresh of the host's room view costs, with 30 participants who each have a
model and a few runs: the room's one query plus the table it draws, against the plain way
(each participant's runs read on their own, one query each).

Run: .venv/bin/python bench/bench_room_view.py [--participants 30] [--store sqlite|postgresql]
The view refreshes every 3 s; one refresh should stay a small fraction of that.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
from collections.abc import Iterator
from pathlib import Path

from throwaway_postgres import throwaway_postgres
from timing import run_times

from cnnviz.archfile import dump_architecture
from cnnviz.presets import PRESETS
from cnnviz.store import RoomStore, Store, open_store
from ui.host.room_view import room_rows

MODELS = ("chollet-mnist-convnet", "lenet-5", "tiny-vgg", "keras-cifar10-cnn", "separable-convnet")


def fill(store: Store, participants: int, runs_each: int) -> None:
    names = [name for name in MODELS if name in PRESETS]
    for index in range(participants):
        workspace = store.open_workspace(None)
        store.set_display_name(workspace.id, f"Participant {index:02d}")
        architecture = dump_architecture(PRESETS[names[index % len(names)]], indent=None)
        store.save_architecture(workspace.id, architecture)
        for run in range(runs_each):
            run_id = store.start_run(workspace.id, architecture_json=architecture,
                                     settings={"epochs": 5}, dataset_name="shapes",
                                     class_names=["a", "b", "c"], epochs_total=5,
                                     params=10_000 + run)
            if run < runs_each - 1 or index % 3:  # every third one is still training
                store.finish_run(run_id, status="finished", history={"loss": [1.0] * 5},
                                 epochs_completed=5, test_accuracy=0.5 + run / 20,
                                 test_loss=0.7, test_images=600, confusion=[[1]],
                                 seconds_per_epoch=2.5, weights=b"w" * 50_000)


@contextlib.contextmanager
def store_at(kind: str) -> Iterator[Store]:
    if kind == "postgresql":
        with throwaway_postgres() as url:
            yield open_store(url)
        return
    with tempfile.TemporaryDirectory() as folder:
        yield open_store(f"sqlite:///{Path(folder) / 'bench.db'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=30)
    parser.add_argument("--runs", type=int, default=4, help="runs per participant")
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    with store_at(args.store) as store:
        fill(store, args.participants, args.runs)
        room = RoomStore(store)
        first = run_times(1, lambda: room_rows(room.room_view()))[0]  # model summaries made
        refresh = run_times(args.repeats, lambda: room_rows(room.room_view()))
        query = run_times(args.repeats, room.room_view)
        workspaces = [view.participant_id for view in room.room_view()]
        plain = run_times(max(5, args.repeats // 5),
                          lambda: [store.runs(workspace) for workspace in workspaces])

    def ms(values: list[float]) -> str:
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        return f"median {statistics.median(values) * 1000:7.2f} ms · p95 {p95 * 1000:7.2f} ms"

    print(f"room view, {args.participants} participants × {args.runs} runs, {args.store}")
    print(f"  first refresh (summaries computed)  {first * 1000:7.2f} ms")
    print(f"  one refresh (query + table)         {ms(refresh)}")
    print(f"    of which the one query            {ms(query)}")
    print(f"  plain way (one query per person)    {ms(plain)}")
    print(f"  ratio plain / room view             "
          f"{statistics.median(plain) / statistics.median(refresh):.1f}×")
    print(f"  share of one core at one refresh every 3 s: "
          f"{statistics.median(refresh) / 3.0:.2%}")


if __name__ == "__main__":
    main()
