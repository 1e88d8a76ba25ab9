"""Writing folders of tables so that nothing is ever half-written or silently lost.

A folder is built under a temporary name beside its destination and renamed into place only
when complete; an existing destination is refused, or with ``replace=True`` moved aside (never
deleted), so a previous plan or dataset survives every mistake.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd


class OutputExistsError(FileExistsError):
    """The destination exists and replacing it was not asked for."""


def write_folder(destination: Path, fill: Callable[[Path], None], replace: bool = False) -> Path | None:
    """Run ``fill(tmp)`` on a fresh temporary folder, then rename it to ``destination``.

    Returns where a replaced destination was moved aside (None if there was none). If ``fill``
    raises, the temporary folder is removed and ``destination`` is untouched. Every file and
    folder is flushed to disk before the rename, and the rename itself after it, so a crash or a
    power cut leaves either the old state or the complete new folder, never a mix. A process
    killed while filling leaves only the hidden ``.<name>.*.partial`` folder, safe to delete.
    """
    destination = Path(destination)
    if destination.exists() and not replace:
        raise OutputExistsError(f"{destination} already exists; choose another --out or pass --force")
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the result is an ordinary folder
    try:
        fill(tmp)
        for path in sorted(tmp.rglob("*"), reverse=True):  # files, then the folders holding them
            _fsync(path)
        _fsync(tmp)
        moved_aside = None
        if destination.exists():
            moved_aside = _aside_name(destination)
            os.rename(destination, moved_aside)
        try:
            os.rename(tmp, destination)
        except OSError as error:
            if moved_aside is not None and not destination.exists():
                os.rename(moved_aside, destination)  # put the previous folder back where it was
            if destination.exists() and moved_aside is None:  # another run wrote it meanwhile: keep that one
                raise OutputExistsError(f"{destination} appeared while this one was written; nothing replaced") from error
            raise
        _fsync(destination.parent)
        return moved_aside
    except BaseException:
        _remove_uninterrupted(tmp)
        raise


def _remove_uninterrupted(folder: Path) -> None:
    """Remove ``folder`` with Ctrl-C held off: a second Ctrl-C during the clean-up after the
    first must not leave half of it behind."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals are not ours to hold
        previous = None
    try:
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _aside_name(destination: Path) -> Path:
    """``<name>.replaced-<timestamp>``, with a counter when that name is taken (two runs in one second)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = destination.with_name(f"{destination.name}.replaced-{stamp}")
    counter = 1
    while candidate.exists():
        counter += 1
        candidate = destination.with_name(f"{destination.name}.replaced-{stamp}-{counter}")
    return candidate


def _fsync(path: Path) -> None:
    """Flush a file's bytes, or a folder's list of names, to the disk."""
    if path.is_dir():
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except OSError:  # a platform that cannot open folders (Windows): names are flushed with the files
            return
        try:
            os.fsync(descriptor)
        except OSError:
            pass  # some file systems refuse fsync on a folder; the files themselves were flushed
        finally:
            os.close(descriptor)
        return
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """One table by the file's extension: Parquet, CSV (UTF-8 with BOM, for Excel) or XLSX.

    Spreadsheet cells are always text or numbers, never formulas: a business name may begin
    with '=' and must not run in an official's Excel.
    """
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame.to_parquet(path, index=False, engine="pyarrow")
    elif suffix == ".csv":
        frame.to_csv(path, index=False, encoding="utf-8-sig")
    elif suffix == ".xlsx":
        options = {"strings_to_formulas": False, "strings_to_urls": False}
        with pd.ExcelWriter(path, engine="xlsxwriter", date_format="yyyy-mm-dd",
                            engine_kwargs={"options": options}) as writer:  # fmt: skip
            frame.to_excel(writer, index=False, sheet_name=path.stem[:31])
    else:
        raise ValueError(f"unknown table format {suffix!r}")


def write_tables(tables: Mapping[str, pd.DataFrame], folder: Path, suffix: str) -> None:
    """Every table as ``<name><suffix>`` in ``folder``."""
    for name, frame in tables.items():
        write_table(frame, folder / f"{name}{suffix}")


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
