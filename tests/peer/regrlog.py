"""The output of `python3.11 -m test -v MODULE`, parsed line by line as it
arrives: which tests started, the outcome of each, the failure reports of
unittest's summary, regrtest's module result and faulthandler's stack dumps.
run-peer feeds it; the patterns are those of unittest's TextTestResult and
regrtest in CPython 3.11.
"""
import re

# "test_x (test.test_m.Class.test_x)", then " ... STATUS", or a subtest
# "  test_x (id) [msg] (k=v) ... FAIL", or a docstring line next.
START = re.compile(r"^(?P<sub>  )?(?P<name>[A-Za-z_]\w*) \((?P<id>[A-Za-z_][\w.]*)\)(?P<rest>.*)$")
TIMEOUT = re.compile(r"Timeout \(\d+:\d\d:\d\d\)!$")     # faulthandler's, after " ... "
STATUS = re.compile(r"^(ok|FAIL|ERROR|expected failure|unexpected success|skipped (?P<why>.*))$")
FIXTURES = {"setUpClass", "tearDownClass", "setUpModule", "tearDownModule"}
SEPARATOR = "=" * 70
WORST = ["ERROR", "FAIL", "skipped"]


def test_id(name, tid):
    """A test's key: its id; a class or module fixture's, the id and its name."""
    return f"{tid}.{name}" if name in FIXTURES else tid


class Test:
    def __init__(self, log, tid, start):
        self.log = log
        self.id = tid
        self.outcome = None     # None while running
        self.why = ""
        self.start = start
        self.end = None
        self.first = 0          # index of its first line in Log.lines
        self.last = None
        self.subtests = []      # (description, outcome)
        self.report = []        # its FAIL/ERROR block from the summary


class Log:
    """Parses `python -m test -v` output line by line as it arrives."""

    def __init__(self):
        self.lines = []
        self.tests = {}
        self.current = None     # the test that started and has no status yet
        self.bare = None        # a test line waiting for its docstring line
        self.block = None       # the summary block being read
        self.result = None      # regrtest's "Tests result: ..."
        self.module_skip = None
        self.dump_at = None     # where faulthandler's stack dump starts

    def has_stacks(self):
        return self.dump_at is not None and any(
            "(most recent call first)" in line for line in self.lines[self.dump_at:])

    def feed(self, line, now):
        i = len(self.lines)
        self.lines.append(line)
        if self.block:
            if line != SEPARATOR and not line.startswith("Ran "):
                self.block.report.append(line)
                return
            self.block = None
        if self.block is False and self._summary(line):
            return
        self.block = None
        if line == SEPARATOR:
            self.block = False      # the next line may name a failed test
            return
        if TIMEOUT.search(line):
            self.dump_at = i
        m = re.match(r"^Tests result: (.*)$", line)
        if m:
            self.result = m.group(1)
        m = re.match(r"^test_\w+ skipped -- (.*)$", line)
        if m:
            self.module_skip = m.group(1)
        self._verbose(line, now, i)

    def peek(self, partial, now):
        """A test that started: its line has no end yet."""
        m = START.match(partial)
        if not (m and not m["sub"] and m["rest"].startswith(" ... ") and self._is_test(m)) \
                or self.block or self.bare is not None:
            return
        t = self.current
        if t and t.first == len(self.lines):
            return              # seen already
        if t:
            self._close(t, now, len(self.lines) - 1)
        self._start(m, now, len(self.lines))

    @staticmethod
    def _is_test(m):
        return m["id"].endswith("." + m["name"]) or m["name"] in FIXTURES

    def _start(self, m, now, i):
        tid = test_id(m["name"], m["id"])
        t = self.tests[tid] = Test(self, tid, now)
        t.first = i
        self.current = t
        return t

    def _verbose(self, line, now, i):
        if self.bare is not None:
            # The docstring line: "Docstring ... STATUS".
            t, self.bare = self.bare, None
            if " ... " in line:
                self._status(t, line.rsplit(" ... ", 1)[1], now, i)
                return
        m = START.match(line)
        if m and self._is_test(m):
            tid = test_id(m["name"], m["id"])
            rest = m["rest"]
            if m["sub"] and self.current and self.current.id == tid:
                desc, _, status = rest.rpartition(" ... ")
                s = STATUS.match(status)
                if s:
                    self.current.subtests.append((desc.strip(), s.group(1).split()[0]))
                return
            t = self.current
            if not (t and t.id == tid and t.first == i):     # peek() saw it start
                if t:
                    self._close(t, now, i - 1)
                t = self._start(m, now, i)
            if rest == "":
                self.bare = t
            elif rest.startswith(" ... "):
                self._status(t, rest[5:], now, i)
            return
        if self.current and STATUS.match(line.rstrip()):
            self._status(self.current, line.rstrip(), now, i)

    def _status(self, t, text, now, i):
        s = STATUS.match(text.rstrip())
        if not s:
            return              # the test's own output after " ... "
        t.outcome = "skipped" if s["why"] is not None else s.group(1)
        t.why = s["why"] or ""
        t.end, t.last = now, i
        if self.current is t:
            self.current = None

    def _close(self, t, now, i):
        """A test that printed no status of its own: its failed or skipped
        subtests decide, else its result is unknown."""
        outcomes = [o for _, o in t.subtests]
        t.outcome = next((w for w in WORST if w in outcomes), "no status")
        t.end, t.last = now, i
        self.current = None

    def _summary(self, line):
        """ "FAIL: test_x (id)" after a separator starts its report."""
        m = re.match(r"^(FAIL|ERROR|UNEXPECTED SUCCESS): (?P<name>\S+) \((?P<id>[\w.]+)\)", line)
        if not m:
            return False
        tid = test_id(m["name"], m["id"])
        what = "unexpected success" if m.group(1) == "UNEXPECTED SUCCESS" else m.group(1)
        t = self.tests.get(tid)
        if t is None:
            t = self.tests[tid] = Test(self, tid, None)
            t.outcome = what
        elif t.outcome in (None, "no status"):
            t.outcome = what
        t.report.append(line)
        self.block = t
        return True

    def finish(self, now, why):
        """The process ended: a test still running hung or died with it."""
        self.bare = None
        if self.current:
            self.current.outcome = why
            self.current.end, self.current.last = now, len(self.lines) - 1
            self.current = None

    def output_of(self, t):
        """The lines a test printed, then its report from the summary."""
        end = len(self.lines) if t.last is None else t.last + 1
        return self.lines[t.first:end] + t.report



def stacks(dump, limit):
    """faulthandler's dump, shortened to `limit` lines: the thread that runs the test down to
    the test's own frame (unittest's below it say nothing), and the top frame
    of every other thread."""
    threads, head = [], []
    for line in dump:
        m = re.search(r"(Current thread|Thread) 0x[0-9a-f]+ \(most recent call first\):$", line)
        if m:
            threads.append([m.group(0)])
        elif threads and line.startswith("  File "):
            threads[-1].append(line)
        elif not threads:
            head.append(line)
    out = head[:2]
    for th in threads:
        runner = next((i for i, f in enumerate(th) if "/unittest/case.py" in f), None)
        if runner is not None:
            out += th[:runner]
    others = [th for th in threads if not any("/unittest/case.py" in f for f in th)]
    if others:
        out.append(f"{len(others)} other thread(s), top frames:")
        out += ["  " + (th[1].strip() if len(th) > 1 else th[0]) for th in others[:5]]
    return out[:limit]
