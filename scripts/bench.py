#!/usr/bin/env python3
"""Bounded load generator for `make bench` and the fault drills. 127.0.0.1 only.

    bench.py run  --url http://127.0.0.1:PORT [--requests 200] [--concurrency 4] [--max-seconds 60]
                  [--rounds 5]
    bench.py load --url ... --seconds 10 [--run-at 3 --run 'CMD'] [--idle] [--timeline]
    bench.py mixed --url ... --users 20 --seconds 300     (scripts/load_mixed.py)

`run` logs in once per worker thread (GET the login form, POST it with the CSRF token,
as a browser does), drives each main page with N requests over C threads (both bounded,
and each page stops at --max-seconds) in R rounds in which the pages take turns (the
machine's speed drifts within a run: so it drifts for every page alike), and prints per
page p50/p99 latency, requests per second, SQL queries per request and the ratio of its
p50 to the floor's p50 (the floor is a login-required view with no query of its own,
measured in the same run).

SQL queries per request come from a separate in-process Django test client on the same
database with CaptureQueriesContext (one warm request per page), so the environment must
hold the same DATABASE_URL/SECRET_KEY as the server.

`load` drives a mix of pages for the drills and prints how many requests failed, when,
and with what; with --run it runs a command at --run-at seconds (with --idle: traffic
pauses while the command runs, i.e. the command happens while the app is idle).

`mixed` is issue 7's mixed workload: N different logged-in users (coordinators, leaders,
officials, department staff) reading pages, opening the dashboard, posting workflow steps
through the issue page and exporting, for a bounded time; a table per request kind and the
verdict line "mixed load: N requests, F failures". See scripts/load_mixed.py.
"""

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = os.environ.get("BENCH_PASSWORD", "correct-horse-battery-9")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


# -- HTTP, as a browser would -------------------------------------------------------------------
class Session:
    """One logged-in user on one keep-alive connection (reopened when the server closes it)."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit("bench.py only talks to 127.0.0.1")
        self.host, self.port = parts.hostname, parts.port or 80
        self.cookies: dict[str, str] = {}
        self.last_location: str | None = None  # the Location of the last response, if any
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        hdrs = {"Host": f"{self.host}:{self.port}", "User-Agent": "bench.py", **(headers or {})}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
            data = resp.read()
            self.last_location = resp.getheader("Location")
        except (OSError, http.client.HTTPException):
            self.conn.close()
            raise
        for header in resp.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        if resp.will_close:
            self.conn.close()
        return resp.status, data

    def login(self, username: str, password: str = PASSWORD) -> None:
        status, page = self.request("GET", "/accounts/login/")
        match = CSRF_INPUT.search(page.decode("utf-8", "replace"))
        if status != 200 or not match:
            raise RuntimeError(f"login form: HTTP {status}")
        body = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": match.group(1)})
        status, _ = self.request(
            "POST", "/accounts/login/", body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 302:
            raise RuntimeError(f"login as {username} failed: HTTP {status}")


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: list[tuple[float, str]] = field(default_factory=list)
    wall: float = 0.0
    started: float = 0.0  # time.monotonic() at the start of drive()
    # Absolute time.monotonic() stamps, for `load --timeline`: (start, end, what) per failure
    # and the start of every successful request.
    failures: list[tuple[float, float, str]] = field(default_factory=list)
    ok_starts: list[float] = field(default_factory=list)


def drive(sessions: list[Session], paths: list[str], requests: int, max_seconds: float) -> Result:
    """`requests` GETs spread over one thread per session; stops early at `max_seconds`."""
    result = Result()
    lock = threading.Lock()
    counter = iter(range(requests))
    started = result.started = time.monotonic()
    deadline = started + max_seconds

    def worker(session: Session) -> None:
        while time.monotonic() < deadline:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            path = paths[n % len(paths)]
            t0 = time.monotonic()
            try:
                status, _ = session.request("GET", path)
                problem = None if status == 200 else f"HTTP {status} {path}"
            except Exception as exc:  # a reset, a refused connection: a failed request
                problem = f"{type(exc).__name__} {path}"
            t1 = time.monotonic()
            elapsed = t1 - t0
            with lock:
                if problem:
                    result.errors.append((t0 - started, problem))
                    result.failures.append((t0, t1, problem))
                else:
                    result.latencies.append(elapsed)
                    result.ok_starts.append(t0)

    threads = [threading.Thread(target=worker, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.wall = time.monotonic() - started
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# -- Django in-process: targets and query counts -------------------------------------------------
def django_setup() -> None:
    sys.path.insert(0, ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def pick_targets() -> dict:
    """The users and objects the pages are about: the busiest of each, as a worst case."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from issues.models import Issue, Status
    from visits.models import Visit

    User = get_user_model()
    coordinator = User.objects.filter(groups__name="coordinator", is_active=True).order_by("pk").first()
    busiest_owner = (
        Issue.objects.open()
        .exclude(owner=None)
        .values("owner")
        .annotate(n=Count("id"))
        .order_by("-n", "owner")
        .first()
    )
    staff = User.objects.get(pk=busiest_owner["owner"]) if busiest_owner else coordinator
    department = (
        Issue.objects.filter(status=Status.IN_PROGRESS)
        .values("lead_department")
        .annotate(n=Count("id"))
        .order_by("-n", "lead_department")
        .first()
    )
    enterprise = (
        Issue.objects.exclude(enterprise=None)
        .values("enterprise")
        .annotate(n=Count("id"))
        .order_by("-n", "enterprise")
        .first()
    )
    visit = Visit.objects.annotate(n=Count("issues")).order_by("-n", "pk").first()
    pages = max(1, -(-Issue.objects.count() // 50))
    return {
        "coordinator": coordinator.get_username(),
        "staff": staff.get_username(),
        "department": department["lead_department"] if department else "",
        "enterprise": enterprise["enterprise"] if enterprise else 0,
        "visit": visit.pk if visit else 0,
        "page": min(200, pages),
    }


def page_list(targets: dict) -> list[tuple[str, str, str]]:
    """(label, path, user role) for every page of the table, floor first."""
    today = date.today()
    ninety = urlencode({"period": "custom", "start": (today - timedelta(days=89)).isoformat(), "end": today})
    pages = [
        ("floor", "/bench/floor", "coordinator"),
        ("my work (busiest owner)", "/", "staff"),
        ("my work (coordinator)", "/", "coordinator"),
        ("issue list", "/issues/", "coordinator"),
        (
            "issue list filtered",
            f"/issues/?status=in_progress&department={targets['department']}",
            "coordinator",
        ),
        (f"issue list page {targets['page']}", f"/issues/?page={targets['page']}", "coordinator"),
        ("enterprise page", f"/enterprises/{targets['enterprise']}/", "coordinator"),
        ("visit page", f"/visits/{targets['visit']}/", "coordinator"),
        ("dashboard year", "/dashboard/?period=year", "coordinator"),
        ("dashboard 90 days", f"/dashboard/?{ninety}", "coordinator"),
        ("weekly list", "/dashboard/weekly/", "coordinator"),
        ("admin issue changelist", "/admin/issues/issue/", "coordinator"),
        ("facts page (resolutions, year)", "/dashboard/facts/?figure=department_resolved&period=year",
         "coordinator"),
    ]  # fmt: skip
    return pages


# The targets of issues 14 and 15: a page's median latency at most this many times the floor's.
TARGETS = {
    "my work (busiest owner)": 10,
    "issue list": 10,
    "issue list filtered": 10,
    "enterprise page": 10,
    "dashboard year": 25,
    "dashboard 90 days": 25,
    "weekly list": 40,
    "admin issue changelist": 20,
}


def count_queries(pages, users: dict[str, str]) -> dict[str, tuple[int, int]]:
    """SQL queries and HTTP status of one warm request per page, in-process."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    User = get_user_model()
    clients = {}
    for role, username in users.items():
        client = Client(SERVER_NAME="127.0.0.1", raise_request_exception=False)
        client.force_login(
            User.objects.get(username=username), backend="django.contrib.auth.backends.ModelBackend"
        )
        clients[role] = client
    counts = {}
    for label, path, role in pages:
        clients[role].get(path)  # warm: per-process caches (content types, templates)
        with CaptureQueriesContext(connection) as ctx:
            response = clients[role].get(path)
        counts[label] = (len(ctx.captured_queries), response.status_code)
    return counts


# -- commands --------------------------------------------------------------------------------------
def login_all(url: str, usernames: list[str]) -> list[Session]:
    sessions = [Session(url) for _ in usernames]
    errors = []

    def go(session, username):
        try:
            session.login(username)
        except Exception as exc:
            errors.append(f"{username}: {exc}")

    threads = [threading.Thread(target=go, args=(s, u)) for s, u in zip(sessions, usernames, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit("login failed: " + "; ".join(errors[:3]))
    return sessions


def cmd_run(args) -> int:
    django_setup()

    targets = pick_targets()
    users = {"coordinator": targets["coordinator"], "staff": targets["staff"]}
    pages = page_list(targets)
    if args.page:  # a quick look at a few pages while working on them; the floor stays first
        pages = [p for n, p in enumerate(pages) if n == 0 or any(s in p[0] for s in args.page)]
    print(f"targets: {json.dumps(targets, ensure_ascii=False)}", flush=True)
    queries = count_queries(pages, users)

    c = args.concurrency
    print(f"logging in {c} sessions per user ({', '.join(users.values())}) ...", flush=True)
    sessions = {role: login_all(args.url, [name] * c) for role, name in users.items()}
    # The machine is shared and its speed drifts within a run: each page gets its requests in
    # `--rounds` slices, the pages taking turns, so a slow minute falls on every page alike
    # (one page after the other, a slow stretch made whichever pages it hit look worse).
    for _label, path, role in pages:
        drive(sessions[role], [path], min(c * 2, args.requests), args.max_seconds)  # warm-up
    rounds = max(1, min(args.rounds, args.requests))
    results = {label: [] for label, _path, _role in pages}
    for n in range(rounds):
        for label, path, role in pages:
            share = args.requests // rounds + (1 if n < args.requests % rounds else 0)
            results[label].append(drive(sessions[role], [path], share, args.max_seconds / rounds))
    rows = []
    for label, path, _role in pages:
        latencies = [x for r in results[label] for x in r.latencies]
        errors = [e for r in results[label] for e in r.errors]
        wall = sum(r.wall for r in results[label])
        n = len(latencies)
        rows.append(
            {
                "page": label,
                "path": path,
                "ok": n,
                "errors": len(errors),
                "p50": percentile(latencies, 0.5) * 1000,
                "p99": percentile(latencies, 0.99) * 1000,
                "rps": n / wall if wall else 0.0,
                "queries": queries[label][0],
                "status": queries[label][1],
                "first_error": errors[0][1] if errors else "",
            }
        )
        print(f"  {label}: {n} ok, {len(errors)} errors, p50 {rows[-1]['p50']:.1f} ms", flush=True)
    floor = rows[0]["p50"]
    print()
    print(
        f"{'page':<34} {'ok':>5} {'err':>4} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7} {'SQL':>4} {'×floor':>7}"
    )
    for r in rows:
        print(
            f"{r['page']:<34} {r['ok']:>5} {r['errors']:>4} {r['p50']:>8.1f} {r['p99']:>8.1f} "
            f"{r['rps']:>7.1f} {r['queries']:>4} {r['p50'] / floor:>7.1f}"
            + (f"  (in-process HTTP {r['status']})" if r["status"] != 200 else "")
            + (f"  first error: {r['first_error']}" if r["first_error"] else "")
        )
    print()
    by = {r["page"]: r for r in rows}
    verdicts = [
        (f"{label} p50 ≤ {limit}× floor", by[label]["p50"] / floor <= limit)
        for label, limit in TARGETS.items()
        if label in by
    ]
    verdicts.append(("0 failed requests", sum(r["errors"] for r in rows) == 0))
    for text, ok in verdicts:
        print(f"{'MET   ' if ok else 'MISSED'} {text}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"targets": targets, "rows": rows}, fh, indent=1, ensure_ascii=False)
    return 1 if sum(r["errors"] for r in rows) else 0


def cmd_load(args) -> int:
    """Mixed traffic for the drills; prints failures with their time offsets."""
    users = args.user or ["coordinator0004"]
    sessions = login_all(args.url, [users[i % len(users)] for i in range(args.concurrency)])
    paths = args.path or ["/bench/floor", "/", "/issues/", "/issues/?status=in_progress"]
    per_second = 10_000  # ample: time bounds the run, not the count
    phases = []
    ran = {}  # monotonic start and end of the --run command, for --timeline

    def run_command(check: bool) -> None:
        ran["start"] = time.monotonic()
        subprocess.run(args.run, shell=True, check=check)
        ran["end"] = time.monotonic()

    if args.run and args.idle:
        phases.append(drive(sessions, paths, int(per_second * args.run_at), args.run_at))
        print(f"[{time.strftime('%H:%M:%S')}] idle: running {args.run}", flush=True)
        run_command(check=True)
        time.sleep(args.settle)
        phases.append(drive(sessions, paths, int(per_second * args.seconds), args.seconds))
    elif args.run:
        timer = threading.Timer(args.run_at, run_command, kwargs={"check": False})
        timer.start()
        phases.append(drive(sessions, paths, int(per_second * args.seconds), args.seconds))
        timer.join()
    else:
        phases.append(drive(sessions, paths, int(per_second * args.seconds), args.seconds))
    ok = sum(len(p.latencies) for p in phases)
    errors = sorted(e for p in phases for e in p.errors)
    window = (errors[-1][0] - errors[0][0]) if errors else 0.0
    report = {
        "ok": ok,
        "failed": len(errors),
        "failure_window_s": round(window, 3),
        "not_http_500": sum(1 for _, what in errors if not what.startswith("HTTP 500")),
        "first_failures": [f"{t:.2f}s {what}" for t, what in errors[:5]],
    }
    if args.timeline:
        # Times in seconds relative to the start of --run (or of the load, without --run).
        zero = ran.get("start", phases[0].started)
        ok_starts = sorted(t - zero for p in phases for t in p.ok_starts)
        end = max(ok_starts[-1] if ok_starts else 0.0, 0.0)
        report["timeline"] = {
            "run_took_s": round(ran["end"] - ran["start"], 3) if "end" in ran else None,
            "load_started_s": round(phases[0].started - zero, 3),
            "failures": sorted(
                (round(t0 - zero, 3), round(t1 - zero, 3), what)
                for p in phases
                for t0, t1, what in p.failures
            ),
            "ok_before": sum(1 for t in ok_starts if t < 0),
            # successful requests by the second (relative to --run) in which they started
            "ok_per_second": {
                str(s): sum(1 for t in ok_starts if s <= t < s + 1)
                for s in range(int(ok_starts[0] // 1), int(end) + 1)
            }
            if ok_starts
            else {},
        }
    print(json.dumps(report, ensure_ascii=False))
    return 0 if not errors else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="the benchmark table")
    run.add_argument("--url", required=True)
    run.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_REQUESTS", "200")))
    run.add_argument("--concurrency", type=int, default=int(os.environ.get("BENCH_CONCURRENCY", "4")))
    run.add_argument("--max-seconds", type=float, default=float(os.environ.get("BENCH_MAX_SECONDS", "60")))
    run.add_argument(
        "--rounds",
        type=int,
        default=int(os.environ.get("BENCH_ROUNDS", "5")),
        help="each page's requests in this many slices, the pages taking turns",
    )
    run.add_argument("--json", help="also write the rows here")
    run.add_argument(
        "--page", action="append", help="only the pages whose label contains this (repeatable; floor always)"
    )
    load = sub.add_parser("load", help="mixed traffic for the drills")
    load.add_argument("--url", required=True)
    load.add_argument("--user", action="append", help="username (repeatable)")
    load.add_argument("--path", action="append", help="path to request (repeatable)")
    load.add_argument("--seconds", type=float, default=10)
    load.add_argument("--concurrency", type=int, default=4)
    load.add_argument("--run", help="shell command to run during the load")
    load.add_argument("--run-at", type=float, default=3)
    load.add_argument("--idle", action="store_true", help="pause traffic while --run runs")
    load.add_argument("--settle", type=float, default=1.0, help="seconds to wait after an idle --run")
    load.add_argument(
        "--timeline",
        action="store_true",
        help='add "timeline" to the JSON: every failure (start, end) and successful requests per second, '
        "in seconds relative to the start of --run",
    )
    mixed = sub.add_parser("mixed", help="issue 7's mixed workload of many different users")
    mixed.add_argument("--url", required=True)
    mixed.add_argument("--users", type=int, default=20, help="threads, each a different seeded user")
    mixed.add_argument("--seconds", type=float, default=300, help="no new request after this")
    mixed.add_argument("--max-requests", type=int, default=200_000, help="bound on the count as well")
    mixed.add_argument("--think", type=float, default=0.0, help="mean pause between a user's steps (s)")
    mixed.add_argument("--timeout", type=float, default=60.0, help="a request slower than this failed")
    mixed.add_argument("--seed", type=int, default=7)
    mixed.add_argument("--progress", type=float, default=30.0, help="print a progress line this often (s)")
    mixed.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()
    if args.command == "mixed":
        from load_mixed import cmd_mixed  # scripts/ is on sys.path when this file runs

        return cmd_mixed(args)
    return cmd_run(args) if args.command == "run" else cmd_load(args)


if __name__ == "__main__":
    sys.exit(main())
