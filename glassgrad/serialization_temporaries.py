"""The temporaries of ``save``'s atomic writes: their names, their file mode, and the removal of those
left behind by a process killed mid-save (``serialization._atomic_write`` uses them)."""

from __future__ import annotations

import contextlib
import os

__all__: list[str] = []


def _file_mode(path: str) -> int:
    """The mode the file would get from a plain ``open``: the old file's, else 0o666 minus the umask."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


_TMP_TAG = ".glassgrad-tmp-"


def _tmp_prefix(path: str) -> str:
    """``.<name>.glassgrad-tmp-``: a temporary of a save to ``path``, recognisable by name."""
    return "." + os.path.basename(path) + _TMP_TAG


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (OSError, ValueError, OverflowError):
        return True  # not ours to signal, or no way to tell: keep its file
    return True


def _remove_stale_temporaries(path: str) -> None:
    """Delete the temporaries of earlier saves to ``path`` whose process is gone (killed mid-save).

    A temporary is ``.<name>.glassgrad-tmp-<pid>-<random>``; one of a process still running (a
    save under way in another process or thread) is left alone.
    """
    folder, prefix = os.path.dirname(path), _tmp_prefix(path)
    try:
        entries = [e.name for e in os.scandir(folder) if e.name.startswith(prefix)]
    except OSError:
        return
    for name in entries:
        pid = name[len(prefix) :].partition("-")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, name))
