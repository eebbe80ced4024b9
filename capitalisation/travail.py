"""A private working folder for one command: the temporary copies of deliveries live there.

Reading a delivery makes temporary copies (converted CSV files, typed Parquet files) that
may hold what a refused delivery should never have held. They go into a folder readable by
the owner only, beside the warehouse (or the reports) rather than in the system's shared
temporary folder; every temporary file of the process, and of the programs it starts, goes
there (`tempfile.tempdir` and TMPDIR). The folder is removed when the command ends, and the
folders that killed commands left are removed when the next one starts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


def processus_vivant(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def nettoyer(parent: Path, prefixe: str) -> None:
    """Remove `<parent>/<prefixe>-<pid>` folders whose process is gone."""
    if not Path(parent).is_dir():
        return
    for reste in Path(parent).glob(f"{prefixe}-*"):
        try:
            pid = int(reste.name.rsplit("-", 1)[1])
        except ValueError:
            pid = 0
        if pid and pid != os.getpid() and processus_vivant(pid):
            continue
        shutil.rmtree(reste, ignore_errors=True)


@contextmanager
def dossier_prive(parent: Path, prefixe: str = ".travail"):
    """`<parent>/<prefixe>-<pid>/`, the process's temporary folder while the block runs."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    nettoyer(parent, prefixe)
    dossier = parent / f"{prefixe}-{os.getpid()}"
    dossier.mkdir(mode=0o700, exist_ok=True)
    ancien_tempdir, ancien_tmpdir = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = str(dossier)
    os.environ["TMPDIR"] = str(dossier)
    try:
        yield dossier
    finally:
        tempfile.tempdir = ancien_tempdir
        if ancien_tmpdir is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = ancien_tmpdir
        shutil.rmtree(dossier, ignore_errors=True)
