#!/usr/bin/env python3
"""The soak run's publisher, sampler and plot (called by scripts/soak.sh; plain Python 3, no
packages).

  soak_helper.py run    --town DIR --hubctl P --data-dir D --out O [...]
      publishes the town's evaluations at a steady rate, then successive synthetic quarters of
      the same households, for --minutes; now and then a plugin lifecycle operation and a
      parked-event retry or skip; samples hubd every --sample-seconds into O/samples.csv.
      SIGINT/SIGTERM end the run early (what was sampled is kept).
  soak_helper.py report --out O [...]
      writes O/soak.svg and O/summary.txt from O/samples.csv and O/run.json, prints the
      summary line and exits 1 when a figure is not flat (see FLATNESS in scripts/soak.sh).
  soak_helper.py free-ports N
"""
import argparse
import csv
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

HEADER = ["household_id", "status", "quarter", "effective_date", "designations", "basis"]
COLUMNS = ["minute", "utc", "elapsed_s", "published", "rss_kb", "fds", "events_wal_bytes", "ledger_wal_bytes",
           "audit_wal_bytes", "deliveries", "p99_s", "p99_all_s", "lag", "parked", "host_rss_kb", "ops"]


def log(out, text):
    line = time.strftime("%H:%M:%S", time.gmtime()) + " " + text
    with open(os.path.join(out, "soak.log"), "a", encoding="utf-8") as f:
        f.write(line + "\n")


# ---------------------------------------------------------------- the events


def next_quarter(q):
    year, n = int(q[:4]), int(q[5])
    return f"{year + 1}Q1" if n == 4 else f"{year}Q{n + 1}"


def quarter_effective(q):
    """The day after the quarter ends, as the generator's files have it (2020Q4 -> 2021-01-01)."""
    year, n = int(q[:4]), int(q[5])
    return f"{year + 1}-01-01" if n == 4 else f"{year}-{3 * n + 1:02d}-01"


def rows(town, seed):
    """The town's evaluation files, then one synthetic quarter after another for ever: each
    household keeps its status, or (5 %) moves to another one; a few are designated for
    assistance."""
    rng = random.Random(seed)
    status = {}
    quarter = None
    for name in sorted(f for f in os.listdir(town) if re.fullmatch(r"evaluations-\d{4}Q[1-4]\.csv", f)):
        with open(os.path.join(town, name), encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                status[r["household_id"]] = r["status"]
                quarter = r["quarter"]
                yield [r[h] for h in HEADER]
    households = list(status)
    while True:
        quarter = next_quarter(quarter)
        effective = quarter_effective(quarter)
        for h in households:
            if rng.random() < 0.05:
                status[h] = rng.choice([s for s in ("credit", "non_credit", "breach") if s != status[h]])
            designations = "assistance" if rng.random() < 0.06 else ""
            yield [h, status[h], quarter, effective, designations, f"soak replay {quarter}"]


# ---------------------------------------------------------------- the hub


def hubctl(args, cmd, timeout=60):
    try:
        p = subprocess.run([args.hubctl, "--data-dir", args.data_dir] + cmd, capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, (p.stdout + p.stderr).strip()
    except subprocess.TimeoutExpired:
        return 124, "timed out"


def metrics(url):
    with urllib.request.urlopen(url + "metrics", timeout=20) as r:
        text = r.read().decode()
    buckets, lag, parked, deliveries = {}, 0, 0, 0  # buckets: department -> {le: cumulative count}
    for line in text.splitlines():
        if line.startswith("hub_delivery_latency_seconds_bucket{"):
            le = re.search(r'le="([^"]+)"', line).group(1)
            dept = re.search(r'department="([^"]+)"', line).group(1)
            bound = float("inf") if le == "+Inf" else float(le)
            buckets.setdefault(dept, {})[bound] = float(line.rsplit(" ", 1)[1])
        elif line.startswith("hub_delivery_lag_events{"):
            lag += int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith("hub_parked_events{"):
            parked += int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith("hub_delivery_latency_seconds_count{"):
            deliveries += int(float(line.rsplit(" ", 1)[1]))
    return buckets, lag, parked, deliveries


def p99(now, before, departments):
    """The 0.99 quantile of the deliveries to these departments between two scrapes, from the
    difference of the cumulative buckets, interpolated inside its bucket as Prometheus'
    histogram_quantile does."""
    bounds = sorted({b for d in departments for b in now.get(d, {})})
    diff = [sum(now.get(d, {}).get(b, 0) - before.get(d, {}).get(b, 0) for d in departments) for b in bounds]
    total = diff[-1] if diff else 0
    if total <= 0:
        return None
    rank = 0.99 * total
    lower, below = 0.0, 0.0
    for b, c in zip(bounds, diff):
        if c >= rank:
            if b == float("inf"):
                return lower
            return lower + (b - lower) * ((rank - below) / (c - below) if c > below else 1.0)
        lower, below = b, c
    return bounds[-2] if len(bounds) > 1 else None


def proc_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] not in "ZX"
    except OSError:
        return False


def size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


# ---------------------------------------------------------------- run


def run(args):
    stop = {"why": None}

    def on_signal(signum, _frame):
        stop["why"] = signal.Signals(signum).name

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with open(os.path.join(args.data_dir, "hubd.endpoints.json")) as f:
        url = json.load(f)["http"]
    chunk_dir = os.path.join(args.work, "chunks")
    os.makedirs(chunk_dir, exist_ok=True)
    source = rows(args.town, args.seed)
    lifecycle = [["plugins", "reload", d] for d in args.in_process.split(",") if d and d != args.parked_department]
    lifecycle += [["plugins", "reload", d] for d in args.hosted.split(",") if d]
    toggles = [d for d in (args.in_process.split(",") + args.hosted.split(",")) if d and d != args.parked_department]
    for d in toggles:
        lifecycle.append(["plugins", "disable", d, "--reason", "soak"])
    state = {"published": 0, "already_there": 0, "import_failures": 0, "ops": 0, "op_failures": 0, "parked_actions": 0,
             "parked_seen": 0, "started": time.time()}
    pending_enable = []  # (when, department)
    disturbed = set()  # departments disabled at some moment since the last sample
    samples = open(os.path.join(args.out, "samples.csv"), "w", newline="")
    writer = csv.writer(samples)
    writer.writerow(COLUMNS)
    start = time.time()
    end = start + args.minutes * 60
    next_publish = start
    next_sample = start + args.sample_seconds
    next_op = start + args.lifecycle_seconds
    next_parked = start + args.parked_seconds
    op_index, parked_index, ops_this_minute = 0, 0, 0
    before, _, _, _ = metrics(url)
    minute = 0
    failure = None
    chunk = []
    log(args.out, f"run: {args.minutes} min at {args.rate} events/s, samples every {args.sample_seconds} s")
    while stop["why"] is None and time.time() < end:
        now = time.time()
        if not alive(args.hubd_pid):
            failure = "hubd died"
            break
        if not alive(args.host_pid):
            failure = "hub-plugin-host died"
            break
        if now >= next_publish:
            if not chunk:
                n = max(1, int(round(args.rate * args.publish_seconds)))
                chunk = [next(source) for _ in range(n)]
            path = os.path.join(chunk_dir, "chunk.csv")
            with open(path, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(HEADER)
                w.writerows(chunk)
            code, text = hubctl(args, ["import", path])
            m = re.search(r"(\d+) stored, (\d+) already there", text)
            if code == 0 and m:
                state["published"] += int(m.group(1))
                state["already_there"] += int(m.group(2))
                chunk = []
            else:
                state["import_failures"] += 1
                log(args.out, f"import failed ({code}), sent again next time: {text[:300]}")
            next_publish += args.publish_seconds
            if next_publish < time.time() - args.publish_seconds:  # fell behind: do not burst
                next_publish = time.time()
        for when, dept in list(pending_enable):
            if now >= when:
                pending_enable.remove((when, dept))
                code, text = hubctl(args, ["plugins", "enable", dept])
                state["ops"] += 1
                ops_this_minute += 1
                state["op_failures"] += code != 0
                disturbed.add(dept)
                log(args.out, f"plugins enable {dept}: {code} {text[:200]}")
        if now >= next_op and lifecycle:
            op = lifecycle[op_index % len(lifecycle)]
            op_index += 1
            code, text = hubctl(args, op)
            state["ops"] += 1
            ops_this_minute += 1
            state["op_failures"] += code != 0
            log(args.out, f"{' '.join(op)}: {code} {text[:200]}")
            if op[1] == "disable" and code == 0:
                pending_enable.append((now + args.disabled_seconds, op[2]))
                disturbed.add(op[2])
            next_op += args.lifecycle_seconds
        if now >= next_parked and args.parked_department:
            code, text = hubctl(args, ["--json", "parked", "list", "--department", args.parked_department])
            try:
                listed = json.loads(text)
                n = len(listed.get("parked", listed.get("events", []))) if isinstance(listed, dict) else len(listed)
            except ValueError:
                n = -1
            action = "retry" if parked_index % 2 == 0 else "skip"
            parked_index += 1
            code, text = hubctl(args, ["parked", action, "--department", args.parked_department])
            # not_parked: nothing was parked at that moment; not a failure of the hub
            if code == 0 or "still parked" in text:  # a retry that failed again re-parks it
                state["parked_actions"] += 1
            log(args.out, f"parked list: {n}; parked {action} --department {args.parked_department}: {code} "
                          f"{text[:200]}")
            next_parked += args.parked_seconds
        if now >= next_sample:
            minute += 1
            try:
                buckets, lag, parked, deliveries = metrics(url)
            except OSError as e:
                failure = f"/metrics failed: {e}"
                break
            # A department disabled during the minute waited for its enable on purpose: its
            # latencies are in p99_all, not in p99.
            steady = [d for d in buckets if d not in disturbed]
            q = p99(buckets, before, steady)
            q_all = p99(buckets, before, list(buckets))
            d = sum(b.get(float("inf"), 0) - before.get(dept, {}).get(float("inf"), 0) for dept, b in buckets.items())
            before = buckets
            disturbed = {dept for _, dept in pending_enable}
            fd_dir = f"/proc/{args.hubd_pid}/fd"
            try:
                fds = len(os.listdir(fd_dir))
            except OSError:
                fds = None
            state["parked_seen"] = max(state["parked_seen"], parked)
            writer.writerow([minute, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), int(now - start),
                             state["published"], proc_rss_kb(args.hubd_pid), fds,
                             size(os.path.join(args.data_dir, "events.db-wal")),
                             size(os.path.join(args.data_dir, "ledger.db-wal")),
                             size(os.path.join(args.data_dir, "audit.db-wal")), int(d),
                             "" if q is None else f"{q:.4f}", "" if q_all is None else f"{q_all:.4f}", lag, parked, proc_rss_kb(args.host_pid),
                             ops_this_minute])
            samples.flush()
            ops_this_minute = 0
            next_sample += args.sample_seconds
        time.sleep(max(0.0, min(next_publish, next_sample, 0.5 + time.time()) - time.time()))
    state["stopped_by"] = stop["why"] or ("failure" if failure else "duration")
    state["failure"] = failure
    state["seconds"] = int(time.time() - start)
    samples.close()
    # Whatever is still disabled is enabled again, so that the drain below can deliver it.
    for _, dept in pending_enable:
        hubctl(args, ["plugins", "enable", dept])
    state["source_quarter"] = next(source)[2]
    with open(os.path.join(args.out, "run.json"), "w") as f:
        json.dump(state, f, indent=2)
    log(args.out, f"run ended ({state['stopped_by']}): {state}")
    return 0


# ---------------------------------------------------------------- report


def read_samples(out):
    with open(os.path.join(out, "samples.csv"), newline="") as f:
        return list(csv.DictReader(f))


def num(v):
    return None if v in ("", None, "None") else float(v)


def series(samples, key, scale=1.0):
    return [(float(s["elapsed_s"]) / 60.0, None if num(s[key]) is None else num(s[key]) * scale) for s in samples]


def svg_plot(samples, path, title):
    panels = [("hubd RSS (MB)", [("rss", series(samples, "rss_kb", 1 / 1024), "#1f77b4")]),
              ("hubd open files", [("fds", series(samples, "fds"), "#2ca02c")]),
              ("WAL size (MB)", [("events.db-wal", series(samples, "events_wal_bytes", 1 / 2**20), "#d62728"),
                                 ("ledger.db-wal", series(samples, "ledger_wal_bytes", 1 / 2**20), "#9467bd")]),
              ("delivery latency p99 over the minute (ms; departments not disabled in that minute)",
               [("p99", series(samples, "p99_s", 1000), "#ff7f0e")]),
              ("lag (events not yet delivered, all departments)", [("lag", series(samples, "lag"), "#8c564b")])]
    width, ph, left, right, top, gap = 900, 150, 70, 20, 50, 45
    height = top + len(panels) * (ph + gap)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="24" text-anchor="middle" font-size="15">{title}</text>']
    xs = [x for _, lines in panels for _, pts, _ in lines for x, y in pts if y is not None]
    xmax = max(xs) if xs else 1.0
    xmax = max(xmax, 1.0)
    for i, (name, lines) in enumerate(panels):
        y0 = top + i * (ph + gap)
        ys = [y for _, pts, _ in lines for _, y in pts if y is not None]
        ymax = max(ys) if ys else 1.0
        ymax = ymax * 1.15 if ymax > 0 else 1.0
        px = lambda x: left + (width - left - right) * x / xmax  # noqa: E731
        py = lambda y: y0 + ph - ph * y / ymax  # noqa: E731
        out.append(f'<text x="{left}" y="{y0 - 8}" font-size="13">{name}</text>')
        out.append(f'<rect x="{left}" y="{y0}" width="{width - left - right}" height="{ph}" fill="none" '
                   f'stroke="#999"/>')
        for k in range(5):
            v = ymax * k / 4
            yy = py(v)
            out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{width - right}" y2="{yy:.1f}" stroke="#eee"/>')
            label = f"{v:.0f}" if ymax >= 20 else f"{v:.2f}"
            out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" fill="#555">{label}</text>')
        step = max(1, int(round(xmax / 10)))
        for m in range(0, int(xmax) + 1, step):
            out.append(f'<text x="{px(m):.1f}" y="{y0 + ph + 15}" text-anchor="middle" fill="#555">{m}</text>')
        for j, (label, pts, colour) in enumerate(lines):
            path_d = ""
            pen = "M"
            for x, y in pts:
                if y is None:
                    pen = "M"
                    continue
                path_d += f"{pen}{px(x):.1f},{py(y):.1f} "
                pen = "L"
            out.append(f'<path d="{path_d}" fill="none" stroke="{colour}" stroke-width="1.8"/>')
            for x, y in pts:
                if y is not None:
                    out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2" fill="{colour}"/>')
            if len(lines) > 1:
                out.append(f'<text x="{left + 10}" y="{y0 + 16 + 15 * j}" fill="{colour}">{label}</text>')
    out.append(f'<text x="{width / 2}" y="{height - 10}" text-anchor="middle" fill="#555">minutes since the '
               f'start of the steady publication</text>')
    out.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def report(args):
    samples = read_samples(args.out)
    with open(os.path.join(args.out, "run.json")) as f:
        state = json.load(f)
    extra = {}
    if args.final and os.path.exists(args.final):
        with open(args.final) as f:
            extra = json.load(f)
    problems = []
    if state.get("failure"):
        problems.append(state["failure"])
    problems += extra.get("problems", [])
    vals = lambda key: [num(s[key]) for s in samples if num(s[key]) is not None]  # noqa: E731
    rss, fds = vals("rss_kb"), vals("fds")
    wal = [max(num(s["events_wal_bytes"]) or 0, num(s["ledger_wal_bytes"]) or 0) for s in samples]
    p99s = vals("p99_s")
    n = len(samples)
    # Flatness, over the samples after the warm-up (the first 10 %, at least 2 minutes):
    # the second half against the first half.
    warm = max(2, n // 10)
    body = samples[warm:]
    half = len(body) // 2
    verdicts = {}
    if len(body) >= 4:
        first, second = body[:half], body[half:]
        col = lambda rows_, key: [num(s[key]) for s in rows_ if num(s[key]) is not None]  # noqa: E731
        mean = lambda v: sum(v) / len(v) if v else 0.0  # noqa: E731
        r1, r2 = mean(col(first, "rss_kb")), mean(col(second, "rss_kb"))
        growth = (r2 - r1) / r1 * 100 if r1 else 0.0
        verdicts["rss_growth_pct"] = round(growth, 1)
        if growth > args.rss_growth_pct:
            problems.append(f"RSS grew {growth:.1f} % from the first half to the second (bound "
                            f"{args.rss_growth_pct} %)")
        f1, f2 = col(first, "fds"), col(second, "fds")
        if f1 and f2 and max(f2) > max(f1) + args.fd_slack:
            problems.append(f"open files grew: first half max {max(f1):.0f}, second half max {max(f2):.0f} "
                            f"(slack {args.fd_slack})")
        w1 = [max(num(s["events_wal_bytes"]) or 0, num(s["ledger_wal_bytes"]) or 0) for s in first]
        w2 = [max(num(s["events_wal_bytes"]) or 0, num(s["ledger_wal_bytes"]) or 0) for s in second]
        # hubd cuts a WAL back to 64 MiB when it restarts (journal_size_limit); docs/operations.md
        # tells operators to allow about 128 MiB for each.
        if max(w2) > args.wal_limit_mb * 2**20:
            problems.append(f"a WAL passed {args.wal_limit_mb:g} MB: {max(w2) / 2**20:.1f} MB in the second half")
        if min(w2) > max(w1) and max(w2) - max(w1) > args.wal_growth_mb * 2**20:
            problems.append(f"WAL kept growing: never below {min(w2) / 2**20:.1f} MB in the second half, above the "
                            f"first half's largest ({max(w1) / 2**20:.1f} MB), up to {max(w2) / 2**20:.1f} MB")
        q1, q2 = col(first, "p99_s"), col(second, "p99_s")
        if q1 and q2 and max(q2) > max(2 * max(q1), args.p99_floor_s):
            problems.append(f"p99 grew: first half max {max(q1):.3f} s, second half max {max(q2):.3f} s")
    else:
        problems.append(f"too few samples to judge flatness ({n}; need {warm + 4})")
    mb = lambda kb: f"{kb / 1024:.1f}MB"  # noqa: E731
    minutes = round(float(samples[-1]["elapsed_s"]) / 60, 1) if samples else 0
    fields = [f"minutes={minutes:g}", f"samples={n}", f"events={state['published']}",
              f"rss_first={mb(rss[0]) if rss else '-'}", f"rss_last={mb(rss[-1]) if rss else '-'}",
              f"rss_max={mb(max(rss)) if rss else '-'}",
              f"rss_growth={verdicts.get('rss_growth_pct', '-')}%",
              f"fds_first={int(fds[0]) if fds else '-'}", f"fds_last={int(fds[-1]) if fds else '-'}",
              f"fds_max={int(max(fds)) if fds else '-'}",
              f"wal_max={max(wal) / 2**20:.1f}MB" if wal else "wal_max=-",
              f"p99_median={sorted(p99s)[len(p99s) // 2] * 1000:.0f}ms" if p99s else "p99_median=-",
              f"p99_max={max(p99s) * 1000:.0f}ms" if p99s else "p99_max=-",
              f"lifecycle_ops={state['ops']}", f"lifecycle_failures={state['op_failures']}",
              f"parked_max={state['parked_seen']}", f"parked_actions={state['parked_actions']}",
              f"import_failures={state['import_failures']}"]
    for k in ("lost", "undelivered", "hubd_exit"):
        if k in extra:
            fields.append(f"{k}={extra[k]}")
    fields.append(f"stopped_by={state['stopped_by']}")
    fields.append("verdict=" + ("flat" if not problems else "NOT-FLAT"))
    line = " ".join(fields)
    title = f"Chengxin Hub soak: {minutes:g} min at {args.rate:g} events/s"
    if state["stopped_by"] != "duration":
        title += f" (stopped early by {state['stopped_by']})"
    elif minutes < 720:
        title += " (a SHORT run, not the 12 h one)"
    if n:
        svg_plot(samples, os.path.join(args.out, "soak.svg"), title)
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write(line + "\n")
        for p in problems:
            f.write("problem: " + p + "\n")
    print(line)
    for p in problems:
        print("soak: problem: " + p, file=sys.stderr)
    return 1 if problems else 0


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    print(" ".join(str(s.getsockname()[1]) for s in socks))
    for s in socks:
        s.close()
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    for name in ("town", "hubctl", "data-dir", "out", "work"):
        r.add_argument("--" + name, required=True)
    r.add_argument("--hubd-pid", type=int, required=True)
    r.add_argument("--host-pid", type=int, required=True)
    r.add_argument("--minutes", type=float, required=True)
    r.add_argument("--rate", type=float, required=True)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--in-process", default="")
    r.add_argument("--hosted", default="")
    r.add_argument("--parked-department", default="")
    r.add_argument("--publish-seconds", type=float, default=5)
    r.add_argument("--sample-seconds", type=float, default=60)
    r.add_argument("--lifecycle-seconds", type=float, default=240)
    r.add_argument("--disabled-seconds", type=float, default=30)
    r.add_argument("--parked-seconds", type=float, default=300)
    rep = sub.add_parser("report")
    rep.add_argument("--out", required=True)
    rep.add_argument("--final", default="")
    rep.add_argument("--rate", type=float, default=0)
    rep.add_argument("--rss-growth-pct", type=float, default=10)
    rep.add_argument("--fd-slack", type=int, default=8)
    rep.add_argument("--wal-limit-mb", type=float, default=128)
    rep.add_argument("--wal-growth-mb", type=float, default=8)
    rep.add_argument("--p99-floor-s", type=float, default=1.0)
    fp = sub.add_parser("free-ports")
    fp.add_argument("n", type=int)
    args = ap.parse_args()
    if args.cmd == "run":
        return run(args)
    if args.cmd == "report":
        return report(args)
    return free_ports(args.n)


if __name__ == "__main__":
    sys.exit(main())
