"""The host's limits, each checked here and nowhere else.

Every surface (the pages, the CLI, the training, bundle loading) calls these functions;
each raises `LimitError` naming the limit and the setting that raises it. A limit of 0
means "no limit".
"""

from __future__ import annotations

from cnnviz import settings as _settings
from cnnviz.errors import LimitError
from cnnviz.settings import Settings, setting_source
from cnnviz.shapes import readable_size

__all__ = [
    "LimitError",
    "check_activation_bytes",
    "check_epochs",
    "check_image_pixels",
    "check_layers",
    "check_params",
    "check_upload_bytes",
    "check_workspace_bytes",
    "model_limit_errors",
    "train_samples_cap",
]


def _host(host: Settings | None) -> Settings:
    return host if host is not None else _settings.get_settings()


def _size(count: int) -> str:
    return readable_size(count)


def _over(setting: str, limit: int, received: int, text: str, advice: str) -> LimitError:
    return LimitError(
        f"{text} {advice} The host can raise {setting_source(setting)}.",
        setting=setting, limit=limit, received=received,
    )  # fmt: skip


def check_params(total_params: int, host: Settings | None = None) -> None:
    limit = _host(host).max_params
    if limit and total_params > limit:
        raise _over("max_params", limit, total_params,
                    f"The model has {total_params:,} parameters, over this server's limit "
                    f"of {limit:,}.",
                    "Make it smaller: fewer filters, pooling before Flatten, or a smaller Dense "
                    "layer.")


def check_layers(layer_count: int, host: Settings | None = None) -> None:
    limit = _host(host).max_layers
    if limit and layer_count > limit:
        raise _over("max_layers", limit, layer_count,
                    f"The model has {layer_count:,} layers, over this server's limit "
                    f"of {limit:,}.", "Remove some layers.")


def check_epochs(epochs: int, host: Settings | None = None) -> None:
    limit = _host(host).max_epochs
    if limit and epochs > limit:
        raise _over("max_epochs", limit, epochs,
                    f"{epochs:,} epochs is over this server's limit of {limit:,}.",
                    "Choose fewer.")


def check_activation_bytes(needed: int, host: Settings | None = None) -> None:
    limit = _host(host).max_activation_bytes
    if limit and needed > limit:
        raise _over("max_activation_bytes", limit, needed,
                    f"One image through this model makes {_size(needed)} of feature maps, over "
                    f"this server's limit of {_size(limit)}.",
                    "Use a smaller input, fewer filters or pooling earlier.")


def check_upload_bytes(size: int, what: str, host: Settings | None = None) -> None:
    """`what` names the file, e.g. "photo.png" or "The bundle"."""
    limit = _host(host).max_upload_bytes
    if limit and size > limit:
        raise _over("max_upload_bytes", limit, size,
                    f"{what} is {size:,} bytes, over this server's limit of {limit:,}.",
                    "Use a smaller file.")


def check_image_pixels(width: int, height: int, what: str, host: Settings | None = None) -> None:
    limit = _host(host).max_image_pixels
    pixels = width * height
    if limit and pixels > limit:
        raise _over("max_image_pixels", limit, pixels,
                    f"{what} is {width:,}×{height:,} = {pixels:,} pixels, over this server's "
                    f"limit of {limit:,}.", "Shrink it first.")


def check_workspace_bytes(used: int, host: Settings | None = None) -> None:
    """A participant's stored weights and uploads, before one more run is kept."""
    limit = _host(host).workspace_quota_bytes
    if limit and used >= limit:
        raise _over("workspace_quota_bytes", limit, used,
                    f"Your workspace holds {_size(used)}, this server's limit per participant "
                    f"is {_size(limit)}, so new runs are not saved.",
                    "Download your workspace and delete it (sidebar), to start afresh.")


def train_samples_cap(available: int, host: Settings | None = None) -> tuple[int, str | None]:
    """How many training images a training may use, and a note when that is fewer."""
    limit = _host(host).max_train_samples
    if not limit or available <= limit:
        return available, None
    return limit, (f"Trained on {limit:,} of the {available:,} training images, the most this "
                   f"server uses; the host can raise {setting_source('max_train_samples')}.")


def model_limit_errors(
    layer_count: int, total_params: int, host: Settings | None = None
) -> list[LimitError]:
    """Every model-size limit the architecture is over (layers, then parameters)."""
    errors: list[LimitError] = []
    for check, value in ((check_layers, layer_count), (check_params, total_params)):
        try:
            check(value, host)
        except LimitError as error:
            errors.append(error)
    return errors
