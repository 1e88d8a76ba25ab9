"""Writing folders of tables so that nothing is ever half-written or silently lost.

A folder is built under a temporary name beside its destination and renamed into place only
when complete; an existing destination is refused, or with ``replace=True`` moved aside (never
deleted), so a previous plan or dataset survives every mistake.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import shutil
import signal
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from planner.messages import console_lang, text


class OutputError(OSError):
    """The destination cannot be written; the message is a sentence for the user."""


class OutputExistsError(OutputError, FileExistsError):
    """The destination exists and replacing it was not asked for."""


class Moved(tuple):
    """The folders a replacing write moved aside, in order (printed as a list of paths)."""

    def __str__(self) -> str:
        return ", ".join(str(path) for path in self)


#: bytes the planner adds to a folder's name for its temporary and moved-aside names
#: (``.<name>.xxxxxxxx.partial``, ``<name>.replaced-YYYYmmdd-HHMMSS-NN``)
_NAME_ROOM = 30


def _say(message_id: str, **fields) -> str:
    """An error's sentence in the console's language (planner.messages)."""
    return text(message_id, console_lang()).format(**fields)


def check_destination(destination: Path, replace: bool = False, advice: str = "out_or_force") -> None:
    """Raise ``OutputError`` when ``destination`` cannot become a new folder — before any work is
    done, so that a long solve is not lost to a typo: the root, a name too long for the file
    system, a path below a file, a folder that cannot be written, or (without ``replace``) a
    destination that exists. ``advice`` (``out_or_force``, ``out``, ``file``) says what to do about
    an existing one."""
    destination = Path(destination)
    absolute = Path(os.path.abspath(destination))
    if absolute == Path(absolute.anchor):
        raise OutputError(_say("output.root", path=destination))
    if os.path.lexists(destination) and not replace:
        raise OutputExistsError(_say("output.exists", path=destination, advice=_say(f"output.advice.{advice}")))
    ancestor = absolute.parent
    while not os.path.lexists(ancestor) and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(_say("output.below_file", path=destination, ancestor=ancestor))
    name_max = _pathconf(ancestor, "PC_NAME_MAX", 255)
    for part in absolute.relative_to(ancestor).parts:
        if len(os.fsencode(part)) + _NAME_ROOM > name_max:
            size, most = len(os.fsencode(part)), name_max - _NAME_ROOM
            raise OutputError(
                _say("output.name_too_long", path=destination, part=repr(part[:40]), size=size, most=most)
            )
    if len(os.fsencode(str(absolute))) + 2 * _NAME_ROOM > _pathconf(ancestor, "PC_PATH_MAX", 4096):
        raise OutputError(_say("output.path_too_long", path=destination))
    if not writable(ancestor):
        raise OutputError(_say("output.not_writable", path=destination, ancestor=ancestor))


def writable(folder: Path) -> bool:
    """Whether a folder can be made inside ``folder``: asked of the system, then tried (a read-only
    mount, or a root that may not write there, answers only to a real try)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".planner-probe.", dir=folder))
    except OSError:
        return False
    return True


def _pathconf(folder: Path, name: str, default: int) -> int:
    try:
        return os.pathconf(folder, name)
    except (OSError, ValueError, AttributeError):  # not on this platform or file system
        return default


def write_folder(destination: Path, fill: Callable[[Path], None], replace: bool = False) -> Moved | None:
    """Run ``fill(tmp)`` on a fresh temporary folder, then rename it to ``destination``.

    Returns the folders a replaced destination was moved aside to (None if there was none). If
    ``fill`` raises, the temporary folder is removed and ``destination`` is untouched. Every file
    and folder is flushed to disk before the rename, and the rename itself after it, so a crash or
    a power cut leaves either the old state or the complete new folder, never a mix. A process
    killed while filling leaves only the hidden ``.<name>.*.partial`` folder, safe to delete.

    Concurrent runs: the rename never replaces a folder that holds anything (the system refuses
    it), and a complete plan always does, so exactly one run writing a new destination wins; the
    others find it there. With ``replace`` a run moves whatever is under the name aside, again
    if another run's folder appears meanwhile, and returns every folder it moved.
    """
    destination = Path(destination)
    check_destination(destination, replace)
    destination.parent.mkdir(parents=True, exist_ok=True)
    # named before it is made, and made inside the try: a Ctrl-C the moment after it exists
    # (before a name returned from mkdtemp was held) would leave it behind
    tmp: Path | None = destination.parent / f".{destination.name}.{secrets.token_hex(8)}.partial"
    moved: list[Path] = []
    try:
        try:
            os.mkdir(tmp)  # an ordinary folder (the umask's mode), never one that was there
        except FileExistsError:
            tmp = None  # another run's, never ours to remove (16 random hex digits: all but never)
            raise
        fill(tmp)
        for path in sorted(tmp.rglob("*"), reverse=True):  # files, then the folders holding them
            _fsync(path)
        _fsync(tmp)
        for _ in range(_RENAME_TRIES):
            if replace and os.path.lexists(destination):
                aside = _aside_name(destination)
                try:
                    os.rename(destination, aside)
                    moved.append(aside)
                except OSError:  # another run moved it first, or took that aside name: look again
                    continue
            try:
                os.rename(tmp, destination)
                break
            except OSError as error:
                if not os.path.lexists(destination):
                    if moved:  # put the previous folder back where it was
                        try:
                            os.rename(moved[-1], destination)
                            moved.pop()
                        except OSError:
                            pass
                    if moved:
                        raise OutputError(
                            f"{destination} was not written ({error.strerror}); what was there is now {Moved(moved)}"
                        ) from error
                    raise
                if not replace:  # another run wrote it meanwhile: keep that one
                    raise OutputExistsError(
                        f"{destination} already exists: another run wrote it while this one "
                        "was working; nothing was replaced"
                    ) from error
        else:
            raise OutputError(
                f"{destination} kept being replaced by other runs; this plan was not written"
                + (f" (the folders moved aside: {Moved(moved)})" if moved else "")
            )
        _fsync(destination.parent)
        return Moved(moved) if moved else None
    except BaseException as error:
        # a second Ctrl-C pending behind the first (both arrive during one long C call) is raised
        # at the first call made here: the temporary folder is removed whatever happens meanwhile
        try:
            if (
                isinstance(error, OSError)
                and not isinstance(error, OutputError)
                and error.errno is not None
                and error.filename is None
                and tmp is not None
            ):  # a write that failed names no file: the last one written
                error.filename = _last_written(tmp, destination)
        finally:
            if tmp is not None:
                _remove_uninterrupted(tmp)
        raise


def _last_written(tmp: Path, destination: Path) -> str | None:
    """The file of ``tmp`` written last, as it would have been named under ``destination``."""
    try:
        files = [(path.stat().st_mtime_ns, path) for path in tmp.rglob("*") if path.is_file()]
    except OSError:
        return None
    return str(destination / max(files)[1].relative_to(tmp)) if files else None


_RENAME_TRIES = 20


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
        with pd.ExcelWriter(
            path, engine="xlsxwriter", date_format="yyyy-mm-dd", engine_kwargs={"options": options}
        ) as writer:
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
