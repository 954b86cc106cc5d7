"""Saved pages on disk, read with limits: `proposals parse` and `proposals import`.

A page file must be a regular file (a FIFO, a socket or a device is refused from its `stat`,
never opened, so nothing blocks) no larger than the size limit: 16 MB by default, the crawl's
download limit, or `--max-size` / PROPOSALS_MAX_SIZE. Files are read one at a time, the bytes
the file holds and never more than the limit.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

MAX_PAGE_SIZE = 16 * 1024 * 1024  # as the crawl's DOWNLOAD_MAXSIZE
SIZE_ENV_VAR = "PROPOSALS_MAX_SIZE"
PAGE_SUFFIXES = {".html", ".htm", ".shtml", ".xhtml", ".jhtml", ".jsp", ""}
_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2, "mib": 1024**2,
          "g": 1024**3, "gb": 1024**3, "gib": 1024**3}
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", re.IGNORECASE)
_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


class PageRefused(Exception):
    """A page file that is not read: missing, unreadable, not a regular file, over the limit."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{reason}: {path}" if reason == "no such file" else f"{path}: {reason}")


def parse_size(value: str | int | None) -> int:
    """A size limit in bytes from `16MB`, `500k`, `1048576` (binary units); ValueError if not one."""
    if value is None or value == "":
        return MAX_PAGE_SIZE
    if isinstance(value, int):
        number, unit = value, ""
    else:
        match = _SIZE_RE.fullmatch(value)
        if not match or match.group(2).lower() not in _UNITS:
            raise ValueError(f"not a size: {value!r} (bytes, or a number with KB, MB or GB)")
        number, unit = float(match.group(1)), match.group(2).lower()
    size = int(number * _UNITS[unit])
    if size <= 0:
        raise ValueError(f"a size limit must be positive, not {value!r}")
    return size


def human_size(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:g} {unit}"
    return f"{size} bytes"


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a page"
    return next((f"not a regular file ({name})" for test, name in _KINDS if test(mode)), "not a regular file")


def check_page(path: Path, max_size: int = MAX_PAGE_SIZE) -> os.stat_result:
    """The file's stat if it may be read as a page; PageRefused otherwise. Opens nothing."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise PageRefused(path, "no such file") from None
    except OSError as error:
        raise PageRefused(path, f"cannot read it: {error.strerror or error}") from None
    problem = _not_regular(info.st_mode)
    if problem:
        raise PageRefused(path, problem)
    if info.st_size > max_size:
        raise PageRefused(path, f"{info.st_size} bytes, over the {human_size(max_size)} limit "
                                f"(--max-size or {SIZE_ENV_VAR})")
    return info


def read_page(path: Path, max_size: int = MAX_PAGE_SIZE) -> bytes:
    """The bytes of a saved page, or PageRefused (see the module's doc)."""
    check_page(path, max_size)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        # O_NONBLOCK: should the path have become a FIFO since the stat, opening it does not wait
        fd = os.open(path, flags)
    except OSError as error:
        raise PageRefused(path, f"cannot read it: {error.strerror or error}") from None
    try:
        info = os.fstat(fd)  # the file opened, whatever the path names by now
        problem = _not_regular(info.st_mode)
        if problem:
            raise PageRefused(path, problem)
        parts, total = [], 0
        while True:  # the size it has, then whatever it grew by, up to one byte over the limit
            part = os.read(fd, max(info.st_size - total, 1 << 16) if total < info.st_size else 1 << 16)
            if not part:
                break
            parts.append(part)
            total += len(part)
            if total > max_size:
                raise PageRefused(path, f"over the {human_size(max_size)} limit (--max-size or {SIZE_ENV_VAR})")
    except OSError as error:
        raise PageRefused(path, f"cannot read it: {error.strerror or error}") from None
    finally:
        os.close(fd)
    return parts[0] if len(parts) == 1 else b"".join(parts)


@dataclass(frozen=True)
class PageFile:
    path: Path
    url: str | None  # from --url; None: the URL the page declares, else its file:// URI


def page_files(paths: Iterable[Path], url: str | None = None) -> Iterator[PageFile]:
    """The files to import: files as given, directories walked recursively for saved pages.

    With `url`, a single file gets that URL and a directory's files get it as their base
    (`--url https://www.haidao.example/` + `art/2023/9/8/x.html`). Entries of a directory that
    are not regular files (a FIFO named x.html) are listed too, for the reader to refuse.
    """
    for path in paths:
        if path.is_dir():
            base = url.rstrip("/") + "/" if url else None
            for file in sorted(p for p in path.rglob("*") if not p.is_dir()):
                relative = file.relative_to(path)
                if any(part.startswith(".") for part in relative.parts) or file.suffix.lower() not in PAGE_SUFFIXES:
                    continue
                yield PageFile(file, urljoin(base, relative.as_posix()) if base else None)
        else:
            yield PageFile(path, url)
