"""Writing outputs safely: atomic writes (a reader or a crash never sees a half-written file) that
follow the umask, output paths checked before the work that fills them, run folders claimed by one
process at a time, and the temporary files of a killed write cleaned up by the next run."""

from __future__ import annotations

import errno
import fcntl
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TextIO

LOCK_NAME = ".pokernet.lock"


def _umask() -> int:
    """The process umask, read without changing it where Linux allows (os.umask can only set it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a plain ``open`` gives a new file: 0666 less the umask (mkstemp gives 0600)."""
    return 0o666 & ~_umask()


Content = Callable[[BinaryIO], object] | str | bytes


class WriteError(ValueError):
    """An output could not be written (full disk, permissions): one line naming the file."""


def _write_temporary(path: Path, content: Content) -> Path:
    """``content`` (text, bytes, or a function filling a binary file) in a new temporary file beside
    ``path``, flushed to disk, with the mode a plain ``open`` would give (0666 less the umask)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as handle:
            if callable(content):
                content(handle)
            else:
                handle.write(content.encode("utf-8") if isinstance(content, str) else content)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_all(contents: dict[str | os.PathLike, Content]) -> list[Path]:
    """The one writer of every output: each file goes to a temporary file beside it, and only when
    all are written are they renamed into place, so a reader or a crash never sees a half-written
    file and a failure leaves none of them changed (all-or-nothing for a table's .md and .csv).
    A full disk or a permission error is one WriteError naming the file; temporary files left by
    a killed earlier write of the same names are removed first."""
    temps: list[tuple[Path, Path]] = []
    path = Path()
    try:
        for path, content in ((Path(p), c) for p, c in contents.items()):
            if path.parent.is_dir():
                remove_stale_temporaries(path.parent, (path.name,))
            temps.append((_write_temporary(path, content), path))
        for tmp, path in temps:
            os.replace(tmp, path)
    except OSError as error:
        raise WriteError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
    return [path for _, path in temps]


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Let ``write`` fill a temporary file in the same folder, then rename it into place."""
    return write_all({path: write})[0]


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return write_all({path: text})[0]


# the form of the temporary files our writers make: tempfile.mkstemp's 8 random characters between
# ".NAME." and ".tmp" (or NAME's suffix, the figures' older naming)
_RANDOM_PART = re.compile(r"[a-z0-9_]{8}")


def _temporary_of(entry: str, name: str) -> bool:
    """Whether ``entry`` is a temporary file of a write of ``name``, compared as text (never a pattern)."""
    prefix = f".{name}."
    if not entry.startswith(prefix):
        return False
    rest = entry[len(prefix) :]
    return any(
        rest.endswith(suffix) and _RANDOM_PART.fullmatch(rest[: -len(suffix)])
        for suffix in {".tmp", Path(name).suffix or ".tmp"}
    )


def remove_stale_temporaries(folder: str | os.PathLike, names: tuple[str, ...]) -> list[Path]:
    """Delete the temporary files that an interrupted write of ``names`` left in ``folder``: plain files
    named ``.NAME.XXXXXXXX.tmp`` (or ``.NAME.XXXXXXXX.SUFFIX``, the figures' older naming), the names taken
    literally (``*`` or ``[a]`` in a name match only themselves). Only the writer of those names may call
    it (a run folder's while holding it: :func:`claim_folder`)."""
    with os.scandir(folder) as entries:
        stale = [
            Path(entry.path)
            for entry in entries
            if any(_temporary_of(entry.name, name) for name in names) and entry.is_file(follow_symlinks=False)
        ]
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return stale


NAME_MAX, PATH_MAX = 255, 4096  # bytes in one name and in a whole path (Linux's limits, most file systems')


def shown(path: str | os.PathLike) -> str:
    """``path`` for a one-line message: in full, or its ends and its length when it is very long."""
    text = os.fsdecode(path)
    return text if len(text) <= 160 else f"{text[:80]}...{text[-60:]} ({len(os.fsencode(text))} bytes)"


def path_problem(path: str | os.PathLike) -> str | None:
    """Why the system cannot look ``path`` up (a name over 255 bytes, the whole over 4096, a symlink
    loop, a folder it may not search), as a phrase to follow the path; None when it can (existing or not)."""
    raw = os.fsencode(path)
    if len(raw) >= PATH_MAX:
        return f"is {len(raw)} bytes long, over the {PATH_MAX - 1} a path may have"
    longest = max(raw.split(b"/"), key=len)
    if len(longest) > NAME_MAX:
        return f"has a name of {len(longest)} bytes, over the {NAME_MAX} a file system allows"
    try:
        os.stat(raw)
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError as error:
        return f"cannot be looked up ({error.strerror})"
    return None


def check_path(path: str | os.PathLike, option: str) -> Path:
    """``path`` as a Path, or one ValueError line naming ``option`` when the system cannot look it up."""
    if problem := path_problem(path):
        raise ValueError(f"{option} {shown(path)} {problem}")
    return Path(path)


# The most a JSON or YAML input (a run's metrics.json, a recipe, a study archive's member) may hold: the
# largest one written is about 10 KB, so a bigger one is a runaway or hostile file, refused before it fills memory.
READ_LIMIT = 16 * 2**20
_CHUNK = 2**20


def read_limited(source: BinaryIO, where: str, declared: int | None = None, limit: int = READ_LIMIT) -> bytes:
    """The bytes of ``source``, read in chunks, or one ValueError naming ``where`` and the limit: a
    declared size (a file's, an archive member's) over ``limit`` is refused before anything is read, and
    a source that yields more than ``limit`` is refused as soon as it does (memory stays bounded)."""
    if declared is not None and declared > limit:
        raise ValueError(f"{where}: {declared:,} bytes, over the {limit:,}-byte limit of an input file; refused")
    chunks, size = [], 0
    while chunk := source.read(min(_CHUNK, limit + 1 - size)):
        size += len(chunk)
        if size > limit:
            raise ValueError(f"{where}: more than the {limit:,}-byte limit of an input file; refused")
        chunks.append(chunk)
    return b"".join(chunks)


def read_file_limited(path: str | os.PathLike, where: str | None = None) -> bytes:
    """A whole file's bytes within :data:`READ_LIMIT` (its size checked before reading)."""
    with open(path, "rb") as handle:
        return read_limited(handle, where or str(path), os.fstat(handle.fileno()).st_size)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        held = os.stat(path)
    except OSError:
        return None
    return held.st_dev, held.st_ino


def check_outputs(outputs: list[str | os.PathLike], inputs: list[str | os.PathLike], option: str = "--out") -> None:
    """Before the work: every output a file we may write, and none of them one of the command's inputs
    (by path or by file: a link to an input counts); each input looked at once (10,000 runs stay cheap)."""
    by_path = {check_path(source, "input").resolve(): source for source in inputs}
    by_file = {_identity(Path(source)): source for source in inputs} if inputs else {}
    by_file.pop(None, None)
    for out in outputs:
        check_output_file(out, option)
        source = by_path.get(Path(out).resolve()) or by_file.get(_identity(Path(out)))
        if source is not None:
            raise ValueError(f"{option} {out} is also one of the inputs ({source}); write the output elsewhere")


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def check_output_folder(path: str | os.PathLike, option: str) -> None:
    """A folder we will create or write into: a clear ValueError now rather than a traceback later."""
    path = check_path(path, option)
    if path.exists():
        if not path.is_dir():
            raise ValueError(f"{option} {path} is a file, not a folder")
        if not _writable(path):
            raise ValueError(f"{option} {path}: the folder is not writable")
        return
    existing = _nearest_existing(path.parent)
    if not existing.is_dir():
        raise ValueError(f"{option} {path}: {existing} is a file, not a folder")
    if not _writable(existing):
        raise ValueError(f"{option} {path}: cannot create it, {existing} is not writable")


def check_output_file(path: str | os.PathLike, option: str) -> None:
    """A file we will write (atomically): checked before the work whose result it holds."""
    path = check_path(path, option)
    if path.is_dir():
        raise ValueError(f"{option} {path} is a folder; give a file name")
    check_output_folder(path.parent, option + " folder")


_FS_IOC_GETFLAGS, _FS_IMMUTABLE_FL, _FS_APPEND_FL = 0x80086601, 0x10, 0x20  # linux/fs.h


def _immutable(path: Path) -> bool:
    """Whether ``path`` carries Linux's immutable or append-only attribute (chattr +i / +a): no rename
    may replace it, not even root's. False where the file system keeps no such attributes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        flags = int.from_bytes(fcntl.ioctl(fd, _FS_IOC_GETFLAGS, bytes(8))[:4], sys.byteorder)
    except OSError:
        return False
    finally:
        os.close(fd)
    return bool(flags & (_FS_IMMUTABLE_FL | _FS_APPEND_FL))


def check_replaceable(folder: str | os.PathLike, names: tuple[str, ...], option: str) -> None:
    """Before the work: each of ``names`` already in ``folder`` is a file that write_all can replace
    (not a folder, not immutable), so the result is not lost after the work that made it."""
    for name in names:
        path = Path(folder) / name
        if path.is_dir():
            why = "is a folder"
        elif path.is_file() and _immutable(path):
            why = f"cannot be replaced (immutable or append-only: lsattr {path})"
        else:
            continue
        raise ValueError(f"{option} {folder}: {name} {why}; remove it or choose another {option}")


def set_aside(folder: str | os.PathLike, label: str) -> Path:
    """Move what ``folder`` holds (all but its lock) into a new sibling ``FOLDER.LABEL[-N]``, so that
    the folder starts empty and nothing is lost. Call it only while holding the folder."""
    folder = Path(folder)
    aside, number = folder.with_name(f"{folder.name}.{label}"), 1
    while True:
        try:
            aside.mkdir()
            break
        except FileExistsError:
            number += 1
            aside = folder.with_name(f"{folder.name}.{label}-{number}")
    for entry in folder.iterdir():
        if entry.name != LOCK_NAME:
            os.rename(entry, aside / entry.name)
    return aside


class FolderClaim:
    """An exclusive claim on a folder: an flock on FOLDER/.pokernet.lock. The kernel releases it
    when the process dies, so a killed run can be resumed at once; :meth:`close` removes the file."""

    def __init__(self, folder: Path, handle: TextIO):
        self.folder, self._handle = folder, handle

    def close(self) -> None:
        if not self._handle.closed:
            try:
                (self.folder / LOCK_NAME).unlink(missing_ok=True)  # still held: no one else can hold it
            except OSError:
                pass  # an undeletable lock file: the kernel's lock still ends with the handle
            self._handle.close()

    def __enter__(self) -> FolderClaim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_lock(lock: Path, option: str) -> TextIO:
    """The lock file, never through a symlink (O_NOFOLLOW): a planted link cannot make us write elsewhere."""
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, file_mode())
    except OSError as error:
        why = {errno.ELOOP: "is a symlink", errno.EISDIR: "is a folder"}.get(
            error.errno, f"cannot be opened ({error.strerror})"
        )
        raise ValueError(
            f"{option} {lock.parent}: {lock.name} {why}; remove it (a run folder holds only the run's own files)"
        ) from None
    return os.fdopen(fd, "a+")


def _refuse_symlinks(folder: Path, option: str) -> None:
    links = sorted(entry.name for entry in folder.iterdir() if entry.is_symlink())
    if links:
        raise ValueError(
            f"{option} {folder} holds symlinks ({', '.join(links)}); a run folder holds only the "
            f"run's own files, never links to others: remove them"
        )


def claim_folder(folder: str | os.PathLike, option: str) -> FolderClaim:
    """Create ``folder`` if needed and claim it; a folder claimed by another process is an error, and so
    is a folder holding symlinks (a planted train.log or lock link would make the run write elsewhere)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    while True:
        handle = _open_lock(lock, option)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise ValueError(
                f"{option} {folder} is in use by another process"
                f"{f' (pid {holder})' if holder else ''}; wait for it to end or choose "
                f"another {option}"
            ) from None
        try:  # the holder before us may have removed the file between our open and our flock
            if os.stat(lock, follow_symlinks=False).st_ino == os.fstat(handle.fileno()).st_ino:
                break
        except FileNotFoundError:
            pass
        handle.close()
    claim = FolderClaim(folder, handle)
    try:
        _refuse_symlinks(folder, option)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
    except OSError as error:
        claim.close()
        raise ValueError(f"{option} {folder}: cannot write {LOCK_NAME} ({error.strerror})") from None
    except BaseException:
        claim.close()
        raise
    return claim
