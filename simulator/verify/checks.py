"""A check is one comparison of ledger and documents with a verdict a person can read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    expected: Any
    found: Any
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "expected": self.expected,
            "found": self.found,
            "detail": self.detail,
        }


def check_equal(name: str, expected: Any, found: Any, detail: str = "") -> Check:
    return Check(name, expected == found, expected, found, detail)


def check_at_least(name: str, minimum: int, found: int, detail: str = "") -> Check:
    return Check(name, found >= minimum, f">= {minimum}", found, detail)
