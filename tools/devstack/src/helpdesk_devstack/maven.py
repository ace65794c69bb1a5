"""Jars from Maven Central for the local stack's JVM servers (Kafka, GreenMail).

Each server has a small ``pom.xml`` in ``tools/devstack/<server>/`` that pins its version;
``mvn dependency:copy-dependencies`` copies what it names into ``<repo>/.local/<server>/libs``.
No tarball download and no Docker: Maven Central is one of the registries every machine reaches.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from helpdesk_devstack.errors import DevstackError

Progress = Callable[[str], None]

_STAMP = ".installed-from-pom-sha256"
_MVN_FIX = "apt-get install maven"


def no_progress(_: str) -> None:
    return None


def _pom_hash(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def jars_installed(libs_dir: Path, marker: str, pom: Path | None = None) -> bool:
    """True when ``libs_dir`` holds a jar matching ``marker`` (copied from ``pom`` if given)."""
    if not any(libs_dir.glob(marker)):
        return False
    if pom is None:
        return True
    stamp = libs_dir / _STAMP
    return stamp.is_file() and stamp.read_text().strip() == _pom_hash(pom)


def install_jars(
    pom: Path, libs_dir: Path, *, marker: str, what: str, progress: Progress = no_progress
) -> bool:
    """Copy the jars that ``pom`` pins into ``libs_dir``; True when it copied, False when done.

    Idempotent: a stamp file keyed to the pom's hash skips the work when nothing changed. The copy
    goes to a sibling directory first and replaces ``libs_dir`` whole, so an interrupted or
    changed install never leaves two versions of a jar on the classpath.
    """
    if jars_installed(libs_dir, marker, pom):
        return False
    libs_dir.parent.mkdir(parents=True, exist_ok=True)
    # Two installers at once (pytest-xdist workers, `make up` in two terminals) would share the
    # staging directory: let one do the work and the other find it done.
    with (libs_dir.parent / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if jars_installed(libs_dir, marker, pom):
            return False
        _copy_jars(pom, libs_dir, marker, what, progress)
    return True


def _copy_jars(pom: Path, libs_dir: Path, marker: str, what: str, progress: Progress) -> None:
    if not pom.is_file():
        raise DevstackError(f"{what} pom not found at {pom}", f"restore {pom}")
    mvn = shutil.which("mvn")
    if mvn is None:
        raise DevstackError(f"mvn (Maven) not found: it fetches the {what} jars", _MVN_FIX)
    staging = libs_dir.with_name(libs_dir.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    progress(f"fetching {what} jars from Maven Central into {libs_dir}")
    argv = [
        mvn,
        "-q",
        "-B",
        "-Dstyle.color=never",  # plain text in our error messages
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
    ]
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv
            argv, capture_output=True, text=True, timeout=900, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise DevstackError(
            f"Maven took more than 15 minutes to fetch the {what} jars",
            "check the network access to Maven Central (proxy settings in ~/.m2/settings.xml)",
        ) from error
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip().splitlines()[-30:]
        raise DevstackError(
            f"Maven failed to fetch the {what} jars (exit {done.returncode}): {' '.join(argv)}",
            "check the network access to Maven Central (proxy settings in ~/.m2/settings.xml) "
            f"and the versions pinned in {pom}; run the command above for the full output",
            "\n".join(f"    {line}" for line in output),
        )
    if not any(staging.glob(marker)):
        raise DevstackError(f"Maven ran but {staging} holds no {marker}", f"check {pom}")
    (staging / _STAMP).write_text(_pom_hash(pom) + "\n")
    shutil.rmtree(libs_dir, ignore_errors=True)
    staging.rename(libs_dir)
