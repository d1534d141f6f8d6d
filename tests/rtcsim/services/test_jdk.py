from __future__ import annotations

from pathlib import Path

import pytest

from rtcsim.services.errors import JdkNotFoundError
from rtcsim.services.jdk import installed_jdks, java_major, jdk_for_elasticsearch, select_jdk


def fake_jdk(root: Path, name: str, version: str | None, *, java: bool = True) -> Path:
    home = root / name
    (home / "bin").mkdir(parents=True)
    if java:
        (home / "bin" / "java").write_text("#!/bin/sh\n")
    if version is not None:
        (home / "release").write_text(f'IMPLEMENTOR="x"\nJAVA_VERSION="{version}"\n')
    return home


@pytest.mark.parametrize(
    ("version", "major"),
    [("25.0.1", 25), ("21", 21), ("17.0.15", 17), ("1.8.0_392", 8), ("nonsense", None)],
)
def test_java_major_reads_both_version_schemes(version: str, major: int | None) -> None:
    assert java_major(version) == major


def test_the_newest_jdk_is_chosen_by_its_release_file_not_its_name(tmp_path: Path) -> None:
    fake_jdk(tmp_path, "java-17-openjdk-amd64", "17.0.15")
    newest = fake_jdk(tmp_path, "a-jdk", "25.0.1")
    fake_jdk(tmp_path, "zulu-21", "21.0.4")
    assert select_jdk(tmp_path).home == newest
    assert select_jdk(tmp_path).major == 25


def test_symlinked_aliases_and_folders_without_java_or_release_are_skipped(tmp_path: Path) -> None:
    real = fake_jdk(tmp_path, "java-17-openjdk-amd64", "17.0.15")
    (tmp_path / "java-1.17.0-openjdk-amd64").symlink_to(real)
    fake_jdk(tmp_path, "no-release", None)
    fake_jdk(tmp_path, "no-java", "30", java=False)
    assert [j.home for j in installed_jdks(tmp_path)] == [real]


def test_only_old_jdks_give_an_error_naming_them_and_how_to_install_one(tmp_path: Path) -> None:
    fake_jdk(tmp_path, "java-17-openjdk-amd64", "17.0.15")
    with pytest.raises(JdkNotFoundError) as caught:
        select_jdk(tmp_path)
    message = str(caught.value)
    assert "Java 21 or newer" in message
    assert "java-17-openjdk-amd64 (Java 17.0.15)" in message
    assert "apt-get install" in message


def test_no_jvm_folder_at_all_says_none_were_found(tmp_path: Path) -> None:
    with pytest.raises(JdkNotFoundError, match="none"):
        select_jdk(tmp_path / "missing")


@pytest.mark.parametrize(("es_major", "java"), [(7, 17), (8, 17), (9, 25)])
def test_each_elasticsearch_major_gets_the_newest_java_it_runs_on(
    tmp_path: Path, es_major: int, java: int
) -> None:
    """This machine's JDKs: 7.17 refuses Java 24+ (no Security Manager), 9.x needs 21+."""
    fake_jdk(tmp_path, "java-17-openjdk-amd64", "17.0.15")
    fake_jdk(tmp_path, "temurin-25-jdk-amd64", "25.0.1")
    assert jdk_for_elasticsearch(es_major, tmp_path).major == java


def test_a_major_with_no_fitting_jdk_names_the_range(tmp_path: Path) -> None:
    fake_jdk(tmp_path, "temurin-25-jdk-amd64", "25.0.1")
    with pytest.raises(JdkNotFoundError, match=r"Elasticsearch 7\.x needs Java 11 to 21"):
        jdk_for_elasticsearch(7, tmp_path)
