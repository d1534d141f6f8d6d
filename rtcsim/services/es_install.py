"""Getting an Elasticsearch distribution onto this machine and ready to run as a non-root user.

The distribution comes from Maven Central (``integ-test-zip``: the smallest one, no bundled JDK,
no X-Pack ML), fetched with ``mvn`` so proxies and mirrors configured for Maven apply. It is
unpacked once into ``cache_dir`` and copied into ``<state_dir>/elasticsearch/home`` for the
Elasticsearch OS user: Elasticsearch refuses to run as root, writes its keystore into
``config/``, and the user must be able to reach every folder on the way (``/root`` is 0700, so
the cache under ``~/.cache`` is not reachable for it).
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import zipfile
from pathlib import Path

from rtcsim.services.errors import CommandError, ElasticsearchError, MavenError
from rtcsim.services.process import run

MAVEN_GROUP = "org.elasticsearch.distribution.integ-test-zip"
MAVEN_ARTIFACT = "elasticsearch"
UNPACKED_MARKER = ".rtcsim-unpacked"


def maven_repository() -> Path:
    return Path.home() / ".m2" / "repository"


def maven_zip_path(version: str, repository: Path | None = None) -> Path:
    """Where ``mvn dependency:get`` leaves the distribution zip."""
    repo = repository or maven_repository()
    group = Path(*MAVEN_GROUP.split("."))
    return repo / group / MAVEN_ARTIFACT / version / f"{MAVEN_ARTIFACT}-{version}.zip"


def fetch_zip(version: str, *, repository: Path | None = None, mvn: str = "mvn") -> Path:
    """The distribution zip for ``version``, downloaded with Maven unless already in the repo."""
    zip_path = maven_zip_path(version, repository)
    if zip_path.is_file():
        return zip_path
    argv = [
        mvn, "-B", "-q", "dependency:get",
        f"-Dartifact={MAVEN_GROUP}:{MAVEN_ARTIFACT}:{version}:zip",
        "-Dtransitive=false",
    ]  # fmt: skip
    if repository is not None:
        argv.append(f"-Dmaven.repo.local={repository}")
    try:
        run(argv, timeout_s=900)
    except CommandError as exc:
        missing = exc.returncode is None
        raise MavenError(
            f"could not download Elasticsearch {version} with Maven"
            + (" (mvn is not installed)" if missing else ""),
            details=exc.details,
            hint="run `make setup` to install Maven"
            if missing
            else "check that the version exists on Maven Central and that Maven can reach it "
            "(proxy or mirror in ~/.m2/settings.xml)",
        ) from exc
    if not zip_path.is_file():
        raise MavenError(f"Maven succeeded but {zip_path} is not there")
    return zip_path


def unpack(zip_path: Path, target: Path) -> Path:
    """Unpack ``zip_path`` (one top folder) into ``target``, keeping executable bits.

    ``zipfile`` drops Unix modes, so they are restored from each entry's external attributes.
    The work happens in a sibling folder renamed at the end, so an interrupted unpack is
    never mistaken for a complete one.
    """
    if (target / UNPACKED_MARKER).exists():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for info in archive.infolist():
                parts = Path(info.filename).parts[1:]  # drop "elasticsearch-<ver>/"
                if not parts or ".." in parts or Path(info.filename).is_absolute():
                    continue
                dest = partial.joinpath(*parts)
                mode = (info.external_attr >> 16) & 0o7777
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, dest.open("wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                if mode:
                    dest.chmod(mode)
    except (zipfile.BadZipFile, OSError) as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise ElasticsearchError(
            f"cannot unpack {zip_path}: {exc}",
            hint=f"delete {zip_path} so it is downloaded again",
        ) from exc
    (partial / UNPACKED_MARKER).write_text(zip_path.name + "\n")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def ensure_os_user(name: str) -> pwd.struct_passwd:
    """The system user Elasticsearch runs as, created (no home, no login shell) if missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    try:
        run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            hint="creating a user needs root",
        )
    except CommandError as exc:
        raise ElasticsearchError(
            f"cannot create the system user {name!r} Elasticsearch runs as",
            details=exc.details,
            hint="run as root, or create the user yourself and set RTCSIM_ES_OS_USER",
        ) from exc
    return pwd.getpwnam(name)


def chown_tree(root: Path, uid: int, gid: int) -> None:
    """Give ``root`` and everything below it to ``uid:gid`` (no symlink following)."""
    os.chown(root, uid, gid, follow_symlinks=False)
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


def install_home(unpacked: Path, home: Path, user: pwd.struct_passwd) -> Path:
    """A copy of the distribution at ``home``, owned by ``user``; reused when up to date."""
    marker = home / UNPACKED_MARKER
    wanted = (unpacked / UNPACKED_MARKER).read_text()
    if marker.exists() and marker.read_text() == wanted:
        chown_tree(home / "config", user.pw_uid, user.pw_gid)
        return home
    shutil.rmtree(home, ignore_errors=True)
    home.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(unpacked, home, symlinks=True)
    chown_tree(home, user.pw_uid, user.pw_gid)
    return home


def check_reachable(path: Path, user: str) -> None:
    """Fail early, with the folder to fix, if ``user`` cannot reach ``path``.

    Asking the kernel (``setpriv ... test``) is exact; reasoning about modes and ACLs is not.
    """
    if _can_enter(path, user):
        return
    blocked = next(f for f in [*reversed(path.parents), path] if not _can_enter(f, user))
    mode = stat.filemode(blocked.stat().st_mode) if blocked.exists() else "missing"
    raise ElasticsearchError(
        f"user {user!r} cannot enter {blocked} ({mode}), so Elasticsearch cannot run from {path}",
        hint="set RTCSIM_STATE_DIR to a folder every user can traverse "
        "(e.g. under /var/lib or /srv)",
    )


def _can_enter(folder: Path, user: str) -> bool:
    try:
        run(
            [
                "setpriv",
                f"--reuid={user}",
                f"--regid={user}",
                "--init-groups",
                "test",
                "-x",
                str(folder),
            ]
        )
    except CommandError:
        return False
    return True
