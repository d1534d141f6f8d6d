"""The one error every event parser raises, with a message naming the field and why."""

from __future__ import annotations

from pydantic import ValidationError


class EventError(ValueError):
    """An event that cannot be understood; the message says which field and why."""


def describe(exc: ValidationError) -> str:
    """A pydantic error as ``field.path: message; ...``."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)
