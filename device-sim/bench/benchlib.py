"""Shared helpers of the device-sim/bench/ scripts (python3 standard library only).

Every bench script: starts its processes through `spawn` (each in its own process group, killed on exit, on
SIGINT/SIGTERM and on error), logs to stderr with `log`, talks only to loopback, and ends by printing ONE JSON line
with `emit`. Binaries come from `target/release/` (build once: `cargo build --release -p chargegate -p device-sim`)
or from $CHARGEGATE_BIN / $DEVICE_SIM_BIN.
"""

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(BENCH_DIR))
CHARGEGATE = os.environ.get("CHARGEGATE_BIN", os.path.join(ROOT, "target", "release", "chargegate"))
DEVICE_SIM = os.environ.get("DEVICE_SIM_BIN", os.path.join(ROOT, "target", "release", "device-sim"))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024

_children = []
_tmpdirs = []
_started = time.monotonic()


def log(*parts):
    """One progress line on stderr, stamped with seconds since the script started."""
    print(f"[{time.monotonic() - _started:6.1f}s]", *parts, file=sys.stderr, flush=True)


def emit(figures):
    """Prints the script's one JSON line of figures on stdout."""
    print(json.dumps(figures, separators=(",", ":"), ensure_ascii=False), flush=True)


def _cleanup():
    for p in reversed(_children):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 5
    for p in reversed(_children):
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    _children.clear()
    for d in _tmpdirs:
        d.cleanup()
    _tmpdirs.clear()


def _on_signal(signum, _frame):
    log(f"signal {signum}: stopping children")
    _cleanup()
    sys.exit(128 + signum)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)
signal.signal(signal.SIGHUP, _on_signal)


def tmpdir():
    """A scratch directory removed at exit."""
    d = tempfile.TemporaryDirectory(prefix="chargegate-bench-")
    _tmpdirs.append(d)
    return d.name


def spawn(argv, name, stdout=None, env=None):
    """Starts `argv` in a new process group (so cleanup reaches its children too); stderr goes to a log file."""
    logdir = tmpdir()
    errpath = os.path.join(logdir, f"{name}.stderr")
    err = open(errpath, "wb")
    p = subprocess.Popen(argv, stdout=stdout or subprocess.DEVNULL, stderr=err, start_new_session=True,
                         env=env)
    p.bench_name = name
    p.bench_stderr = errpath
    _children.append(p)
    log(f"started {name} pid {p.pid}: {' '.join(argv[:3])} …")
    return p


def stop(p, sig=signal.SIGTERM, timeout=15):
    """Stops one child we started (its process group), waiting up to `timeout` seconds."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    if p in _children:
        _children.remove(p)


def stderr_tail(p, lines=15):
    """The last lines a child wrote to stderr, for error messages."""
    try:
        with open(p.bench_stderr, "rb") as f:
            return b"".join(f.readlines()[-lines:]).decode(errors="replace")
    except OSError:
        return ""


def free_port(host="127.0.0.1"):
    """A TCP port free on `host` right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def require_binaries(*paths):
    for p in paths or (CHARGEGATE, DEVICE_SIM):
        if not os.access(p, os.X_OK):
            sys.exit(f"missing {p}: run `cargo build --release -p chargegate -p device-sim` first")


# ---------- /proc ----------

def rss_kib(pid):
    """VmRSS of `pid` in KiB (resident user-space memory: heap, stacks, mapped code)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """utime + stime of `pid` (all its threads) in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the ")": state is field 3, utime 14, stime 15 → indexes 11 and 12 here.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def tree_cpu_seconds(pid):
    """utime + stime of `pid` and of its direct children (device-sim's `--procs` workers); 0 once gone."""
    total = 0.0
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids += [int(c) for c in f.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            total += cpu_seconds(p)
        except OSError:
            pass
    return total


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def machine():
    """A short description of the box, for the figures."""
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "cpu": model, "mem_gib": round(mem_kib / 2**20, 1),
            "kernel": os.uname().release, "loadavg_1m_at_start": round(load[0], 2)}


# ---------- HTTP and /metrics ----------

def http_get(port, path, timeout=5):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.status, r.read().decode()


def http_post_json(port, path, body, timeout=35):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metrics(port):
    """`/metrics` as {(name, ((label, value), …)): float}."""
    _, text = http_get(port, "/metrics")
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        name, labels = series, ()
        if "{" in series:
            name, rest = series.split("{", 1)
            pairs = []
            for part in rest.rstrip("}").split('",'):
                if "=" in part:
                    k, v = part.split("=", 1)
                    pairs.append((k.strip(), v.strip().strip('"')))
            labels = tuple(sorted(pairs))
        try:
            out[(name, labels)] = float(value)
        except ValueError:
            pass
    return out


def msum(m, name, **labels):
    """Sum of every series `name` whose labels include `labels`."""
    total = 0.0
    for (n, ls), v in m.items():
        if n == name and all((k, str(val)) in ls for k, val in labels.items()):
            total += v
    return total


def wait_until(pred, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pred():
                return True
        except (OSError, ValueError):
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


# ---------- the gateway ----------

class Gateway:
    """One `chargegate serve` process with its YKC and HTTP ports."""

    def __init__(self, proc, ykc_port, http_port, name):
        self.proc, self.ykc_port, self.http_port, self.name = proc, ykc_port, http_port, name

    @property
    def pid(self):
        return self.proc.pid

    def metrics(self):
        return metrics(self.http_port)


def start_gateway(name, ykc_port=None, http_port=None, ykc_host="127.0.0.1", reuse_port=False,
                  jsonl=None, sets=(), workers=None):
    """Starts `chargegate serve` with only the YKC and HTTP listeners, MQTT off, warnings-only logs.

    `ykc_host = "0.0.0.0"` is used only by the multi-process run with the old device-sim (it spreads chargers over
    destination addresses 127.0.0.x); the listener then allows 127.0.0.0/8 peers only.
    """
    ykc_port = ykc_port or free_port()
    http_port = http_port or free_port()
    argv = [CHARGEGATE, "serve", "--instance", name, "--ykc", f"{ykc_host}:{ykc_port}",
            "--http", f"127.0.0.1:{http_port}", "--log-level", "warn",
            "--set", "mqtt.mode=off",
            "--set", "listeners.ocpp_tcp.enabled=false",
            "--set", "listeners.gbt27930_can.enabled=false",
            "--set", "listeners.ykc.max_connections=19900",
            "--set", "listeners.ykc.accept_rate=0",
            "--set", "listeners.ykc.accept_rate_per_ip=0"]
    if workers is not None:
        argv += ["--workers", str(workers)]
    if reuse_port:
        argv += ["--set", "listeners.ykc.reuse_port=true"]
    if ykc_host != "127.0.0.1":
        argv += ["--set", 'listeners.ykc.allow=["127.0.0.0/8"]']
    if jsonl:
        argv += ["--set", "sinks.jsonl.enabled=true", "--set", f"sinks.jsonl.path={json.dumps(jsonl)}"]
    for s in sets:
        argv += ["--set", s]
    p = spawn(argv, name)
    try:
        wait_until(lambda: p.poll() is None and http_get(http_port, "/readyz", 1)[0] == 200, 30,
                   f"{name} /readyz")
    except TimeoutError:
        sys.exit(f"{name} did not become ready:\n{stderr_tail(p)}")
    return Gateway(p, ykc_port, http_port, name)


def gateway_counts(gw_or_list):
    """Connections, frames in/out, events, liveness timeouts summed over one or several gateways."""
    gws = gw_or_list if isinstance(gw_or_list, list) else [gw_or_list]
    out = {"connections": 0, "frames_in": 0, "frames_in_0x13": 0, "heartbeats_in": 0, "heartbeat_replies": 0,
           "login_replies": 0,
           "events_published": 0, "events_dropped": 0, "liveness_timeouts": 0, "decode_errors": 0}
    for g in gws:
        m = g.metrics()
        out["connections"] += msum(m, "chargegate_connections", listener="ykc")
        out["frames_in"] += msum(m, "chargegate_frames_in_total", protocol="ykc")
        out["frames_in_0x13"] += msum(m, "chargegate_frames_in_total", protocol="ykc", type="0x13")
        out["heartbeats_in"] += msum(m, "chargegate_frames_in_total", protocol="ykc", type="0x03")
        # Automatic replies (0x04 heartbeat replies, and 0x06/0x0A/0x56… when a charger asks) are type "reply".
        out["heartbeat_replies"] += msum(m, "chargegate_frames_out_total", protocol="ykc", type="reply")
        out["login_replies"] += msum(m, "chargegate_frames_out_total", protocol="ykc", type="login_reply")
        out["events_published"] += msum(m, "chargegate_events_published_total")
        out["events_dropped"] += msum(m, "chargegate_events_dropped_total")
        out["liveness_timeouts"] += msum(m, "chargegate_liveness_timeouts_total")
        out["decode_errors"] += msum(m, "chargegate_decode_errors_total")
    return {k: int(v) for k, v in out.items()}


# ---------- device-sim ----------

_caps = None


def sim_caps():
    """What this device-sim build offers: the full load-tool CLI (branch `sim`) or the minimal one."""
    global _caps
    if _caps is None:
        r = subprocess.run([DEVICE_SIM, "run", "--help"], capture_output=True, text=True, timeout=30)
        text = r.stdout + r.stderr
        _caps = {flag: (f"--{flag}" in text) for flag in
                 ("mix", "load-rate", "load-burst", "source-addrs", "procs", "observe", "report-file",
                  "heartbeat-idle", "heartbeat")}
        _caps["full"] = _caps["mix"] and _caps["report-file"]
    return _caps


def sim_argv(target, chargers, duration_s, ramp, heartbeat_s=None, load_rate=None, source_addrs=None,
             procs=None, observe=None, pile_base=None, report_file=None, extra=()):
    """device-sim argv for this build; raises `Unsupported` when the build lacks a feature asked for."""
    caps = sim_caps()
    argv = [DEVICE_SIM, "run", "--chargers", str(chargers), "--duration", f"{max(1, int(duration_s))}s"]
    if caps["full"]:
        argv += ["--target", f"ykc={target}", "--mix", "ykc:100", "--ramp", f"{ramp}/s",
                 "--report", "json", "--report-file", report_file]
        # No charging sessions: the benches want steady heartbeats (and --load-rate telemetry), and the Netty peer
        # answers login, heartbeat and the billing-model check only.
        argv += ["--charging-share", "0"]
        if heartbeat_s is not None:
            lo, hi = heartbeat_s if isinstance(heartbeat_s, tuple) else (heartbeat_s, heartbeat_s)
            if lo == hi:
                argv += ["--heartbeat", dur(lo)]
            else:
                argv += ["--heartbeat-idle", f"{dur(lo)}-{dur(hi)}", "--heartbeat-charging", f"{dur(lo)}-{dur(hi)}"]
        if load_rate:
            argv += ["--load-rate", f"{load_rate}/s"]
        if source_addrs:
            argv += ["--source-addrs", source_addrs]
        if procs:
            argv += ["--procs", str(procs)]
        if observe:
            argv += ["--observe", observe]
    else:
        if load_rate or source_addrs or procs or observe:
            raise Unsupported("this device-sim build has no --load-rate/--source-addrs/--procs/--observe "
                              "(the full load tool is on branch `sim`)")
        argv += ["--target", target, "--ramp", str(ramp), "--report", "json"]
        if heartbeat_s is not None:
            hb = heartbeat_s[0] if isinstance(heartbeat_s, tuple) else heartbeat_s
            argv += ["--heartbeat", dur(hb)]
    if pile_base is not None:
        argv += ["--pile-base", str(pile_base)]
    return argv + list(extra)


def dur(seconds):
    """A device-sim duration: whole seconds as `10s`, anything else in milliseconds."""
    return f"{int(seconds)}s" if float(seconds).is_integer() else f"{max(1, round(seconds * 1000))}ms"


class Unsupported(Exception):
    """A figure this build of device-sim or the gateway cannot produce yet."""


def start_sim(name, **kw):
    """Starts device-sim in the background; `finish_sim` waits and returns its normalized report."""
    d = tmpdir()
    report_file = os.path.join(d, "report.json")
    out_path = os.path.join(d, "stdout.json")
    argv = sim_argv(report_file=report_file, **kw)
    out = open(out_path, "wb")
    p = spawn(argv, name, stdout=out)
    p.report_file, p.out_path = report_file, out_path
    return p


def finish_sim(p, timeout):
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log(f"{p.bench_name} overran {timeout}s; stopping it")
        stop(p, signal.SIGINT)
    if p in _children:
        _children.remove(p)
    text = ""
    for path in (p.report_file, p.out_path):
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as f:
                text = f.read().strip()
            break
    if not text:
        raise RuntimeError(f"{p.bench_name} printed no report (exit {p.returncode}):\n{stderr_tail(p)}")
    return normalize_report(json.loads(text.splitlines()[-1]))


def normalize_report(r):
    """One shape for both device-sim report formats (the minimal flat one and the full nested one)."""
    if "connections" in r:
        c, f = r["connections"], r.get("frames", {})
        failed = c.get("failed", {})
        return {"attempted": c.get("attempted", 0), "up": c.get("up", 0),
                "failed": sum(failed.values()) if isinstance(failed, dict) else failed,
                "failed_by_reason": failed if isinstance(failed, dict) else {},
                "sent": f.get("sent", 0), "answered": f.get("answered", 0),
                "telemetry_sent": f.get("telemetry_sent", 0),
                "mismatches": sum(r.get("mismatches", {}).values()) if isinstance(r.get("mismatches"), dict)
                else r.get("mismatches", 0),
                "mismatches_by_kind": r.get("mismatches", {}) if isinstance(r.get("mismatches"), dict) else {},
                "disconnects": sum(failed.values()) if isinstance(failed, dict) else failed,
                "logged_in": c.get("established", 0),
                "latency_us": r.get("latency_us", {}), "raw": r}
    return {"attempted": r.get("connect_attempts", 0), "up": r.get("connected", 0),
            "failed": r.get("connect_failed", 0), "failed_by_reason": {},
            "sent": r.get("frames_sent", 0), "answered": r.get("frames_answered", 0), "telemetry_sent": 0,
            "mismatches": r.get("reply_mismatches", 0), "mismatches_by_kind": {},
            "logged_in": r.get("logged_in", 0), "disconnects": r.get("disconnects", 0),
            "latency_us": {}, "raw": r}


def merge_reports(reports):
    """Sums several normalized reports (one per device-sim process)."""
    out = {"attempted": 0, "up": 0, "failed": 0, "sent": 0, "answered": 0, "telemetry_sent": 0, "mismatches": 0,
           "logged_in": 0, "disconnects": 0}
    by = {"failed_by_reason": {}, "mismatches_by_kind": {}}
    for r in reports:
        for k in out:
            out[k] += r.get(k, 0) or 0
        for field, acc in by.items():
            for kind, n in (r.get(field) or {}).items():
                acc[kind] = acc.get(kind, 0) + n
    return {**out, **by}


def sim_mode():
    return "full" if sim_caps()["full"] else "minimal"


def round_dict(d, nd=3):
    return {k: (round(v, nd) if isinstance(v, float) else v) for k, v in d.items()}


# ---------- load runs (throughput, vs-netty) ----------

def load_sim_kwargs(target, chargers, duration_s, rate):
    """device-sim arguments for a steady frame load of `rate` frames/s spread over `chargers` connections.

    With the full device-sim this is `--load-rate` (0x13 real-time frames, fire-and-forget, as chargers send them).
    The minimal device-sim has no telemetry: it falls back to heartbeats at a short period (ping-pong, each answered
    by the gateway), which is a different and heavier per-frame path — the figures say which one ran.
    """
    if sim_caps()["full"] and sim_caps()["load-rate"]:
        # With --load-burst (default 100 ms) each charger writes the frames due in that period in one write (about
        # 7 frames at 150k/s over 2,000 chargers); older builds wrote one frame per write from 13 ms down to 10 ms.
        burst = ", one write per charger per 100 ms burst" if sim_caps()["load-burst"] else ""
        return dict(target=target, chargers=chargers, duration_s=duration_s, ramp=5000, heartbeat_s=(30, 45),
                    load_rate=rate), f"0x13 real-time data (--load-rate, fire-and-forget{burst})"
    period = max(0.001, chargers / rate)
    return dict(target=target, chargers=chargers, duration_s=duration_s, ramp=1000,
                heartbeat_s=period), f"0x03 heartbeat every {period * 1000:.0f} ms per charger (fallback: " \
                                     "this device-sim has no --load-rate; each frame is answered)"


class OursCounts:
    """Counter reader for a Chargegate process."""

    def __init__(self, gw):
        self.gw, self.pid = gw, gw.pid

    def counts(self):
        c = gateway_counts(self.gw)
        return {"frames_in": c["frames_in"], "events": c["events_published"], "dropped": c["events_dropped"],
                "connections": c["connections"], "replies": c["heartbeat_replies"] + c["login_replies"]}


def measure_load(server, sim_kwargs, warmup_s, window_s, name):
    """Runs device-sim against `server`, measures frames in, events and the server's CPU over a window.

    Returns figures; the window starts after `warmup_s` (connections up, JIT warm for the JVM).
    """
    sim = start_sim(name, **sim_kwargs)
    time.sleep(warmup_s)
    c0, cpu0, t0 = server.counts(), cpu_seconds(server.pid), time.monotonic()
    sim0 = tree_cpu_seconds(sim.pid)
    time.sleep(window_s)
    c1, cpu1, t1 = server.counts(), cpu_seconds(server.pid), time.monotonic()
    sim1 = tree_cpu_seconds(sim.pid)
    rss = rss_kib(server.pid)
    rep = finish_sim(sim, sim_kwargs["duration_s"] + 60)
    dt = t1 - t0
    frames = c1["frames_in"] - c0["frames_in"]
    events = c1["events"] - c0["events"]
    cpu = cpu1 - cpu0
    return {
        "window_s": round(dt, 2),
        "connections": c1["connections"],
        "frames_in_per_s": round(frames / dt),
        "events_per_s": round(events / dt),
        "events_dropped": c1["dropped"] - c0["dropped"],
        "cpu_cores": round(cpu / dt, 3),
        "cpu_s_per_mframe": round(cpu * 1e6 / frames, 2) if frames else None,
        "rss_kib": rss,
        # The load generator's own CPU (device-sim and its worker processes) over the same window.
        "sim_cpu_cores": round((sim1 - sim0) / dt, 3),
        "sim": {k: rep.get(k) for k in ("up", "failed", "sent", "answered", "telemetry_sent", "mismatches",
                                        "disconnects")},
    }
