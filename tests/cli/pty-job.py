#!/usr/bin/env python3
"""Job control through a real terminal: an interactive `busybox sh` under
hostk stops a foreground job with Ctrl-Z, lists it, resumes it with fg, and
interrupts it with Ctrl-C; Ctrl-C reaches the guest's foreground group only."""
import os, pty, select, sys, time

hostk = sys.argv[1]
busybox = sys.argv[2] if len(sys.argv) > 2 else "busybox"
TIMEOUT = 20

pid, fd = pty.fork()
if pid == 0:
    trace = os.environ.get("HK_TRACE")
    os.environ.clear()
    if trace: os.environ["HK_TRACE"] = trace
    os.environ.update(PATH="/usr/bin:/bin", PS1="hk$ ", TERM="dumb", HOME="/")
    os.execv(hostk, [hostk, "run"] + (["--trace=" + os.environ["HK_TRACE"]] if os.environ.get("HK_TRACE") else []) + ["--", busybox, "sh", "-i"])

buf = b""
def expect(what, timeout=TIMEOUT):
    """Read until `what` appears (no sleeps: block on the terminal)."""
    global buf
    end = time.monotonic() + timeout
    while what.encode() not in buf:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            sys.exit(f"not ok: timed out waiting for {what!r}; saw:\n{buf.decode(errors='replace')}")
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            sys.exit(f"not ok: terminal closed waiting for {what!r}; saw:\n{buf.decode(errors='replace')}")
        buf += chunk
    buf = buf[buf.index(what.encode()) + len(what):]

def send(s):
    os.write(fd, s.encode())

def ping(word):
    """Type a line for the `tr a-z A-Z` job until its upper-cased echo comes
    back: proof the job runs and reads the terminal.  Repeating covers input
    a shell flushed while handing the terminal over."""
    for _ in range(TIMEOUT):
        send(word + "\n")
        try:
            expect(word.upper(), timeout=1)
            return
        except SystemExit:
            pass
    sys.exit(f"not ok: the job never answered {word!r}")

checks = 0
def ok(name):
    global checks
    checks += 1
    print(f"ok {checks} - {name}")

expect("hk$ ")
# The job upper-cases what it reads, so its answers can't be the terminal's echo.
send("tr a-z A-Z\n")
ping("ping-one")
send("\x1a")                                   # Ctrl-Z
expect("Stopped"); ok("Ctrl-Z stops the foreground job")
expect("hk$ ")
send("jobs\n")
expect("tr a-z A-Z"); ok("jobs lists the stopped job")
expect("hk$ ")
send("fg\n")
expect("tr a-z A-Z")                           # fg names the job it resumes
ping("ping-two"); ok("fg gives the terminal back to the job")
send("\x03")                                   # Ctrl-C
expect("hk$ ")
send("echo status=$?\n")
expect("status=130"); ok("Ctrl-C reached the foreground job (status 130)")
send("\x1a\x03echo shell-alive\n")             # Ctrl-Z, Ctrl-C at the prompt
expect("shell-alive"); ok("the interactive shell survives Ctrl-Z and Ctrl-C at its prompt")
send("exit 7\n")
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
if code != 7:
    sys.exit(f"not ok: hostk exited {code}, expected 7")
ok("hostk exits with the shell's status")
print(f"{checks} passed, 0 failed")
