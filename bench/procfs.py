"""Memory and CPU time of a server's processes, from /proc.

`PeakRss` resets each worker's high-water mark (`/proc/PID/clear_refs`, 5) before a
request and reads it back after, so the peak is the request's, whichever worker served it.
`cpu_seconds` adds up the user and system time of a master and its workers.
"""

import contextlib
import os
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")


def children(pid):
    """Return the ids of the processes whose parent is `pid`."""
    found = []
    for stat in PROC.glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # The command name may hold spaces; the parent id is the 2nd field after its ")".
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def cpu_seconds(master_pid):
    """Return the CPU time (user + system) the master and its live workers have used so far."""
    total = 0
    for pid in [master_pid, *children(master_pid)]:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat
    return total / TICKS


def _status_kb(pid, field):
    for line in (PROC / str(pid) / "status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class PeakRss:
    """Measure the workers of a gunicorn master across a block: `with PeakRss(pid) as rss: ...`.

    Afterwards `rss.peak_mb` is the highest resident size any worker reached in the
    block and `rss.growth_mb` the most any worker grew over its size at the start.
    """

    def __init__(self, master_pid):
        self.master_pid = master_pid
        self.before = {}
        self.peak_mb = self.growth_mb = 0.0

    def __enter__(self):
        for pid in children(self.master_pid):
            (PROC / str(pid) / "clear_refs").write_text("5")
            self.before[pid] = _status_kb(pid, "VmRSS")
        return self

    def __exit__(self, *exc):
        for pid, before in self.before.items():
            with contextlib.suppress(OSError):
                peak = _status_kb(pid, "VmHWM")
                self.peak_mb = max(self.peak_mb, peak / 1024)
                self.growth_mb = max(self.growth_mb, (peak - before) / 1024)
        return False
