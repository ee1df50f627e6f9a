"""The processes and scratch directories of run-peer's runs: whatever a run
starts or leaves behind is ended and removed when it ends.  run-peer is a
child subreaper, so a process that outlives its parent becomes its child.
"""
import ctypes
import os
import shutil
import signal
import sys
import tempfile
import threading


def set_subreaper():
    """Orphaned descendants (a test's daemon, a guest that outlived hostk)
    become our children, so that none is left behind."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def stat_of(pid):
    """/proc/PID/stat's fields after the command: state, ppid, pgrp, session..."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return []


def our_children():
    me = str(os.getpid())
    return [int(pid) for pid in os.listdir("/proc") if pid.isdigit() and stat_of(pid)[1:2] == [me]]


def belongs(pid, tag, sid):
    """Whether a process is one run's: it carries the run's tag in its
    environment, or it is still in the run's session (a test may clear the
    environment, or start a session, but rarely both)."""
    if stat_of(pid)[3:4] == [str(sid)]:
        return True
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return tag.encode() in f.read().split(b"\0")
    except OSError:
        return False


class Active(set):
    """The pids of running Popens; the lock keeps sweep() off a child that
    Popen has forked and not yet waited for.  stop() ends them all."""
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.stopped = False

    def stop(self):
        # Our runs are in sessions of their own: a signal to our group misses them.
        with self.lock:
            self.stopped = True
            for pid in self:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


class Stopped(Exception):
    pass


def sweep(tag, sid, active):
    """Kills and reaps the orphans of one run (the run's own process is
    reaped already), or with no tag every child that is no running Popen.
    Zombies are no one's: any that is no running Popen's is reaped.
    Returns how many were still alive."""
    left = 0
    for _ in range(20):
        kids = [p for p in our_children() if p not in active]
        zombies = [p for p in kids if stat_of(p)[:1] == ["Z"]]
        alive = [p for p in kids if p not in zombies and (tag is None or belongs(p, tag, sid))]
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid in alive + zombies:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        left += len(alive)
        if not alive:
            break
    return left


def python_pids(pid, python):
    """hostk's guests that run `python`: its first guest, regrtest."""
    kids = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(k) for k in f.read().split()]
        except OSError:
            pass
    return [k for k in kids if cmdline(k)[:1] == [python]]


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace").split("\0")
    except OSError:
        return []


def signame(n):
    try:
        return signal.Signals(n).name
    except ValueError:
        return f"signal {n}"


def scratch_base():
    """Where the scratch directories go: TMPDIR, unless a uid other than
    ours could not reach it (the guest may be one), then /tmp."""
    base = tempfile.gettempdir()
    d = base
    while d != "/":
        if not os.stat(d).st_mode & 0o001:
            print(f"run-peer: {base} is not searchable by other uids: using /tmp", file=sys.stderr)
            return "/tmp"
        d = os.path.dirname(d)
    return base


def remove_tree(path):
    def retry(func, p, _exc):
        # A test may leave a directory without write or search permission.
        os.chmod(os.path.dirname(p), 0o700)
        if os.path.isdir(p) and not os.path.islink(p):
            os.chmod(p, 0o700)
        func(p)
    shutil.rmtree(path, onerror=retry)
