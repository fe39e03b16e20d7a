"""`bench.py mixed`: many different logged-in users at once, doing what they do all day.

    bench.py mixed --url http://127.0.0.1:PORT --users 20 --seconds 300 [--think 0] [--json F]

Each of the --users threads logs in once, through the real login form, as a DIFFERENT
seeded user (`seed_scale --password`): coordinators, leaders, visiting officials and
department staff, in proportion to who uses the app. Then, until --seconds have passed
(and at most --max-requests in all), each thread repeatedly picks something its role does:

- reads (≈60 % of requests): My work, the issue list (default, filtered, a later page),
  the page of an issue the user may see, an enterprise page, a visit page;
- dashboard (≈20 %, coordinators and leaders only): the dashboard for the year, 90 days
  and this month, and the weekly list;
- POSTs (≈15 %): real workflow steps through the issue page, as a browser does them: GET the
  issue page, take the CSRF token and the `version` from the action's form, POST it to
  `issues:action`, follow the redirect. Department staff post progress on active issues of
  their own department; coordinators change deadlines (with a reason) of active issues and
  record enterprise feedback on resolved or closed ones;
- exports (≈5 %): `/issues/export/` as CSV or XLSX, always with a filter.

The mix is kept on target across all users: each pick goes to the category furthest below
its share among those the user's role allows (a POST step counts as 1 POST and 2 reads).
With --think 0 (the default) nobody pauses between requests: 20 requests are in flight at
every moment, a harder load than 20 people clicking.

Outcomes: a read must answer 200; a POST must answer a redirect to the issue page whose
next page shows the success message. A POST that the app turned down because someone else
changed the issue first (a redirect to a page with the "changed by someone else" message,
or a 400 re-render naming a step that is no longer possible) is a CONFLICT: correct
behaviour, counted apart. Anything else — 5xx, another status, a reset or refused
connection, a timeout (60 s) — is a FAILURE.

Users and their targets (which issues each may see and act on) are chosen in-process with
Django on the same database, so the environment must hold the server's DATABASE_URL.
127.0.0.1 only.
"""

import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import unescape
from urllib.parse import urlencode

from bench import Session, django_setup, login_all, percentile

CATEGORIES = {"read": 0.60, "dashboard": 0.20, "post": 0.15, "export": 0.05}
# What each role does: categories it may pick (dashboard pages are for coordinators,
# leaders and administrators; POSTs for whoever acts on issues).
ROLE_CATEGORIES = {
    "coordinator": ("read", "dashboard", "post", "export"),
    "leader": ("read", "dashboard", "export"),
    "department": ("read", "post", "export"),
    "official": ("read", "export"),
}
# How many of each role among the users, per 20 (the rest are department staff).
ROLE_SHARE_PER_20 = {"coordinator": 4, "leader": 3, "official": 3}
SAMPLE = 300  # ids kept per user and target kind

FORM = re.compile(r'<form method="post" action="(/issues/\d+/([a-z_]+)/)"[^>]*>(.*?)</form>', re.S)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
MESSAGE = re.compile(r'class="alert alert-(danger|success|info|warning)" role="alert">(.*?)</div>', re.S)
FORM_ERROR = re.compile(
    r'class="(?:alert alert-danger py-2 mb-2|invalid-feedback d-block)"[^>]*>(.*?)</div>', re.S
)
CONFLICT_WORDS = ("someone else", "其他人", "别人", "他人")


# -- who, and what they look at ------------------------------------------------------------------
def _sample(queryset, rng: random.Random, n: int = SAMPLE) -> list[int]:
    """Up to n ids of the queryset, spread over it (not just the oldest), deterministic."""
    ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:50_000])
    return rng.sample(ids, min(n, len(ids)))


def pick_users(n_users: int, seed: int) -> list[dict]:
    """n_users different active users with their roles and targets."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Q

    from enterprises.models import Enterprise
    from issues.models import ACTIVE_STATUSES, Issue, Status
    from issues.permissions import department_ids
    from issues.roles import Role
    from visits.models import Visit

    rng = random.Random(seed)
    User = get_user_model()
    active_users = User.objects.filter(is_active=True).exclude(is_superuser=True)

    def of_role(role):
        return list(active_users.filter(groups__name=role).order_by("pk"))

    wanted = {r: max(1, round(n_users * k / 20)) for r, k in ROLE_SHARE_PER_20.items()}
    chosen: list[tuple[str, object]] = []
    for role in ("coordinator", "leader", "official"):
        pool = of_role(role)
        if role == "official":  # officials with issues of their own first: they have pages to read
            busy = set(
                Issue.objects.filter(raised_by__in=pool)
                .values("raised_by")
                .annotate(n=Count("id"))
                .filter(n__gt=0)
                .values_list("raised_by", flat=True)
            )
            pool.sort(key=lambda u: (u.pk not in busy, u.pk))
        chosen += [(role, u) for u in pool[: wanted[role]]]
    # Department staff: from the departments with the most active issues, round robin, so
    # the big departments have several people working the same list (as they do).
    staff_needed = n_users - len(chosen)
    busiest = list(
        Issue.objects.filter(status__in=ACTIVE_STATUSES)
        .values_list("lead_department", flat=True)
        .annotate(n=Count("id"))
        .order_by("-n", "lead_department")
    )
    staff_by_dept = {d: [] for d in busiest}
    for user in User.objects.filter(
        is_active=True, groups__name=Role.DEPARTMENT, departments__in=busiest
    ).order_by("pk"):
        for d in department_ids(user):
            if d in staff_by_dept:
                staff_by_dept[d].append(user)
                break
    taken: set[int] = {u.pk for _r, u in chosen}
    # Round robin over the four busiest departments first, then over the rest.
    order = []
    for group in (busiest[:4], busiest[4:]):
        for round_ in range(max((len(staff_by_dept[d]) for d in group), default=0)):
            order += [staff_by_dept[d][round_] for d in group if round_ < len(staff_by_dept[d])]
    for user in order:
        if staff_needed > 0 and user.pk not in taken:
            chosen.append(("department", user))
            taken.add(user.pk)
            staff_needed -= 1
    if staff_needed > 0:  # a small data set: fill up with officials, then anyone
        for role in ("official", "coordinator", "leader"):
            for u in of_role(role):
                if staff_needed > 0 and u.pk not in taken:
                    chosen.append((role, u))
                    taken.add(u.pk)
                    staff_needed -= 1
    if len(chosen) < n_users:
        raise SystemExit(f"only {len(chosen)} usable seeded users for {n_users} threads: seed more users")

    enterprises = _sample(Enterprise.objects.all(), rng)
    visits = _sample(Visit.objects.all(), rng)
    departments = busiest[:8] or [""]
    users = []
    for role, user in chosen[:n_users]:
        visible = Issue.objects.visible_to(user)
        depts = sorted(department_ids(user))
        target = {
            "username": user.get_username(),
            "role": role,
            "departments": depts,
            "issue_pages": max(1, -(-visible.count() // 50)),
            "issues": _sample(visible, rng),
            "enterprises": enterprises,
            "visits": _sample(Visit.objects.visible_to(user).filter(issues__in=visible).distinct(), rng)
            or visits,
            "filter_departments": depts or departments,
        }
        if role == "department":
            target["progress"] = _sample(
                visible.filter(status__in=ACTIVE_STATUSES).filter(
                    Q(lead_department__in=depts) | Q(owner=user)
                ),
                rng,
            )
        if role == "coordinator":
            target["change_deadline"] = _sample(Issue.objects.filter(status__in=ACTIVE_STATUSES), rng)
            target["feedback"] = _sample(
                Issue.objects.filter(status__in=[Status.RESOLVED, Status.CLOSED], solved_on_site=False), rng
            )
        users.append(target)
    return users


# -- one user's requests ----------------------------------------------------------------------------
@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    failures: list[tuple[float, str]] = field(default_factory=list)
    conflicts: list[tuple[float, str]] = field(default_factory=list)
    bytes: int = 0


class Mix:
    """Shared state: what has been issued per category, per request kind, and the verdicts."""

    def __init__(self, deadline: float, max_requests: int, started: float):
        self.lock = threading.Lock()
        self.issued = dict.fromkeys(CATEGORIES, 0)
        self.kinds: dict[str, tuple[str, Stats]] = {}
        self.deadline, self.max_requests, self.started = deadline, max_requests, started
        self.skipped: dict[str, int] = {}
        self.budget = max_requests

    def pick(self, allowed, rng: random.Random) -> str | None:
        """The allowed category furthest below its share (random by share when all are close);
        reserves the requests it takes. None when time or the request budget is used up."""
        with self.lock:
            if time.monotonic() >= self.deadline or self.budget <= 0:
                return None
            total = sum(self.issued.values()) or 1
            deficits = {c: CATEGORIES[c] - self.issued[c] / total for c in allowed}
            worst = max(deficits, key=lambda c: (deficits[c], rng.random()))
            if deficits[worst] <= 0.01:
                worst = rng.choices(allowed, weights=[CATEGORIES[c] for c in allowed])[0]
            if worst == "post":  # GET the page, POST, GET the page it redirects to
                self.issued["read"] += 2
                self.issued["post"] += 1
                self.budget -= 3
            else:
                self.issued[worst] += 1
                self.budget -= 1
            return worst

    def record(
        self, category: str, kind: str, t0: float, elapsed: float, outcome: str, what: str = "", size: int = 0
    ):
        with self.lock:
            stats = self.kinds.setdefault(kind, (category, Stats()))[1]
            stats.latencies.append(elapsed)
            stats.bytes += size
            if outcome == "failure":
                stats.failures.append((t0 - self.started, what))
            elif outcome == "conflict":
                stats.conflicts.append((t0 - self.started, what))

    def skip(self, what: str):
        with self.lock:
            self.skipped[what] = self.skipped.get(what, 0) + 1


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


class User:
    def __init__(self, target: dict, session: Session, mix: Mix, seed: int, think: float):
        self.t, self.s, self.mix, self.think = target, session, mix, think
        self.rng = random.Random(seed)
        self.today = date.today()

    # A timed request; outcome decided by `judge(status, body) -> (outcome, what)`.
    def timed(self, category, kind, method, path, body=None, headers=None, judge=None):
        t0 = time.monotonic()
        try:
            status, data = self.s.request(method, path, body, headers)
        except Exception as exc:  # reset, refused, timeout: a failed request
            self.mix.record(
                category, kind, t0, time.monotonic() - t0, "failure", f"{type(exc).__name__} {path}"
            )
            return None, b""
        elapsed = time.monotonic() - t0
        outcome, what = (judge or _ok_200)(status, data)
        self.mix.record(category, kind, t0, elapsed, outcome, what and f"{what} {method} {path}", len(data))
        return status, data

    def run(self):
        allowed = [c for c in ROLE_CATEGORIES[self.t["role"]] if c != "post" or self._post_targets()]
        while True:
            category = self.mix.pick(allowed, self.rng)
            if category is None:
                return
            getattr(self, category)()
            if self.think:
                time.sleep(self.rng.uniform(0, 2 * self.think))

    # reads
    def read(self):
        t, rng = self.t, self.rng
        choices = [("my work", "/")]
        choices.append(("issue list", "/issues/"))
        choices.append(("issue list filtered", "/issues/?" + urlencode(self._list_filter(), doseq=True)))
        if t["issue_pages"] > 1:
            page = rng.randint(2, min(200, t["issue_pages"]))
            choices.append(("issue list page N", f"/issues/?page={page}"))
        if t["issues"]:
            choices += [("issue page", f"/issues/{rng.choice(t['issues'])}/")] * 2
        choices.append(("enterprise page", f"/enterprises/{rng.choice(t['enterprises'])}/"))
        if t["visits"]:
            choices.append(("visit page", f"/visits/{rng.choice(t['visits'])}/"))
        kind, path = rng.choice(choices)
        self.timed("read", kind, "GET", path)

    def _list_filter(self) -> dict:
        rng, t = self.rng, self.t
        dept = rng.choice(t["filter_departments"])
        options = [
            {"status": ["assigned", "in_progress"], "department": dept},
            {"colour": rng.choice(["red", "yellow", "blue"])},
            {"overdue": 1, "department": dept},
            {"due_soon": 1},
            {"q": rng.choice(["审批", "退税", "贷款", "招聘", "用地"])},
            {"raised_after": (self.today - timedelta(days=90)).isoformat(), "ordering": "-raised_on"},
        ]
        return rng.choice(options)

    # dashboard
    def dashboard(self):
        today = self.today
        ninety = {
            "period": "custom",
            "start": (today - timedelta(days=89)).isoformat(),
            "end": today.isoformat(),
        }
        kind, path = self.rng.choice(
            [
                ("dashboard year", "/dashboard/?period=year"),
                ("dashboard 90 days", "/dashboard/?" + urlencode(ninety)),
                ("dashboard month", "/dashboard/"),
                ("weekly list", "/dashboard/weekly/"),
            ]
        )
        self.timed("dashboard", kind, "GET", path)

    # exports
    def export(self):
        fmt = self.rng.choice(["csv", "xlsx"])
        params = {"format": fmt, **self._export_filter()}
        self.timed("export", f"export {fmt}", "GET", "/issues/export/?" + urlencode(params, doseq=True))

    def _export_filter(self) -> dict:
        rng, t = self.rng, self.t
        dept = rng.choice(t["filter_departments"])
        return rng.choice(
            [
                {"overdue": 1, "department": dept},
                {"status": "in_progress", "department": dept},
                {"colour": "red"},
                {"raised_after": (self.today - timedelta(days=30)).isoformat()},
            ]
        )

    # POSTs
    def _post_targets(self) -> list[str]:
        return [a for a in ("progress", "change_deadline", "feedback") if self.t.get(a)]

    def post(self):
        action = self.rng.choice(self._post_targets())
        pk = self.rng.choice(self.t[action])
        page_path = f"/issues/{pk}/"
        status, data = self.timed("read", "issue page", "GET", page_path)
        if status != 200:
            return
        html = data.decode("utf-8", "replace")
        form = next((m for m in FORM.finditer(html) if m.group(2) == action), None)
        if form is None:  # the step is not offered now (the issue moved on): a user would not post
            self.mix.skip(f"{action} not offered on the issue page")
            return
        csrf, version = CSRF.search(form.group(3)), VERSION.search(form.group(3))
        if not (csrf and version):
            self.mix.record(
                "post", f"POST {action}", time.monotonic(), 0.0, "failure", "form without token/version"
            )
            return
        fields = {"csrfmiddlewaretoken": csrf.group(1), "version": version.group(1), **self._fields(action)}
        location: list[str] = []

        def judge(st, body):
            if st in (302, 303):
                location.append(self.s.last_location or "")
                if (self.s.last_location or "").rstrip("/").endswith(page_path.rstrip("/")):
                    return "ok", ""
                return "failure", f"HTTP {st} to {self.s.last_location}"
            if st == 400:  # re-rendered with the reason: a conflict if the step is no longer possible
                errors = [_text(e) for e in FORM_ERROR.findall(body.decode("utf-8", "replace"))]
                reason = "; ".join(errors)[:200] or "HTTP 400 without a message"
                return "conflict", f"HTTP 400: {reason}"
            return "failure", f"HTTP {st}"

        status, _ = self.timed(
            "post",
            f"POST {action}",
            "POST",
            form.group(1),
            urlencode(fields),
            {"Content-Type": "application/x-www-form-urlencoded", "Referer": page_path},
            judge,
        )
        if not location:
            return
        # Follow the redirect, as the browser does; its message says what happened.
        status, data = self.timed("read", "issue page after POST", "GET", page_path)
        if status == 200:
            messages = MESSAGE.findall(data.decode("utf-8", "replace"))
            if any(level == "danger" for level, _m in messages):
                text = "; ".join(_text(m) for level, m in messages if level == "danger")[:200]
                kind = "conflict" if any(w in text for w in CONFLICT_WORDS) else "failure"
                self.mix.record("post", f"POST {action} (outcome)", time.monotonic(), 0.0, kind, text)
            elif not any(level == "success" for level, _m in messages):
                self.mix.record(
                    "post",
                    f"POST {action} (outcome)",
                    time.monotonic(),
                    0.0,
                    "failure",
                    "no message after POST",
                )

    def _fields(self, action: str) -> dict:
        rng, today = self.rng, self.today
        stamp = f"{self.t['username']} {time.strftime('%H:%M:%S')}"
        if action == "progress":
            return {"note": f"已与企业沟通，正在推进办理（压测 {stamp}）"}
        if action == "change_deadline":
            return {
                "deadline": (today + timedelta(days=rng.randint(7, 90))).isoformat(),
                "reason": f"企业申请材料补正，顺延期限（压测 {stamp}）",
            }
        return {  # feedback: a round of the enterprise's answer (unsatisfied sends it back)
            "contacted_on": (today - timedelta(days=rng.randint(0, 5))).isoformat(),
            "channel": "phone",
            "reply_satisfaction": rng.choice(["satisfied", "basically", "unsatisfied"]),
            "solution_satisfaction": rng.choice(["satisfied", "basically", "unsatisfied"]),
            "comment": f"电话回访企业（压测 {stamp}）",
        }


def _ok_200(status: int, _data: bytes):
    return ("ok", "") if status == 200 else ("failure", f"HTTP {status}")


# -- the command ------------------------------------------------------------------------------------
def cmd_mixed(args) -> int:
    django_setup()
    users = pick_users(args.users, args.seed)
    roles: dict[str, int] = {}
    for u in users:
        roles[u["role"]] = roles.get(u["role"], 0) + 1
    print(
        f"{len(users)} users: {', '.join(f'{n} {r}' for r, n in roles.items())} "
        f"({', '.join(u['username'] for u in users)})",
        flush=True,
    )
    _close_db()  # the server does the work from here on
    sessions = login_all(args.url, [u["username"] for u in users])
    for s in sessions:  # the login response set the csrftoken/session cookies
        s.conn.timeout = args.timeout
    started = time.monotonic()
    mix = Mix(started + args.seconds, args.max_requests, started)
    workers = [
        User(target, session, mix, args.seed * 1000 + n, args.think)
        for n, (target, session) in enumerate(zip(users, sessions, strict=True))
    ]
    print(f"mixed load: {len(workers)} users for {args.seconds:.0f} s ...", flush=True)
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    for t in threads:
        t.start()
    last = started
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        if args.progress and time.monotonic() - last >= args.progress:
            last = time.monotonic()
            _progress(mix, last - started)
    wall = time.monotonic() - started
    return report(mix, wall, args.json)


def _close_db():
    from django.db import connections

    connections.close_all()


def _progress(mix: Mix, at: float):
    with mix.lock:
        n = sum(len(s.latencies) for _c, s in mix.kinds.values())
        f = sum(len(s.failures) for _c, s in mix.kinds.values())
    print(f"  {at:5.0f} s: {n} requests, {f} failures", flush=True)


def report(mix: Mix, wall: float, json_path: str | None) -> int:
    rows = []
    order = list(CATEGORIES)
    for kind, (category, s) in sorted(mix.kinds.items(), key=lambda kv: (order.index(kv[1][0]), kv[0])):
        timed = [x for x in s.latencies if x > 0] if kind.endswith("(outcome)") else s.latencies
        count = len(s.latencies) if not kind.endswith("(outcome)") else 0
        rows.append(
            {
                "kind": kind,
                "category": category,
                "count": count,
                "failures": len(s.failures),
                "conflicts": len(s.conflicts),
                "p50": percentile(timed, 0.5) * 1000 if timed else None,
                "p95": percentile(timed, 0.95) * 1000 if timed else None,
                "p99": percentile(timed, 0.99) * 1000 if timed else None,
                "rps": count / wall if wall else 0.0,
                "first_failure": s.failures[0][1] if s.failures else "",
                "first_conflict": s.conflicts[0][1] if s.conflicts else "",
            }
        )
    total = sum(r["count"] for r in rows)
    failures = sum(r["failures"] for r in rows)
    conflicts = sum(r["conflicts"] for r in rows)

    def line(label, n, f, c, lat, rps, size=None):
        def ms(q):
            return f"{percentile(lat, q) * 1000:>8.0f}" if lat else f"{'-':>8}"

        kb = f"{size / 1024:>7.0f}" if size is not None else ""
        print(f"{label:<28} {n:>6} {f:>5} {c:>5} {ms(0.5)} {ms(0.95)} {ms(0.99)} {rps:>6.2f} {kb}")

    print()
    print(
        f"{'request kind':<28} {'count':>6} {'fail':>5} {'confl':>5} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'req/s':>6} {'avg KB':>7}"
    )
    for kind, (_category, s) in sorted(mix.kinds.items(), key=lambda kv: (order.index(kv[1][0]), kv[0])):
        outcome_only = kind.endswith("(outcome)")  # verdicts read from the page after a POST
        n = 0 if outcome_only else len(s.latencies)
        lat = [] if outcome_only else s.latencies
        line(kind, n, len(s.failures), len(s.conflicts), lat, n / wall, s.bytes / n if n else None)
    print("-" * 92)
    by_cat = {}
    for c in CATEGORIES:
        cat = [(k, s) for k, (cc, s) in mix.kinds.items() if cc == c]
        lat = [x for k, s in cat if not k.endswith("(outcome)") for x in s.latencies]
        by_cat[c] = len(lat)
        f = sum(len(s.failures) for _k, s in cat)
        cf = sum(len(s.conflicts) for _k, s in cat)
        line(f"{c} ({100 * len(lat) / max(total, 1):.0f} %)", len(lat), f, cf, lat, len(lat) / wall)
    all_lat = [x for k, (_c, s) in mix.kinds.items() if not k.endswith("(outcome)") for x in s.latencies]
    line("all", total, failures, conflicts, all_lat, total / wall)
    print()
    for r in rows:
        if r["first_failure"]:
            print(f"first failure, {r['kind']}: {r['first_failure']}")
        if r["first_conflict"]:
            print(f"first conflict, {r['kind']}: {r['first_conflict']}")
    if mix.skipped:
        print(
            "not posted (step not offered any more): "
            + ", ".join(f"{k}: {v}" for k, v in mix.skipped.items())
        )
    all_failures = sorted(f for _c, s in mix.kinds.values() for f in s.failures)
    if all_failures:
        print("failures at: " + ", ".join(f"{t:.1f}s {w}" for t, w in all_failures[:10]))
    print(f"wall time {wall:.0f} s; conflicts are correct refusals (someone else changed the issue first)")
    print(f"mixed load: {total} requests, {failures} failures")
    if json_path:
        with open(json_path, "w") as fh:
            json.dump(
                {
                    "wall": wall,
                    "rows": rows,
                    "mix": by_cat,
                    "total": total,
                    "failures": failures,
                    "conflicts": conflicts,
                },
                fh,
                indent=1,
                ensure_ascii=False,
            )
    return 1 if failures else 0
