#!/usr/bin/python3
"""CI's check of the benches: runs one in smoke mode with --json and --svg
(and --peers where it has them), and checks that the JSON parses and has its
fields.  `hostk bench` and `hostk bench workloads`: every mechanism (or
workload) reported a figure in every CPU mode (or under every runner), and
the SVG is well-formed XML with exactly one bar per figure.  "Unavailable,
with a reason" is accepted only where the bench probes for something a
machine may lack: Syscall User Dispatch, seccomp user notification, a second
CPU, and the peers.  `hostk bench irq` and `hostk bench nic`: every latency
has n figures, min <= p50 <= p99 <= max, a histogram whose buckets add up to
n and hold its min and max, and in the SVG one bin per bucket with its
count.  Never a check of speed.

    bench-check.py HOSTK syscall|workloads|irq|nic
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


def svg_rects(path, cls):
    """The chart's <rect class=CLS> elements, once it is known to be SVG."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        check(False, f"{path} is well-formed XML ({e})")
    check(root.tag.endswith("svg"), "the SVG's root is <svg>")
    return [el for el in root.iter() if el.tag.endswith("rect") and el.get("class") == cls]


def svg_bars(path):
    bars = {}
    for el in svg_rects(path, "bar"):
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


def svg_bins(path):
    """{series: {lo_ns: count}} from the histogram chart's <rect class="bin">."""
    bins = {}
    for el in svg_rects(path, "bin"):
        series = bins.setdefault(el.get("data-series"), {})
        lo = int(el.get("data-lo"))
        check(lo not in series, f"one bin per bucket ({el.get('data-series')} at {lo} ns)")
        series[lo] = int(el.get("data-count"))
    return bins


def check_hist(h, what, n, bins=None, key=None):
    """A latency's figures and histogram; and its bins in the SVG, if charted."""
    check(isinstance(h, dict) and all(isinstance(h.get(k), int) for k in ("n", "min", "p50", "p99", "max")),
          f"{what} has n, min, p50, p99, max")
    check(h["n"] == n, f"{what}: {n} figures (it has {h['n']})")
    check(h["min"] <= h["p50"] <= h["p99"] <= h["max"], f"{what}: min <= p50 <= p99 <= max")
    buckets = h.get("hist")
    check(isinstance(buckets, list) and buckets, f"{what} has a histogram")
    check(all(b["lo_ns"] <= b["hi_ns"] and b["count"] > 0 for b in buckets), f"{what}: buckets lo <= hi, not empty")
    check(all(a["hi_ns"] < b["lo_ns"] for a, b in zip(buckets, buckets[1:])), f"{what}: buckets in order, apart")
    check(sum(b["count"] for b in buckets) == h["n"], f"{what}: the buckets add up to n")
    check(buckets[0]["lo_ns"] <= h["min"] <= buckets[0]["hi_ns"], f"{what}: the first bucket holds the min")
    check(buckets[-1]["lo_ns"] <= h["max"] <= buckets[-1]["hi_ns"], f"{what}: the last bucket holds the max")
    if bins is not None:
        check(bins.get(key) == {b["lo_ns"]: b["count"] for b in buckets},
              f"{what}: the SVG has one bin per bucket, with its count")


def check_irq(doc, bins):
    check(doc.get("bench") == "irq", "the JSON is the irq bench's")
    timer, lat, wake = doc["timer"], doc["latency"], doc["wake"]
    for key in ("expiry_to_top_ns", "expiry_to_handler_ns", "nanosleep_ns"):
        check_hist(timer.get(key), f"timer {key}", timer["timeouts"], bins, key)
    for key in ("raise_to_top_ns", "raise_to_bh_ns"):
        check_hist(lat.get(key), f"device {key}", lat["raises"], bins, key)
    for key in ("controller_to_top_ns", "top_ns", "controller_to_bh_ns"):
        cell = lat.get(key)
        check(isinstance(cell, dict) and cell.get("min", -1) <= cell.get("p50", -1) <= cell.get("max", -1),
              f"hostk's own {key}: min <= p50 <= max")
    counts = lat["counts"]
    check(counts["handled"] == lat["raises"], "the test device handled every raise")
    check_hist(wake.get("raise_to_wake_ns"), "guest raise_to_wake_ns", wake["raises"], bins, "raise_to_wake_ns")
    charted = ["expiry_to_top_ns", "expiry_to_handler_ns", "nanosleep_ns", "raise_to_top_ns", "raise_to_bh_ns",
               "raise_to_wake_ns"]
    check(sorted(bins) == sorted(charted), f"the SVG charts the six latencies ({sorted(bins)})")
    tick, idle = doc["tick"], doc["idle"]
    check(tick["interrupts"] > 0 and tick["cpu_us_per_tick"] > 0, "the tick run took timer interrupts, with a cost")
    check(all(isinstance(idle.get(k), (int, float)) for k in ("hostk_cpu_pct", "whole_s", "slept_s")),
          "the idle run has its figures")


def check_nic(doc, bins):
    check(doc.get("bench") == "nic", "the JSON is the nic bench's")
    frames = doc["frames"]
    check_hist(doc.get("latency_ns"), "nic latency_ns", frames - doc["lost"], bins, "latency")
    check_hist(doc.get("floor_ns"), "nic floor_ns", frames, bins, "floor")
    check(sorted(bins) == ["floor", "latency"], f"the SVG charts latency and floor ({sorted(bins)})")
    ratio = doc["ratio"]
    check(all(isinstance(ratio.get(k), (int, float)) for k in ("min", "p50", "p99", "max")),
          "the ratios to the floor")
    check(isinstance(doc.get("met"), bool) and doc.get("target_p99_ratio") == 3.0, "the target and whether it is met")
    cpus = doc["cpus"]
    check(isinstance(cpus.get("hostk"), int) and isinstance(cpus.get("sender"), int), "the CPUs are named")
    t = doc["throughput"]
    check(t["received"] + t["lost"] == t["frames"] == frames, "every throughput frame came back or was lost")
    check(0 < t["window"] <= doc["rxring"], "the window fits the RX ring")
    check(t["frames_per_s"] > 0 and t["seconds"] > 0, "the throughput has its figures")
    check_hist(t.get("latency_ns"), "nic throughput latency_ns", t["received"])
    check(doc["guest_echoed"] >= frames - doc["lost"] + t["received"], "nicecho echoed every frame that came back")


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("syscall", "workloads", "irq", "nic"):
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        sys.exit(2)
    hostk, which = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        svg = os.path.join(tmp, "bench.svg")
        cmd = [hostk, "bench"] + ([] if which == "syscall" else [which]) + ["--smoke", "--json", "--svg", svg] + \
              (["--peers"] if which in ("syscall", "workloads") else [])
        run = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        check(run.returncode == 0, f"{' '.join(cmd)} exited 0 (it exited {run.returncode})")
        try:
            doc = json.loads(run.stdout)
        except json.JSONDecodeError as e:
            check(False, f"the JSON parses ({e})")
        if which in ("irq", "nic"):
            (check_irq if which == "irq" else check_nic)(doc, svg_bins(svg))
            print(f"{checks} passed, 0 failed")
            return
        bars = svg_bars(svg)
        if which == "syscall":
            table = json.loads(subprocess.run([hostk, "syscalls", "--json"], stdout=subprocess.PIPE,
                                              text=True, check=True).stdout)
            check_syscall(doc, bars, {row["name"]: row["disp"] for row in table})
        else:
            check_workloads(doc, bars)
    print(f"{checks} passed, 0 failed")


main()
