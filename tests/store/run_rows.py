"""A run row as the store tests start it: ten digit classes, an empty architecture."""

from __future__ import annotations

from cnnviz.store import Store


def start_run(store: Store, workspace_id: int, epochs: int = 3, *, seed: int) -> int:
    return store.start_run(workspace_id, architecture_json='{"layers": []}',
                           settings={"epochs": epochs, "seed": seed}, dataset_name="digits",
                           class_names=[str(n) for n in range(10)], epochs_total=epochs,
                           params=1234)
