#!/usr/bin/env python3
"""Speed and memory of `contree auth` (this project) against the Python
contree-cli 0.9.4, measured in the same run. Standard library only.

Run it through bench/run.sh (which builds everything and installs the Python
CLI); see bench/README.md for what is measured and how to read the output.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource  # noqa: F401  (documents where ru_maxrss comes from)
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024

# The round trip of case b, in milliseconds.
LATENCY_MS = 300


class BenchError(Exception):
    """A run that did not do what it should: the benchmark stops loudly."""


# ---------------------------------------------------------------------------
# Running one child and measuring it


@dataclass
class Run:
    wall: float  # seconds, from just before the fork to the reaping of the child
    maxrss_kib: int  # the child's peak resident set (ru_maxrss, KiB on Linux)
    code: int | None  # exit code; None when killed at the cap
    stdout: str
    stderr: str

    @property
    def killed(self) -> bool:
        return self.code is None


def run_child(cmd: list[str], env: dict[str, str], cap: float) -> Run:
    """Runs `cmd` with stdin closed, output to temporary files, and reaps it
    with os.wait4 to get its own rusage. After `cap` seconds its process group
    is killed and the run is reported as killed."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group, killed as a whole
        )
        done = threading.Event()
        killed = threading.Event()

        def kill() -> None:
            if not done.is_set():
                killed.set()
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

        timer = threading.Timer(cap, kill)
        timer.daemon = True
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            done.set()
            timer.cancel()
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code  # reaped here; keeps Popen from waiting again
        out.seek(0)
        err.seek(0)
        return Run(
            wall=wall,
            maxrss_kib=usage.ru_maxrss,
            code=None if killed.is_set() else code,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


# ---------------------------------------------------------------------------
# auth.ini in the layout Python's configparser writes


def write_auth_ini(path: Path, profiles: list[tuple[str, str, str]]) -> None:
    """profiles: (name, url, token), all jwt. The first one is `default`."""
    parts = ["[DEFAULT]\nprofile = default\n\n"]
    for name, url, token in profiles:
        parts.append(f"[profile:{name}]\nurl = {url}\ntoken = {token}\ntype = jwt\n\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(parts), encoding="utf-8")


def make_profiles(count: int, url: str | list[str], prefix: str) -> list[tuple[str, str, str]]:
    """`count` profiles; with several URLs, spread over them in turn."""
    urls = [url] if isinstance(url, str) else url
    names = ["default"] + [f"p{i:05d}" for i in range(1, count)]
    return [(name, urls[i % len(urls)], f"{prefix}-{i:05d}") for i, name in enumerate(names)]


# The shapes of issue 11 (SPEC §5 "reading is linear in the file's size for
# every shape"). Each writes auth.ini (and cli.ini) into `home` and lists
# `count` profiles, all jwt with tokens `{prefix}-NNNNN`.


def layout_many_keys(home: Path, url: str, prefix: str) -> None:
    """One profile whose section also holds 200,000 other keys (2.3 MB)."""
    lines = ["[DEFAULT]\nprofile = default\n\n[profile:default]\n",
             f"url = {url}\ntoken = {prefix}-00000\ntype = jwt\n"]
    lines += [f"key{i:06d} = value {i}\n" for i in range(200_000)]
    (home / "auth.ini").write_text("".join(lines), encoding="utf-8")


def layout_many_sections(home: Path, url: str, prefix: str) -> None:
    """10,000 sections that are not profiles, between 3 profiles."""
    parts = ["[DEFAULT]\nprofile = default\n\n"]
    for i, name in enumerate(["default", "p00001", "p00002"]):
        parts.append(f"[profile:{name}]\nurl = {url}\ntoken = {prefix}-{i:05d}\ntype = jwt\n\n")
        parts += [f"[section-{i}-{j:05d}]\nkey = value {j}\n\n" for j in range(3_334)]
    (home / "auth.ini").write_text("".join(parts), encoding="utf-8")


def layout_long_values(home: Path, url: str, prefix: str) -> None:
    """3 profiles, each with a value of 40,000 continuation lines (1.2 MB)
    and a 1 MB single-line value: 6.6 MB in all."""
    long_multi = "\n".join(f"\tline {i:06d} of a long value" for i in range(40_000))
    long_line = "x" * (1024 * 1024)
    parts = ["[DEFAULT]\nprofile = default\n\n"]
    for i, name in enumerate(["default", "p00001", "p00002"]):
        parts.append(
            f"[profile:{name}]\nurl = {url}\ntoken = {prefix}-{i:05d}\ntype = jwt\n"
            f"notes = start\n{long_multi}\nwide = {long_line}\n\n"
        )
    (home / "auth.ini").write_text("".join(parts), encoding="utf-8")


def layout_large_default(home: Path, url: str, prefix: str) -> None:
    """A [DEFAULT] of 10,000 keys (url and type among them), inherited by 1,000 profiles."""
    parts = ["[DEFAULT]\nprofile = default\n", f"url = {url}\ntype = jwt\n"]
    parts += [f"default{i:05d} = value {i}\n" for i in range(10_000)]
    parts.append("\n")
    for i, (name, _, token) in enumerate(make_profiles(1_000, url, prefix)):
        parts.append(f"[profile:{name}]\ntoken = {token}\n\n")
    (home / "auth.ini").write_text("".join(parts), encoding="utf-8")


def layout_merged(home: Path, url: str, prefix: str) -> None:
    """10,000 profiles whose url and type are in cli.ini, tokens in auth.ini."""
    profiles = make_profiles(10_000, url, prefix)
    cli = [f"[profile:{name}]\nurl = {u}\ntype = jwt\n\n" for name, u, _ in profiles]
    auth = ["[DEFAULT]\nprofile = default\n\n"]
    auth += [f"[profile:{name}]\ntoken = {token}\n\n" for name, _, token in profiles]
    (home / "cli.ini").write_text("".join(cli), encoding="utf-8")
    (home / "auth.ini").write_text("".join(auth), encoding="utf-8")


def count_sections(path: Path) -> tuple[int, bool]:
    """How many [profile:...] sections the file holds, and whether
    [profile:new] is one of them."""
    text = path.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    return (
        sum(1 for line in lines if line.startswith("[profile:")),
        "[profile:new]" in lines,
    )


# ---------------------------------------------------------------------------
# The tools


@dataclass
class Tool:
    key: str  # "ours", "python", "wasmtime"
    title: str
    argv: list[str]  # before the global format option
    fmt: list[str]  # the format option
    offline_status: str
    # Extra arguments that need the home directory (the stock wasmtime CLI).
    home_args: callable = field(default=lambda home: [])

    def command(self, home: Path, args: list[str]) -> list[str]:
        return self.argv + self.home_args(home) + self.fmt + args


def tool_env(base: Path, home: Path, cache: Path) -> dict[str, str]:
    """The same environment for every tool: nothing from the real home."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": str(base / "home"),
        "CONTREE_HOME": str(home),
        "XDG_CACHE_HOME": str(cache),
        "CONTREE_NO_UPDATE_CHECK": "1",
    }


# ---------------------------------------------------------------------------
# The mock API


class MockApi:
    def __init__(self, binary: Path, latency_ms: int) -> None:
        self.proc = subprocess.Popen(
            [str(binary), "--port", "0", "--latency-ms", str(latency_ms)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("http://127.0.0.1:"):
            self.stop()
            raise BenchError(f"mock-api did not print a loopback URL (got {line!r})")
        self.url = line

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()  # by its own pid: a process this script started
        self.proc.wait(timeout=10)
        if self.proc.stdout:
            self.proc.stdout.close()


# ---------------------------------------------------------------------------
# Cases


@dataclass
class Case:
    key: str
    title: str
    profiles: int
    token_prefix: str
    args: list[str]
    latency_ms: int = 0
    save: bool = False
    hang: bool = False
    expect: str = "offline"  # every row's status: offline (the tool's spelling), ok, timeout
    # Writes the files itself (the shapes of issue 11); `profiles` is then
    # the number of rows the listing must have.
    layout: object = None
    # At least this many times faster than Python (cases without a time target).
    min_ratio: float | None = None
    # The profiles are spread over this many servers (each its own mock API).
    servers: int = 1


CASES = [
    Case("a", "ls --offline, 3 profiles", 3, "ok", ["auth", "ls", "--offline"]),
    Case(
        "b",
        f"ls, 32 profiles, {LATENCY_MS} ms server",
        32,
        "ok",
        ["auth", "ls"],
        latency_ms=LATENCY_MS,
        expect="ok",
    ),
    Case("c", "ls, 8 profiles, server never answers", 8, "hang", ["auth", "ls"], hang=True,
         expect="timeout"),
    Case("d", "ls --offline, 10,000 profiles", 10_000, "ok", ["auth", "ls", "--offline"]),
    Case(
        "e",
        "save 1 profile into 10,000",
        10_000,
        "ok",
        ["auth", "-p", "new", "-y", "--token", "ok-x", "-u", "{url}", "-P", "proj"],
        save=True,
    ),
    Case("f", "ls --offline, 200,000 keys in one section", 1, "ok", ["auth", "ls", "--offline"],
         layout=layout_many_keys, min_ratio=3),
    Case("g", "ls --offline, 10,000 other sections", 3, "ok", ["auth", "ls", "--offline"],
         layout=layout_many_sections, min_ratio=3),
    Case("h", "ls --offline, 2 MB long values x 3", 3, "ok", ["auth", "ls", "--offline"],
         layout=layout_long_values, min_ratio=3),
    Case("i", "ls --offline, [DEFAULT] of 10,000 keys, 1,000 profiles", 1_000, "ok",
         ["auth", "ls", "--offline"], layout=layout_large_default, min_ratio=3),
    Case("j", "ls --offline, 10,000 profiles merged from cli.ini", 10_000, "ok",
         ["auth", "ls", "--offline"], layout=layout_merged, min_ratio=3),
    # Issue 24 item 4: every probe gets its own 2 s, however many profiles.
    Case("k", f"ls, 256 profiles, {LATENCY_MS} ms server", 256, "ok", ["auth", "ls"],
         latency_ms=LATENCY_MS, expect="ok"),
    Case("l", "ls, 1,000 profiles on 4 servers that never answer", 1_000, "hang", ["auth", "ls"],
         hang=True, expect="timeout", servers=4),
]


@dataclass
class Result:
    runs: list[Run]
    unfinished: bool = False  # killed at the cap (expected only for Python in c)
    listed: list[tuple[str, str]] = field(default_factory=list)  # (name, token_sha256) of the last run

    @property
    def median(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def rss_mib(self) -> float:
        return statistics.median(r.maxrss_kib for r in self.runs) / 1024


def check_list_output(tool: Tool, case: Case, run: Run) -> list[dict]:
    """The rows of a json listing; fails loudly on anything malformed."""
    rows = []
    for line in run.stdout.splitlines():
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise BenchError(f"{tool.title}, case {case.key}: not JSON lines: {line[:200]!r} ({e})")
    if len(rows) != case.profiles:
        raise BenchError(
            f"{tool.title}, case {case.key}: listed {len(rows)} profiles, expected {case.profiles}"
        )
    return rows


def measure(
    tool: Tool,
    case: Case,
    work: Path,
    cache: Path,
    url: str | list[str],
    runs: int,
    cap: float,
    slow_after: float,
    slow_runs: int,
) -> Result:
    base = Path(tempfile.mkdtemp(prefix=f"{tool.key}-{case.key}-", dir=work))
    home = base / "contree"
    (base / "home").mkdir(parents=True)
    home.mkdir(mode=0o700)
    ini = home / "auth.ini"
    profiles = make_profiles(case.profiles, url, case.token_prefix)
    if case.layout is not None:
        case.layout(home, url, case.token_prefix)
    elif not case.save:
        write_auth_ini(ini, profiles)
    env = tool_env(base, home, cache)
    first_url = url if isinstance(url, str) else url[0]
    args = [a.replace("{url}", first_url) for a in case.args]
    cmd = tool.command(home, args)

    done: list[Run] = []
    listed: list[tuple[str, str]] = []
    wanted = runs
    while len(done) < wanted:
        if case.save:
            write_auth_ini(ini, profiles)  # the same starting file every run
        run = run_child(cmd, env, cap)
        done.append(run)
        if run.killed:
            if tool.key == "python" and (case.hang or case.min_ratio):
                # The reference retries a silent server forever, and some
                # shapes take it minutes: one capped run says all there is to say.
                return Result(done, unfinished=True)
            raise BenchError(
                f"{tool.title}, case {case.key}: killed after {cap:.0f} s\n"
                f"command: {' '.join(cmd)}\nstderr: {run.stderr[-2000:]}"
            )
        if run.code != 0:
            raise BenchError(
                f"{tool.title}, case {case.key}: exit code {run.code}\n"
                f"command: {' '.join(cmd)}\nstderr: {run.stderr[-2000:]}"
            )
        if case.save:
            count, has_new = count_sections(ini)
            if count != case.profiles + 1 or not has_new:
                raise BenchError(
                    f"{tool.title}, case {case.key}: auth.ini has {count} profiles after the save"
                    f" (expected {case.profiles + 1}, [profile:new] present: {has_new})"
                )
        else:
            rows = check_list_output(tool, case, run)
            listed = [(row.get("name"), row.get("token_sha256")) for row in rows]
            statuses = [row.get("status") for row in rows]
            expected = tool.offline_status if case.expect == "offline" else case.expect
            wrong = [s for s in statuses if s != expected]
            if wrong:
                raise BenchError(
                    f"{tool.title}, case {case.key}: {len(wrong)} of {len(statuses)} profiles"
                    f" have status {sorted(set(map(str, wrong)))}, expected {expected!r}"
                )
        if len(done) == 1 and run.wall > slow_after:
            wanted = min(wanted, slow_runs)
    shutil.rmtree(base, ignore_errors=True)
    return Result(done, listed=listed)


# ---------------------------------------------------------------------------
# The machine


def machine() -> dict[str, str]:
    info = {
        "nproc": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "cpu": platform.processor() or platform.machine(),
        "memory": "?",
        "kernel": platform.release(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                info["memory"] = f"{kib / MIB:.1f} GiB"
                break
    except (OSError, ValueError):
        pass
    return info


def version_of(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "?"


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=30,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=30,
        ).stdout.strip()
        return f"{rev}{' (with uncommitted changes)' if dirty else ''}" if rev else "?"
    except OSError:
        return "?"


# ---------------------------------------------------------------------------
# Report


def fmt_s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.3f} s"


def fmt_result(result: Result | None, cap: float) -> str:
    if result is None:
        return "-"
    if result.unfinished:
        return f"not finished (>{cap:.0f} s)"
    return fmt_s(result.median)


def fmt_rss(result: Result | None) -> str:
    return "-" if result is None else f"{result.rss_mib:.1f} MiB"


def render(rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join("---" for _ in rows[0]) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, r in enumerate(rows):
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5, help="runs per case and tool; the median counts (default 5)")
    p.add_argument("--slow-after", type=float, default=5.0,
                   help="a case whose first run takes longer than this many seconds ...")
    p.add_argument("--slow-runs", type=int, default=3, help="... is run only this many times (default 3)")
    p.add_argument("--cap", type=float, default=30.0,
                   help="seconds before a run is killed; Python in case c is reported as not finished (default 30)")
    p.add_argument("--cases", default="abcdefghijkl", help="which cases to run (default abcdefghijkl)")
    p.add_argument("--python-cli", type=Path, default=REPO / "target/bench-venv/bin/contree")
    p.add_argument("--ours", type=Path, default=REPO / "target/release/contree")
    p.add_argument("--mock-api", type=Path, default=REPO / "target/release/mock-api")
    p.add_argument("--wasm", type=Path, default=REPO / "target/wasm32-wasip2/component/contree_auth.wasm")
    p.add_argument("--no-wasmtime", action="store_true", help="skip the stock wasmtime CLI column")
    p.add_argument("--results", type=Path, default=REPO / "bench/RESULTS.md")
    opts = p.parse_args()
    if opts.runs < 1 or opts.slow_runs < 1:
        p.error("--runs and --slow-runs must be at least 1")

    for path in (opts.python_cli, opts.ours, opts.mock_api, opts.wasm):
        if not path.exists():
            raise BenchError(f"missing {path}: run bench/run.sh, which builds and installs everything")

    cases = [c for c in CASES if c.key in opts.cases]
    work = Path(tempfile.mkdtemp(prefix="contree-bench-"))
    cache = REPO / "target/bench-cache"  # our launcher's compile cache, shared by all cases
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)

    tools = [
        Tool("ours", "ours (launcher)", [str(opts.ours)], ["-f", "json"], "offline"),
        Tool("python", "Python contree-cli 0.9.4", [str(opts.python_cli)], ["-o", "json"], "offline mode"),
    ]
    wasmtime = None if opts.no_wasmtime else shutil.which("wasmtime")
    if wasmtime:
        cwasm = work / "contree_auth.cwasm"
        compiled = subprocess.run(
            [wasmtime, "compile", str(opts.wasm), "-o", str(cwasm)],
            capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
        )
        if compiled.returncode != 0:
            raise BenchError(f"wasmtime compile failed: {compiled.stderr}")
        tools.append(
            Tool(
                "wasmtime",
                "stock wasmtime CLI",
                [wasmtime, "run", "-C", "cache=n", "--allow-precompiled", "-S", "http"],
                ["-f", "json"],
                "offline",
                home_args=lambda home: ["--dir", str(home), "--env", f"CONTREE_HOME={home}", str(cwasm)],
            )
        )

    info = machine()
    load = os.getloadavg()[0]
    now = _dt.datetime.now().astimezone()
    size = opts.wasm.stat().st_size
    print(f"date:      {now:%Y-%m-%d %H:%M %Z}")
    print(f"machine:   {info['nproc']} CPUs, {info['cpu']}, {info['memory']} memory, Linux {info['kernel']}")
    print(f"load:      {load:.2f} (1-minute average at start; other work on the machine skews the numbers)")
    revision = git_revision()
    print(f"revision:  {revision}")
    print(f"python:    {version_of([str(opts.python_cli.parent / 'python'), '--version'])}, contree-cli 0.9.4")
    if wasmtime:
        print(f"wasmtime:  {version_of([wasmtime, '--version'])} ({wasmtime})")
    print(f"runs:      median of {opts.runs} run(s) per case and tool ({opts.slow_runs} when the first run takes"
          f" > {opts.slow_after:g} s; Python in case c once, killed at {opts.cap:g} s)")

    mocks: dict[int, MockApi] = {}
    # Servers that never answer, for the cases on several of them.
    extra: list[MockApi] = []
    results: dict[tuple[str, str], Result] = {}
    cold: Run | None = None
    try:
        for latency in sorted({c.latency_ms for c in cases} | {0}):
            mocks[latency] = MockApi(opts.mock_api, latency)
        print(f"mock API:  {mocks[0].url} (and {LATENCY_MS} ms latency at "
              f"{mocks[LATENCY_MS].url})" if LATENCY_MS in mocks else f"mock API:  {mocks[0].url}")

        # Warm-up: one untimed run of each tool. Ours starts with an empty
        # compile cache, so its warm-up compiles the component and fills the
        # cache that every measured run then loads from.
        warm = Case("warm-up", "warm-up", 3, "ok", ["auth", "ls", "--offline"])
        for tool in tools:
            r = measure(tool, warm, work, cache, mocks[0].url, 1, opts.cap, opts.slow_after, 1)
            if tool.key == "ours":
                cold = r.runs[0]
        cached = sorted(cache.rglob("*.cwasm"))
        print(f"warm-up:   one untimed `auth ls --offline` per tool first; ours compiled the component"
              f" into its cache ({fmt_s(cold.wall)} cold, {cold.maxrss_kib / 1024:.1f} MiB)"
              f" -> {len(cached)} file(s) in {cache}; every measured run of ours loads from that cache")
        if not cached:
            print("WARNING:   the launcher left no compiled component in its cache: ours ran uncached")
        print()

        while len(extra) < max(c.servers for c in cases) - 1:
            extra.append(MockApi(opts.mock_api, 0))
        for case in cases:
            url = mocks[case.latency_ms].url
            if case.servers > 1:
                url = [url] + [m.url for m in extra[: case.servers - 1]]
            for tool in tools:
                print(f"  case {case.key} ({case.title}): {tool.title} ...", end="", flush=True)
                r = measure(tool, case, work, cache, url, opts.runs, opts.cap, opts.slow_after, opts.slow_runs)
                results[(case.key, tool.key)] = r
                walls = ", ".join(f"{x.wall:.3f}" for x in r.runs)
                print(f" {fmt_result(r, opts.cap)} [{walls}]")
            # Sanity: every tool that finished listed the same profiles.
            ours = results[(case.key, "ours")]
            for tool in tools[1:]:
                other = results[(case.key, tool.key)]
                if not case.save and not other.unfinished and other.listed != ours.listed:
                    raise BenchError(
                        f"case {case.key}: {tool.title} listed {len(other.listed)} profiles,"
                        f" ours {len(ours.listed)}, or not the same names and token hashes"
                    )
    finally:
        for mock in [*mocks.values(), *extra]:
            mock.stop()
        shutil.rmtree(work, ignore_errors=True)
    print()
    load_end = os.getloadavg()[0]
    print(f"load:      {load_end:.2f} at the end")

    # Targets, all about ours.
    def med(case: str, tool: str = "ours") -> float | None:
        r = results.get((case, tool))
        return None if r is None or r.unfinished else r.median

    targets: dict[str, tuple[str, bool | None]] = {}
    if med("a") is not None and med("a", "python") is not None:
        ratio = med("a", "python") / med("a")
        targets["a"] = (f">= 10x faster than Python (is {ratio:.1f}x)", ratio >= 10)
    if med("b") is not None and med("a") is not None:
        limit = 1.5 * LATENCY_MS / 1000 + med("a")
        targets["b"] = (f"<= 1.5 x 0.3 s + start-up {med('a'):.3f} s = {limit:.3f} s", med("b") <= limit)
    elif med("b") is not None:
        targets["b"] = ("<= 1.5 x 0.3 s + start-up (needs case a)", None)
    # k and l: issue 24's targets ("all ok within 3 s", "all timeout within 10 s").
    for key, limit in (("c", 2.5), ("d", 0.2), ("e", 0.5), ("k", 3.0), ("l", 10.0)):
        if med(key) is not None:
            targets[key] = (f"< {limit} s", med(key) < limit)
    for case in cases:
        if case.min_ratio and med(case.key) is not None:
            py = results.get((case.key, "python"))
            if py is not None and py.unfinished:
                targets[case.key] = (f">= {case.min_ratio:g}x faster than Python (it did not finish)", True)
            elif med(case.key, "python") is not None:
                ratio = med(case.key, "python") / med(case.key)
                targets[case.key] = (
                    f">= {case.min_ratio:g}x faster than Python (is {ratio:.1f}x)", ratio >= case.min_ratio
                )

    head = ["case", "ours", "python", "python/ours"]
    if wasmtime:
        head.append("stock wasmtime")
    head += ["ours RSS", "python RSS"]
    if wasmtime:
        head.append("wasmtime RSS")
    head += ["target (ours)", "result"]
    rows = [head]
    for case in cases:
        ours = results.get((case.key, "ours"))
        py = results.get((case.key, "python"))
        wt = results.get((case.key, "wasmtime"))
        if py and ours and py.unfinished:
            ratio = f"> {opts.cap / ours.median:.0f}x"
        elif py and ours:
            ratio = f"{py.median / ours.median:.1f}x"
        else:
            ratio = "-"
        row = [f"{case.key}. {case.title}", fmt_result(ours, opts.cap), fmt_result(py, opts.cap), ratio]
        if wasmtime:
            row.append(fmt_result(wt, opts.cap))
        row += [fmt_rss(ours), fmt_rss(py)]
        if wasmtime:
            row.append(fmt_rss(wt))
        text, ok = targets.get(case.key, ("-", None))
        row += [text, "-" if ok is None else ("PASS" if ok else "FAIL")]
        rows.append(row)
    size_ok = size < 2 * MIB
    size_line = (f"component size: {size} bytes ({size / MIB:.2f} MiB), target < 2 MiB:"
                 f" {'PASS' if size_ok else 'FAIL'}  ({opts.wasm.relative_to(REPO) if opts.wasm.is_relative_to(REPO) else opts.wasm})")
    verdicts = [ok for _, ok in targets.values() if ok is not None] + [size_ok]
    summary = f"{sum(verdicts)} of {len(verdicts)} targets met"

    print(render(rows, markdown=False))
    print()
    print(size_line)
    print(summary)

    md = [
        "# Benchmark results",
        "",
        "Written by `bench/run.sh` (`bench/bench.py`); overwritten on every run. See `bench/README.md`.",
        "",
        f"- date: {now:%Y-%m-%d %H:%M %Z}",
        f"- machine: {info['nproc']} CPUs, {info['cpu']}, {info['memory']} memory, Linux {info['kernel']}",
        f"- load average (1 minute): {load:.2f} at start, {load_end:.2f} at the end"
        " (anything else running inflates the times)",
        f"- revision: {revision}",
        f"- Python CLI: contree-cli 0.9.4 on {version_of([str(opts.python_cli.parent / 'python'), '--version'])}",
    ]
    if wasmtime:
        md.append(f"- stock CLI: {version_of([wasmtime, '--version'])}, running a `wasmtime compile`d .cwasm")
    md += [
        f"- each time is the median wall time of {opts.runs} run(s) ({opts.slow_runs} when the first run takes"
        f" > {opts.slow_after:g} s); RSS is the median peak resident set of the child (`ru_maxrss`)",
        f"- warm-up: one untimed run of each tool first; ours compiled the component into its cache then"
        f" ({cold.wall:.3f} s cold) and every measured run loaded it from the cache",
        "",
        render(rows, markdown=True),
        "",
        f"- {size_line}",
        f"- {summary}",
        "",
        "Individual runs (seconds):",
        "",
    ]
    for case in cases:
        for tool in tools:
            r = results.get((case.key, tool.key))
            if r:
                walls = ", ".join(f"{x.wall:.3f}" for x in r.runs)
                note = " (killed at the cap)" if r.unfinished else ""
                md.append(f"- {case.key}, {tool.title}: {walls}{note}")
    opts.results.write_text("\n".join(md) + "\n", encoding="utf-8")
    print(f"written:   {opts.results}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"\nbench: FAILED: {e}", file=sys.stderr)
        sys.exit(1)
