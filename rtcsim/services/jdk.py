"""Choosing a Java runtime for Elasticsearch.

The integ-test distribution of Elasticsearch ships without a bundled JDK, and each major runs
on its own range of Java versions (Elastic's support matrix, "Product and JVM"): 7.17 on Java
11 to 21 (it relies on the Security Manager, which Java 24 removed), 8.x on 17 to 24, 9.x on 21
or newer, while Debian 12's default ``java`` is 17. So we look at every JDK installed under
``/usr/lib/jvm``, reading each one's ``release`` file (the version the JDK itself declares)
rather than trusting directory names, and take the newest one in the version's range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rtcsim.services.errors import JdkNotFoundError

JVM_ROOT = Path("/usr/lib/jvm")
MIN_JAVA_FOR_ELASTICSEARCH = 21
JAVA_FOR_ELASTICSEARCH: dict[int, tuple[int, int | None]] = {
    7: (11, 21),
    8: (17, 24),
    9: (21, None),
}
"""Elasticsearch major → the oldest and newest Java it runs on (``None``: no upper bound)."""


@dataclass(frozen=True, order=True)
class Jdk:
    """One installed JDK: its feature version (``major``) and where it lives."""

    major: int
    version: str
    home: Path


def java_major(version: str) -> int | None:
    """The feature release of a ``JAVA_VERSION`` string: ``"25.0.1"`` → 25, ``"1.8.0_392"`` → 8."""
    m = re.match(r"(\d+)(?:\.(\d+))?", version)
    if m is None:
        return None
    first = int(m.group(1))
    if first == 1 and m.group(2) is not None:  # the pre-9 scheme: 1.8 is Java 8
        return int(m.group(2))
    return first


def read_release(home: Path) -> str | None:
    """``JAVA_VERSION`` from ``<home>/release``, or ``None`` when the file has none."""
    try:
        text = (home / "release").read_text(errors="replace")
    except OSError:
        return None
    m = re.search(r'^JAVA_VERSION="?([^"\n]+)"?', text, re.MULTILINE)
    return m.group(1) if m else None


def installed_jdks(root: Path = JVM_ROOT) -> list[Jdk]:
    """Every JDK under ``root`` with a ``release`` file and a ``bin/java``, newest first.

    Debian adds symlinked aliases (``java-1.17.0-openjdk-amd64``); each JDK is listed once.
    """
    found: dict[Path, Jdk] = {}
    try:
        candidates = sorted(root.iterdir())
    except OSError:
        return []
    for home in candidates:
        real = home.resolve()
        if real in found or not (real / "bin" / "java").is_file():
            continue
        version = read_release(real)
        major = java_major(version) if version else None
        if version is None or major is None:
            continue
        found[real] = Jdk(major=major, version=version, home=real)
    return sorted(found.values(), reverse=True)


def select_jdk(
    root: Path = JVM_ROOT,
    *,
    minimum: int = MIN_JAVA_FOR_ELASTICSEARCH,
    maximum: int | None = None,
    what: str = "Elasticsearch",
) -> Jdk:
    """The newest JDK under ``root`` from ``minimum`` to ``maximum``; else an error saying why."""
    jdks = installed_jdks(root)
    for jdk in jdks:
        if jdk.major >= minimum and (maximum is None or jdk.major <= maximum):
            return jdk
    seen = ", ".join(f"{j.home.name} (Java {j.version})" for j in jdks) or "none"
    wanted = f"Java {minimum} or newer" if maximum is None else f"Java {minimum} to {maximum}"
    raise JdkNotFoundError(
        f"{what} needs {wanted}; JDKs found under {root}: {seen}",
        hint=f"install one, e.g. `apt-get install temurin-{maximum or minimum}-jdk` from the "
        "Adoptium repository (https://adoptium.net/installation/linux/) or Debian's "
        f"openjdk-{minimum}-jdk-headless, or run `make setup`",
    )


def jdk_for_elasticsearch(major: int, root: Path = JVM_ROOT) -> Jdk:
    """The newest installed JDK that Elasticsearch ``major`` runs on."""
    minimum, maximum = JAVA_FOR_ELASTICSEARCH.get(major, (MIN_JAVA_FOR_ELASTICSEARCH, None))
    return select_jdk(root, minimum=minimum, maximum=maximum, what=f"Elasticsearch {major}.x")
