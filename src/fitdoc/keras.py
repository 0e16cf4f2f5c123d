"""``from fitdoc.keras import Doctor``: the Keras callback (see :mod:`fitdoc.integrations.keras`)."""

from .integrations.keras import Doctor, describe, preflight

__all__ = ["Doctor", "describe", "preflight"]
