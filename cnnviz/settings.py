"""Limits and choices a host sets for a shared server: a TOML file, then environment variables.

Lookup order (later wins): defaults, the file named by `CNNVIZ_SETTINGS` (or `cnnviz.toml`
in the working directory), then `CNNVIZ_<FIELD>` variables, e.g. `CNNVIZ_MAX_EPOCHS=20`.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "TRAINING_BACKENDS",
    "Settings",
    "SettingsError",
    "get_settings",
    "load_settings",
    "setting_source",
]

SETTINGS_FILE = "cnnviz.toml"
TRAINING_BACKENDS = ("local", "ray")


class SettingsError(ValueError):
    """A settings file or variable that cannot be used; says which and why."""


@dataclass(frozen=True)
class Settings:
    max_params: int = 20_000_000
    max_layers: int = 100
    max_epochs: int = 50
    max_train_samples: int = 60_000
    max_upload_bytes: int = 50_000_000
    max_image_pixels: int = 40_000_000
    max_activation_bytes: int = 256_000_000
    max_concurrent_trainings: int = 2
    tf_threads: int = 0  # 0: TensorFlow's own choice
    warm_up: bool = True  # the Train page starts the training workers and loads TF
    presets: tuple[str, ...] = ()  # empty: every preset is offered
    datasets: tuple[str, ...] = ()  # empty: every dataset is offered
    store_url: str = ""  # a database URL (PostgreSQL for several replicas); empty: store_path
    store_path: str = "cnnviz-data/cnnviz.db"  # the SQLite file used when store_url is empty
    upload_cache: str = "cnnviz-data/uploads"  # uploaded datasets, by content hash
    workspace_keep_days: int = 30  # workspaces unseen this long are deleted; 0 keeps them
    workspace_quota_bytes: int = 500_000_000  # a participant's stored weights and uploads
    epoch_checkpoint_bytes: int = 20_000_000  # epoch weights kept per training; 0: no bound
    host_secret: str = ""  # signs the host in (the Host page); empty: no host sign-in
    training_backend: str = "local"  # "local": worker processes here; "ray": a Ray cluster
    ray_address: str = ""  # the Ray cluster's head, host:port (the "ray" backend)
    train_cpus: int = 1  # CPUs each training asks of the Ray cluster
    train_gpus: int = 0  # GPUs each training asks of the Ray cluster
    train_resources: tuple[str, ...] = ()  # custom Ray resources, e.g. "gpu_box=1"

    def __post_init__(self) -> None:
        if self.training_backend not in TRAINING_BACKENDS:
            raise SettingsError(
                f"Expected training_backend among {', '.join(TRAINING_BACKENDS)}. "
                f"Received: training_backend={self.training_backend!r}"
            )

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite:///{Path(self.store_path).expanduser().resolve()}"


def setting_source(field: str) -> str:
    """How a host raises a limit: the variable and the file key, for messages."""
    return f"{field} in {SETTINGS_FILE} or the CNNVIZ_{field.upper()} environment variable"


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _coerce(field: dataclasses.Field[Any], raw: Any, origin: str) -> Any:
    if field.type in ("bool", bool):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE + _FALSE:
            return text in _TRUE
        raise SettingsError(f"{origin}: {field.name} must be true or false, got {raw!r}")
    if field.type in ("str", str):
        if not isinstance(raw, str):
            raise SettingsError(f"{origin}: {field.name} must be text, got {raw!r}")
        return raw.strip()
    if field.type in ("int", int):
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise SettingsError(
                f"{origin}: {field.name} must be a whole number, got {raw!r}"
            ) from None
        if value < 0:
            raise SettingsError(f"{origin}: {field.name} must be 0 or more, got {raw!r}")
        return value
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
        raise SettingsError(f"{origin}: {field.name} must be a list of names, got {raw!r}")
    return tuple(item.strip() for item in items if item.strip())


def load_settings(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    environ = os.environ if environ is None else environ
    file_path = Path(path or environ.get("CNNVIZ_SETTINGS") or SETTINGS_FILE)
    values: dict[str, Any] = {}
    fields = {field.name: field for field in dataclasses.fields(Settings)}
    if file_path.is_file():
        try:
            data = tomllib.loads(file_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise SettingsError(f"{file_path}: cannot read the settings: {error}") from None
        section = data.get("cnnviz", data)
        for key, raw in section.items():
            if key not in fields:
                raise SettingsError(f"{file_path}: unknown setting {key!r}")
            values[key] = _coerce(fields[key], raw, str(file_path))
    for name, field in fields.items():
        variable = f"CNNVIZ_{name.upper()}"
        if variable in environ:
            values[name] = _coerce(field, environ[variable], variable)
    return Settings(**values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return load_settings()
