#!/usr/bin/env python3
"""tiocsti.py [--native] [--as-nobody] HOSTK ATTACK CASE: a guest against a real terminal.

A pseudo-terminal plays the host's terminal: its slave is the controlling
terminal of a new session (the host's shell), and `attack-sidedoor CASE`
runs there as a job would, with the slave on descriptors 0, 1 and 2.
`tiocsti` pushes "echo INJECTED" into the input queue of each, `tiocsetd`
sets the line discipline that discards everything; afterwards the input
queue, which the shell would read next, must be empty and the line
discipline the ordinary one (N_TTY, 0).  --native runs the attack without
hostk (the control: on this host both go in natively).  Prints "input
queue: N bytes, line discipline D" and the attack's own line; exits with
the attack's status."""
import fcntl
import os
import select
import struct
import sys
import termios


def main():
    args = sys.argv[1:]
    native = "--native" in args
    nobody = "--as-nobody" in args
    hostk, attack, case = [a for a in args if not a.startswith("--")]
    master, slave = os.openpty()
    if nobody:
        os.fchown(slave, 65534, 65534)
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.chdir("/")
        argv = [attack, case] if native else [hostk, "run", "--", attack, case]
        if nobody:
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + argv
        os.execvp(argv[0], argv)
    output, status = b"", None
    os.set_blocking(master, False)
    for _ in range(300):  # 30 s at most
        select.select([master], [], [], 0.1)
        try:
            output += os.read(master, 4096)
        except OSError:
            pass
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
            break
    try:
        output += os.read(master, 65536)
    except OSError:
        pass
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        print("the program did not end")
        return 1
    # What the next reader of the terminal (the shell) would get.
    disc = struct.unpack("i", fcntl.ioctl(slave, termios.TIOCGETD, b"\0\0\0\0"))[0]
    try:
        queued = "%d bytes" % struct.unpack("i", fcntl.ioctl(slave, termios.FIONREAD, b"\0\0\0\0"))[0]
    except OSError:
        queued = "none (no N_TTY)"
    print("input queue: %s, line discipline %d" % (queued, disc))
    for line in output.decode(errors="replace").splitlines():
        if line.startswith("attack "):
            print(line.strip())
    return status


if __name__ == "__main__":
    sys.exit(main())
