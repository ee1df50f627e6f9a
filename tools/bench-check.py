#!/usr/bin/python3
"""CI's check of `hostk bench` and `hostk bench workloads`: runs one in smoke
mode with --peers, --json and --svg, and checks that the JSON parses, that
every mechanism (or workload) reported a figure in every CPU mode (or under
every runner), and that the SVG is well-formed XML with exactly one bar per
figure.  "Unavailable, with a reason" is accepted only where the bench probes
for something a machine may lack: Syscall User Dispatch, seccomp user
notification, a second CPU, and the peers.  Never a check of speed.

    bench-check.py HOSTK syscall|workloads
"""
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

MECHANISMS = ["native", "ptrace_syscall", "ptrace_sysemu", "seccomp_trace", "seccomp_unotif",
              "seccomp_sigsys", "sud", "hostk_emulate", "hostk_check", "hostk_fast"]
PEERS = ["strace", "proot", "runsc", "uml"]
PROBED = {"sud", "seccomp_unotif"}          # kernel features the bench probes for
MODES = ["same_cpu", "cross_cpu"]
WORKLOADS = ["find", "pipelines", "gzip", "dd", "python3", "gcc", "sqlite3"]
HOSTK_OPS = {"hostk_check": "unshare", "hostk_fast": "getuid"}

checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        print(f"bench-check: FAIL: {what}")
        print(f"{checks - 1} passed, 1 failed")
        sys.exit(1)


def figure(cell, keys):
    return all(isinstance(cell.get(k), (int, float)) for k in keys) and cell[keys[1]] > 0


def svg_bars(path):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        check(False, f"{path} is well-formed XML ({e})")
    check(root.tag.endswith("svg"), "the SVG's root is <svg>")
    bars = {}
    for el in root.iter():
        if el.tag.endswith("rect") and el.get("class") == "bar":
            k = (el.get("data-row"), el.get("data-series"))
            bars[k] = bars.get(k, 0) + 1
    return bars


def check_unavailable(cell, what, allowed):
    reason = cell.get("unavailable")
    check(isinstance(reason, str) and reason, f"{what}: a figure or a reason")
    check(allowed, f"{what} may be unavailable only for a probed feature or a peer (said: {reason})")


def check_syscall(doc, bars, disps):
    check(doc.get("bench") == "syscall", "the JSON is the syscall bench's")
    mechs = {m["key"]: m for m in doc["mechanisms"]}
    want = MECHANISMS + (PEERS if doc.get("peers") else [])
    check(sorted(mechs) == sorted(want), f"mechanisms {sorted(mechs)} are {sorted(want)}")
    one_cpu = doc["cpus"]["guest_cross"] is None
    for key in want:
        m = mechs[key]
        for mode in MODES:
            cell, what = m[mode], f"{key} ({mode})"
            if "unavailable" in cell:
                check_unavailable(cell, what, key in PROBED or m["kind"] == "peer"
                                  or (mode == "cross_cpu" and one_cpu))
                check(bars.get((key, mode), 0) == 0, f"{what}: no bar when unavailable")
            else:
                check(figure(cell, ["min_ns", "median_ns", "p99_ns"]), f"{what} reported min/median/p99")
                check(cell["min_ns"] <= cell["median_ns"] <= cell["p99_ns"], f"{what}: min <= median <= p99")
                check(bars.get((key, mode), 0) == 1, f"{what}: exactly one bar in the SVG")
    check(sum(bars.values()) == sum("unavailable" not in mechs[k][m] for k in want for m in MODES),
          "no bars beyond the figures")
    for key, op in HOSTK_OPS.items():
        check(mechs[key].get("disp") == disps[op], f"{key} is labelled with {op}'s disposition {disps[op]}")
    check(mechs["hostk_emulate"].get("disp") == "emulate", "the hostk call is labelled emulate")
    floor = doc["floor"]
    check(all(floor[k] > 0 for k in ("native_getuid_ns", "filter_getuid_ns", "hostk_getuid_ns")),
          "the seccomp floor has its three figures")


def check_workloads(doc, bars):
    check(doc.get("bench") == "workloads", "the JSON is the workload bench's")
    runners = doc["runners"]
    check(runners[:2] == ["native", "hostk"], "native and hostk run every workload")
    wls = {w["key"]: w for w in doc["workloads"]}
    check(sorted(wls) == sorted(WORKLOADS), f"workloads {sorted(wls)} are {sorted(WORKLOADS)}")
    for key in WORKLOADS:
        for r in runners:
            cell, what = wls[key]["results"][r], f"{key} under {r}"
            if "unavailable" in cell:
                check_unavailable(cell, what, r in PEERS)
                check(bars.get((key, r), 0) == 0, f"{what}: no bar when unavailable")
            else:
                check(figure(cell, ["min_s", "median_s", "max_s"]), f"{what} reported a wall time")
                check(bars.get((key, r), 0) == 1, f"{what}: exactly one bar in the SVG")
    check(sum(bars.values()) == sum("unavailable" not in wls[k]["results"][r] for k in WORKLOADS for r in runners),
          "no bars beyond the figures")


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("syscall", "workloads"):
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        sys.exit(2)
    hostk, which = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        svg = os.path.join(tmp, "bench.svg")
        cmd = [hostk, "bench"] + (["workloads"] if which == "workloads" else []) + \
              ["--smoke", "--peers", "--json", "--svg", svg]
        run = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        check(run.returncode == 0, f"{' '.join(cmd)} exited 0 (it exited {run.returncode})")
        try:
            doc = json.loads(run.stdout)
        except json.JSONDecodeError as e:
            check(False, f"the JSON parses ({e})")
        bars = svg_bars(svg)
        if which == "syscall":
            table = json.loads(subprocess.run([hostk, "syscalls", "--json"], stdout=subprocess.PIPE,
                                              text=True, check=True).stdout)
            check_syscall(doc, bars, {row["name"]: row["disp"] for row in table})
        else:
            check_workloads(doc, bars)
    print(f"{checks} passed, 0 failed")


main()
