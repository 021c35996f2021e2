#!/usr/bin/env python3
"""Runs rotina, Go and raw-CAF side by side and summarizes (called by bench/run).

For each workload, RUNS rounds of: rotina, Go, CAF (fresh processes, in that
order), so that machine load hits all three alike. Each process prints the
anchor line `<workload> <ns_per_op> ns/op [key=value ...]`
(../shared/bench-anchors/README.md); its peak RSS and CPU time (user+sys) come from
GNU time (/usr/bin/time). Writes into --results:
  raw.txt           every line printed, with its command, exit status, RSS, CPU
  table.txt         the table printed on stdout
  table.md          the same as a Markdown table (for docs/benchmarks.md)
  table.csv         one row per workload, machine-readable
  ratios.dat/.gp    gnuplot input; ratios.png the bar chart of the ratios
                    (only if gnuplot is installed: Debian's gnuplot-nox; else
                    the chart is skipped, and the summary says so)
  machine.txt       date, CPU, cores, load average at start and end
Exit status 1 if any rotina run failed (wrong result, crash, timeout).
--from-raw RAW re-summarizes an earlier run's raw.txt without running.
"""

import argparse
import datetime
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

WORKLOADS = ["spawn", "park", "pingpong", "buffered", "fanin", "workerpool",
             "sieve", "select", "errgroup", "errgroup_cancel"]

# The op each workload's ns/op counts (README "Workload definitions").
OPS = {
    "spawn": "goroutine", "park": "wake+exit", "pingpong": "round trip",
    "buffered": "item", "fanin": "item", "workerpool": "job",
    "sieve": "prime", "select": "item", "errgroup": "task",
    "errgroup_cancel": "task",
}

# Raw-CAF rows: the CAF anchors have spawn, park, pingpong, fanin and
# workerpool. By default each runs with the policy that was fastest in the
# reference run (../shared/bench-anchors/results/summary-caf.txt); spawn on
# the stealing policy only at n=20,000 (its steal is O(queue length), 1M does
# not finish), as caf/run does. CAF_VARIANTS=all runs both policies and the
# table keeps the better median.
CAF_BEST = {"spawn": "sharing", "park": "sharing", "pingpong": "stealing",
            "fanin": "stealing", "workerpool": "stealing"}

# The per-op memory key each workload reports, if any.
MEM_KEYS = {"spawn": "peak_rss_bytes_per_op", "park": "rss_bytes_per_op"}


def read_loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def parse_line(workload, text):
    """Returns (ns_per_op, {key: value}) of the workload's line, or None."""
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 3 and f[0] == workload and f[2] == "ns/op":
            kv = dict(x.split("=", 1) for x in f[3:] if "=" in x)
            return float(f[1]), kv
    return None


def run_once(cmd, env, timeout):
    """Runs cmd under GNU time; returns (status, stdout, stderr, maxrss_bytes,
    cpu_s). GNU time reports the child's own peak RSS: wait4(2) from this
    process would count the Python parent's RSS, which the child's
    ru_maxrss inherits across fork and exec."""
    base = "/tmp/rotina-compare-%d" % os.getpid()
    out_path, err_path, time_path = base + ".out", base + ".err", base + ".time"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen(
            ["/usr/bin/time", "-f", "%M %U %S", "-o", time_path] + cmd,
            stdout=out, stderr=err, env=dict(os.environ, **env),
            start_new_session=True)
        try:
            status = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # our own child's process group, by its id
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            status = -1
    with open(out_path) as f:
        stdout = f.read()
    with open(err_path) as f:
        stderr = f.read()
    rss, cpu = 0, 0.0
    try:
        with open(time_path) as f:
            last = f.read().strip().splitlines()[-1].split()
        rss = int(last[0]) * 1024
        cpu = float(last[1]) + float(last[2])
    except (OSError, IndexError, ValueError):
        pass
    for p in (out_path, err_path, time_path):
        if os.path.exists(p):
            os.unlink(p)
    return status, stdout, stderr, rss, cpu


def fmt_ns(x):
    if x is None:
        return "-"
    if x >= 1000:
        return "{:,.0f}".format(x)
    return "{:.1f}".format(x)


def fmt_ratio(x):
    return "-" if x is None else "{:.2f}".format(x)


def median_or_none(xs):
    return statistics.median(xs) if xs else None


def parse_raw(path):
    """Reads a raw.txt written by an earlier run: returns (workloads in order,
    results, failures, started, load_start, load_end, runs)."""
    import re
    head = re.compile(r"# (\w+)(?:@(\w+))? run (\d+): (.*)  exit=(-?\d+) "
                      r"maxrss=(\d+) cpu_s=([\d.]+) loadavg=(.*)")
    workloads, results, failures = [], {}, []
    started, load_start, load_end, runs = None, "?", "?", 0
    cur = None

    def flush():
        if cur is None:
            return
        w, suite, variant, status, rss, cpu, out = cur
        line = parse_line(w, "".join(out))
        if status != 0 or line is None:
            failures.append((w, suite, variant, status, ""))
            return
        ns, kv = line
        results[w].setdefault((suite, variant), []).append(
            {"ns": ns, "kv": kv, "rss": rss, "cpu_s": cpu})

    with open(path) as f:
        first = f.readline().split()
        started = datetime.datetime.fromisoformat(first[1])
        load_start = " ".join(first[3:6])
        for line in f:
            m = head.match(line)
            if m:
                flush()
                suite, variant, rnd, cmd, status, rss, cpu, _ = m.groups()
                w = re.search(r"-bench=(\w+)", cmd).group(1)
                if w not in results:
                    workloads.append(w)
                    results[w] = {}
                runs = max(runs, int(rnd))
                cur = (w, suite, variant or "", int(status), int(rss),
                       float(cpu), [])
            elif line.startswith("# end loadavg"):
                flush()
                cur = None
                load_end = " ".join(line.split()[3:6])
            elif not line.startswith("#") and cur is not None:
                cur[6].append(line)
    flush()
    return workloads, results, failures, started, load_start, load_end, runs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rotina", default="")
    ap.add_argument("--go", default="")
    ap.add_argument("--caf", default="")
    ap.add_argument("--results", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workloads", default=" ".join(WORKLOADS))
    ap.add_argument("--caf-variants", default="best", choices=["best", "all"])
    ap.add_argument("--scale", default="1.0",
                    help="count multiplier for every suite (1.0: anchor counts)")
    ap.add_argument("--timeout", type=float, default=240)
    ap.add_argument("--from-raw", metavar="RAW",
                    help="summarize an earlier run's raw.txt instead of running")
    a = ap.parse_args()
    if not a.from_raw and not (a.rotina and a.go and a.caf):
        ap.error("--rotina, --go and --caf are required unless --from-raw")

    os.makedirs(a.results, exist_ok=True)
    threads = str(a.threads)
    workloads = a.workloads.split()
    for w in workloads:
        if w not in WORKLOADS:
            sys.exit("compare.py: unknown workload " + w)

    if a.from_raw:
        (workloads, results, failures, started, load_start, load_end,
         a.runs) = parse_raw(a.from_raw)
    else:
        load_start = read_loadavg()
        started = datetime.datetime.now(datetime.timezone.utc)

        def suites(w):
            """[(suite, variant, cmd, env)] in the order they alternate."""
            r = ["--bench=" + w, "--scale=" + a.scale,
                 "--scheduler.max-threads=" + threads]
            if w == "spawn":
                r.append("--cold-only")  # like caf/run's spawn rows
            rows = [("rotina", "", [a.rotina] + r, {})]
            rows.append(("go", "", [a.go, "-bench=" + w, "-procs=" + threads,
                                    "-scale=" + a.scale],
                         {"GOMAXPROCS": threads}))
            if w in CAF_BEST:
                policies = ["stealing", "sharing"] if a.caf_variants == "all" \
                    else [CAF_BEST[w]]
                for p in policies:
                    c = [a.caf, "--bench=" + w,
                         "--scheduler.max-threads=" + threads,
                         "--scheduler.policy=" + p]
                    scale = a.scale
                    if w == "spawn":
                        c.append("--cold-only")
                        if p == "stealing":
                            scale = str(float(a.scale) * 0.02)
                    c.append("--scale=" + scale)
                    rows.append(("caf", p, c, {}))
            return rows

        raw = open(os.path.join(a.results, "raw.txt"), "w")
        raw.write("# %s loadavg %s\n" % (started.isoformat(timespec="seconds"),
                                         load_start))
        # results[w][(suite, variant)] = list of dicts
        results = {}
        failures = []
        for w in workloads:
            results[w] = {}
            rows = suites(w)
            for rnd in range(a.runs):
                for suite, variant, cmd, env in rows:
                    status, out, err, rss, cpu = run_once(cmd, env, a.timeout)
                    line = parse_line(w, out)
                    raw.write("# %s%s run %d: %s  exit=%d maxrss=%d cpu_s=%.3f "
                              "loadavg=%s\n" % (suite, "@" + variant if variant else "",
                                                rnd + 1, " ".join(cmd), status, rss,
                                                cpu, read_loadavg()))
                    raw.write(out)
                    for l in err.splitlines():
                        raw.write("# stderr: " + l + "\n")
                    raw.flush()
                    key = (suite, variant)
                    if status != 0 or line is None:
                        failures.append((w, suite, variant, status, err.strip()))
                        print("FAILED: %s %s%s run %d (exit %d): %s" % (
                            w, suite, "@" + variant if variant else "", rnd + 1,
                            status, err.strip()[-300:]), file=sys.stderr)
                        continue
                    ns, kv = line
                    results[w].setdefault(key, []).append(
                        {"ns": ns, "kv": kv, "rss": rss, "cpu_s": cpu})
            print("  %-16s done (loadavg %s)" % (w, read_loadavg()),
                  file=sys.stderr)
        load_end = read_loadavg()
        raw.write("# end loadavg %s\n" % load_end)
        raw.close()

    # -- summary ------------------------------------------------------------------
    table = []
    for w in workloads:
        res = results[w]

        def summary(key):
            runs = res.get(key, [])
            if not runs:
                return None
            s = {
                "ns": median_or_none([r["ns"] for r in runs]),
                "min": min(r["ns"] for r in runs),
                "max": max(r["ns"] for r in runs),
                "runs": len(runs),
                "rss": median_or_none([r["rss"] for r in runs]),
                "cpu_s": median_or_none([r["cpu_s"] for r in runs]),
                "n": runs[0]["kv"].get("n", "?"),
            }
            for k in ("cpu_ns_per_op", MEM_KEYS.get(w)):
                if k:
                    vals = [float(r["kv"][k]) for r in runs if k in r["kv"]]
                    s[k] = median_or_none(vals)
            return s

        r = summary(("rotina", ""))
        g = summary(("go", ""))
        cafs = [(v, summary(("caf", v))) for (s, v) in res if s == "caf"]
        cafs = [(v, s) for v, s in cafs if s]
        c_var, c = (min(cafs, key=lambda vs: vs[1]["ns"]) if cafs
                    else ("", None))
        if not cafs and w in CAF_BEST:
            c_var = "FAILED"
        mem_key = MEM_KEYS.get(w)
        table.append({
            "workload": w, "op": OPS[w],
            "n": r["n"] if r else (g["n"] if g else "?"),
            "rotina": r, "go": g, "caf": c, "caf_variant": c_var,
            "r_go": r["ns"] / g["ns"] if r and g else None,
            "r_caf": r["ns"] / c["ns"] if r and c else None,
            "mem_key": mem_key,
        })

    def cell(s, k="ns"):
        return fmt_ns(s[k]) if s and s.get(k) is not None else "-"

    def mib(s):
        return "{:.1f}".format(s["rss"] / 2**20) if s else "-"

    def mem(row, s):
        k = row["mem_key"]
        return "{:.0f}".format(s[k]) if k and s and s.get(k) is not None \
            else "-"

    def caf_cell(row):
        if row["caf"] is None:
            return "FAIL" if row["caf_variant"] == "FAILED" else "-"
        v = row["caf_variant"]
        n = row["caf"]["n"]
        note = v + ("" if n == row["n"] else ", n=" + n)
        return "%s (%s)" % (fmt_ns(row["caf"]["ns"]), note)

    def proc_cpu(row, s):
        # whole-process CPU (GNU time) per op; not for spawn and park, whose
        # Go processes repeat the workload and whose ns/op is one phase
        if not s or row["workload"] in MEM_KEYS:
            return "-"
        return fmt_ns(s["cpu_s"] * 1e9 / float(s["n"]))

    header = ["workload", "op", "n", "rotina ns/op", "Go ns/op", "CAF ns/op",
              "rotina/Go", "rotina/CAF", "rotina cpu ns/op",
              "process CPU ns/op rotina/Go/CAF",
              "peak RSS MiB rotina/Go/CAF", "mem B/op rotina/Go/CAF"]
    rows = []
    for row in table:
        r, g, c = row["rotina"], row["go"], row["caf"]
        rows.append([
            row["workload"], row["op"], row["n"],
            cell(r) if r else "FAIL", cell(g) if g else "FAIL", caf_cell(row),
            fmt_ratio(row["r_go"]), fmt_ratio(row["r_caf"]),
            cell(r, "cpu_ns_per_op"),
            "%s / %s / %s" % (proc_cpu(row, r), proc_cpu(row, g),
                              proc_cpu(row, c)),
            "%s / %s / %s" % (mib(r), mib(g), mib(c)),
            ("%s / %s / %s" % (mem(row, r), mem(row, g), mem(row, c)))
            if row["mem_key"] else "-",
        ])
    widths = [max(len(str(x[i])) for x in [header] + rows)
              for i in range(len(header))]
    lines = []
    for x in [header] + rows:
        lines.append("  ".join(str(v).rjust(widths[i]) if i >= 2 else
                               str(v).ljust(widths[i])
                               for i, v in enumerate(x)).rstrip())
    lines.insert(1, "-" * len(lines[0]))
    title = ("medians of %d paired runs, scheduler threads = GOMAXPROCS = %s, "
             "%s, loadavg %s -> %s" % (a.runs, threads,
                                       started.strftime("%Y-%m-%d %H:%M UTC"),
                                       load_start, load_end))
    text = title + "\n" + "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(os.path.join(a.results, "table.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(a.results, "table.md"), "w") as f:
        f.write("| " + " | ".join(header) + " |\n")
        f.write("|" + "|".join("---" for _ in header) + "|\n")
        for x in rows:
            f.write("| " + " | ".join(str(v) for v in x) + " |\n")

    # -- CSV ------------------------------------------------------------------------
    import csv
    with open(os.path.join(a.results, "table.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["workload", "op", "n",
                     "rotina_ns", "rotina_min", "rotina_max", "rotina_runs",
                     "go_ns", "go_min", "go_max", "go_runs",
                     "caf_ns", "caf_min", "caf_max", "caf_runs", "caf_variant",
                     "caf_n", "rotina_over_go", "rotina_over_caf",
                     "rotina_cpu_ns_per_op", "rotina_peak_rss_bytes",
                     "go_peak_rss_bytes", "caf_peak_rss_bytes",
                     "rotina_process_cpu_s", "go_process_cpu_s",
                     "caf_process_cpu_s", "mem_key", "rotina_mem_per_op",
                     "go_mem_per_op", "caf_mem_per_op"])

        def g_(s, k):
            return "" if not s or s.get(k) is None else s[k]

        for row in table:
            r, g, c = row["rotina"], row["go"], row["caf"]
            k = row["mem_key"]
            wr.writerow([row["workload"], row["op"], row["n"],
                         g_(r, "ns"), g_(r, "min"), g_(r, "max"), g_(r, "runs"),
                         g_(g, "ns"), g_(g, "min"), g_(g, "max"), g_(g, "runs"),
                         g_(c, "ns"), g_(c, "min"), g_(c, "max"), g_(c, "runs"),
                         row["caf_variant"], g_(c, "n"),
                         "" if row["r_go"] is None else row["r_go"],
                         "" if row["r_caf"] is None else row["r_caf"],
                         g_(r, "cpu_ns_per_op"), g_(r, "rss"), g_(g, "rss"),
                         g_(c, "rss"), g_(r, "cpu_s"), g_(g, "cpu_s"),
                         g_(c, "cpu_s"), k or "",
                         g_(r, k) if k else "", g_(g, k) if k else "",
                         g_(c, k) if k else ""])

    # -- machine --------------------------------------------------------------------
    with open(os.path.join(a.results, "machine.txt"), "w") as f:
        f.write("date: %s\n" % started.isoformat(timespec="seconds"))
        f.write("cores: %d\n" % os.cpu_count())
        f.write("cpu: %s\n" % cpu_model())
        f.write("loadavg at start: %s\n" % load_start)
        f.write("loadavg at end: %s\n" % load_end)
        if a.from_raw:
            f.write("runs: %d, summarized from %s\n" % (a.runs, a.from_raw))
        else:
            f.write("runs: %d, threads: %s, scale: %s, caf variants: %s\n" % (
                a.runs, threads, a.scale, a.caf_variants))

    # -- chart ----------------------------------------------------------------------
    dat = os.path.join(a.results, "ratios.dat")
    with open(dat, "w") as f:
        f.write("# workload rotina/Go rotina/CAF\n")
        for row in table:
            f.write("%s %s %s\n" % (
                row["workload"],
                "-" if row["r_go"] is None else "%.4f" % row["r_go"],
                "-" if row["r_caf"] is None else "%.4f" % row["r_caf"]))
    png = os.path.join(a.results, "ratios.png")
    gp = os.path.join(a.results, "ratios.gp")
    with open(gp, "w") as f:
        f.write("""set terminal pngcairo size 1100,560 font ",11"
set output '%s'
set title "rotina time / other time per op (median of %d runs, %s threads; < 1: rotina faster)\\n%s, loadavg %s -> %s"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set datafile missing "-"
set logscale y 2
set yrange [0.0625:*]
set ylabel "ratio (log scale)"
set grid ytics
set xtics rotate by -30 noenhanced
set key top right
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 dt 2 lc rgb "black"
plot '%s' using 2:xtic(1) title "rotina / Go" lc rgb "#1f77b4", \\
     '' using 3 title "rotina / raw CAF" lc rgb "#ff7f0e"
""" % (png, a.runs, threads, started.strftime("%Y-%m-%d %H:%M UTC"),
            load_start, load_end, dat))
    # A chart from an earlier run must not pass for this run's.
    if os.path.exists(png):
        os.remove(png)
    chart = None
    if shutil.which("gnuplot") is None:
        print("compare.py: gnuplot is not installed: chart SKIPPED, no "
              "ratios.png (apt-get install gnuplot-nox; then re-draw it with "
              "gnuplot %s)" % gp, file=sys.stderr)
    else:
        try:
            subprocess.run(["gnuplot", gp], check=True)
            if os.path.exists(png):
                chart = "ratios.png"
            else:
                print("compare.py: gnuplot wrote no %s: chart SKIPPED" % png,
                      file=sys.stderr)
        except (OSError, subprocess.CalledProcessError) as e:
            print("compare.py: gnuplot failed: %s: chart SKIPPED, no "
                  "ratios.png" % e, file=sys.stderr)
    print("results: %s (table.txt, table.md, table.csv, %s%s"
          "machine.txt)" % (a.results, chart + ", " if chart else "",
                            "" if a.from_raw else "raw.txt, "))

    rotina_failed = [f for f in failures if f[1] == "rotina"]
    if failures:
        print("%d failed runs (see raw.txt): %s" % (
            len(failures), ", ".join("%s/%s%s" % (f[0], f[1],
                                                  "@" + f[2] if f[2] else "")
                                     for f in failures)), file=sys.stderr)
    return 1 if rotina_failed else 0


if __name__ == "__main__":
    sys.exit(main())
