"""The checked-in permission matrix: role × URL × (own department's object, other's) → answer.

Read it as the specification. `test_permission_matrix.py` walks every URL Django resolves
and fails when one is missing here, or when a page answers differently.

Roles: official, coordinator, department (staff of dept A), leader, administrator
(superuser), anonymous, inactive (a deactivated coordinator). "own" is dept A's issue (and
its enterprise, visit, milestone...), "other" is dept B's.
"""

from fnmatch import fnmatchcase

from issues.permissions import Action

ROLES = ("official", "coordinator", "department", "leader", "administrator", "anonymous", "inactive")
SIGNED_IN = ROLES[:5]

# Expected answers.
OK = "200"
DENY = "403/404"  # forbidden object or page: never its content
LOGIN = "302→login"  # to /accounts/login/ or, for admin pages, /admin/login/
REDIRECT = "302"
NO_CONTENT = "204"
METHOD = "405"
ATTEMPT = "allowed"  # the role may try: 200 (form error), 302 (done), 400 or 409; never 403/404/500
LOGOUT = "302/405"  # GET on a POST-only logout: refused, or sent to a login page
ADMIN_STAFF = "admin"  # decided by the admin's own model permissions (tests/test_admin.py)
ADMIN_LOGIN = "admin login"  # the form (200), or staff already signed in sent on (302)
GONE = "410"  # a feedback link that cannot be used: a page saying why, for anyone

ACCEPT = {
    OK: {200},
    DENY: {403, 404},
    LOGIN: {302},
    REDIRECT: {302},
    NO_CONTENT: {204},
    METHOD: {405},
    ATTEMPT: {200, 302, 400, 409},
    # 404: the admin's catch-all and "view on site" for a model without a public page;
    # 405: POST-only admin views (the import's process step).
    ADMIN_STAFF: {200, 302, 403, 404, 405},
    ADMIN_LOGIN: {200, 302},
    LOGOUT: {302, 405},
    GONE: {410},
}


def row(default: str, *, own: dict | None = None, other: dict | None = None, **per_role: str) -> dict:
    """Expectations for every role: signed-in roles get `default` unless named; anonymous and
    inactive users always go to the login page. `own`/`other` override per object side."""
    expected = {}
    for role in ROLES:
        base = LOGIN if role in ("anonymous", "inactive") else per_role.get(role, default)
        expected[role] = {
            "own": (own or {}).get(role, base),
            "other": (other or {}).get(role, base),
        }
    return expected


def public(answer: str) -> dict:
    return {role: {"own": answer, "other": answer} for role in ROLES}


# Department staff see their own department's figures (the filter is fixed to it).
DASHBOARD_ROLES = dict(official=DENY)
EDITORS = dict(department=DENY, leader=DENY)  # who may not log or edit visits

# Pages reachable without logging in, and why.
PUBLIC_ALLOWLIST = {
    "login": "the login page itself",
    "set_language": "the language switch works on the login page",
    "healthz": "load balancer probe; answers only {'status': 'ok'}",
    "favicon": "a redirect to the site's static icon, asked for by browsers on every page",
    "admin:login": "the admin's login page",
    "admin:logout": "logging out needs no login (POST only)",
    "feedback": "the enterprise's answer by link: the signed, single-use token is the authorisation",
    "invitation": "an enterprise contact sets its password: Django's password-reset token",
    "invitation-done": "says the password is set, with a link to log in",
}

GET = {
    "home": row(OK),
    "login": public(OK),
    "logout": row(METHOD),
    # Every signed-in user changes their own password (and nobody else's).
    "password_change": row(OK),
    "password_change_done": row(OK),
    "set_language": public(REDIRECT),
    "healthz": public(OK),
    "favicon": public(REDIRECT),
    "bench-floor": row(OK),
    "enterprises:list": row(OK),
    "enterprises:lookup": row(OK),
    # Enterprise profiles and visits are shared reference data for every signed-in role
    # (DESIGN §2); what a page shows of their issues still follows visible_issues.
    "enterprises:detail": row(OK),
    "visits:list": row(OK),
    "visits:detail": row(OK),
    "visits:create": row(OK, **EDITORS),
    "visits:plan": row(OK, **EDITORS),
    # Officials edit the visits they logged; coordinators and administrators any visit.
    "visits:edit": row(OK, **EDITORS, other={"official": DENY}),
    "issues:list": row(OK),
    "issues:export": row(OK),
    "issues:detail": row(OK, other={"official": DENY, "department": DENY}),
    "issues:action": row(METHOD),
    # Evidence files (issue 13). Adding is POST only. Opening: the matrix world holds no file,
    # so every id is a 404; tests/test_evidence_files.py opens real files from both sides.
    "issues:add-files": row(METHOD),
    "issues:file": row(DENY),
    "issues:file-thumbnail": row(DENY),
    "visits:add-files": row(METHOD),
    "dashboard:index": row(OK, **DASHBOARD_ROLES),
    "dashboard:weekly": row(OK, **DASHBOARD_ROLES),
    "dashboard:facts": row(OK, **DASHBOARD_ROLES),
    "dashboard:report-xlsx": row(OK, **DASHBOARD_ROLES),
    "feedback": public(GONE),
    "invitation": public(OK),
    "invitation-done": public(OK),
    "notification-settings": row(OK),
    # The enterprise's own pages: its account only (tests/test_enterprise_voice.py); no staff.
    "enterprise:home": row(DENY),
    "enterprise:issue": row(DENY),
    "enterprise:raise": row(DENY),
}

# The Django admin: staff only (coordinators, administrators). Everybody else is sent to the
# admin login page; the admin's per-model permissions (tested in tests/test_admin.py)
# decide between 200 and 403 for staff.
ADMIN_RULE = row(LOGIN, coordinator=ADMIN_STAFF, administrator=ADMIN_STAFF)
GET_PATTERNS = {
    "admin:login": public(ADMIN_LOGIN),
    "admin:logout": public(LOGOUT),
    "admin:*": ADMIN_RULE,
    "admin/*": ADMIN_RULE,  # unnamed admin routes (object redirect, catch-all)
}

# issues:action POST: who may attempt which action, on the own-department (A) issue and on
# the other department's (B) issue. Whether the issue's *status* allows it is the
# workflow's business: an attempt may still end in a form error.
_ALL = frozenset(a for a in Action.values if a != Action.VIEW)
_DEPARTMENT_ONLY = {Action.OBJECT, Action.REQUEST_EXTENSION, Action.CO_REPORT, Action.ADD_INFORMATION}
_LEAD_DEPARTMENT = {
    Action.START,
    Action.PROGRESS,
    Action.RESOLVE,
    Action.REQUEST_EXTENSION,
    Action.OBJECT,
    Action.ADD_MILESTONE,
    Action.COMPLETE_MILESTONE,
}
ACTION_RIGHTS = {
    "official": {"own": set(), "other": set()},
    "coordinator": {"own": _ALL - _DEPARTMENT_ONLY, "other": _ALL - _DEPARTMENT_ONLY},
    "department": {"own": _LEAD_DEPARTMENT, "other": set()},
    "leader": {"own": set(), "other": set()},
    "administrator": {"own": _ALL - _DEPARTMENT_ONLY, "other": _ALL - _DEPARTMENT_ONLY},
    "anonymous": {"own": set(), "other": set()},
    "inactive": {"own": set(), "other": set()},
}


def action_post_expectation(role: str, side: str, action: str) -> str:
    if role in ("anonymous", "inactive"):
        return LOGIN
    return ATTEMPT if action in ACTION_RIGHTS[role][side] else DENY


# Other POST endpoints (creating or changing data) and who may use them.
POST = {
    "visits:create": row(ATTEMPT, **EDITORS),
    "visits:plan": row(ATTEMPT, **EDITORS),
    "visits:edit": row(ATTEMPT, **EDITORS, other={"official": DENY}),
    "enterprise:issue": row(DENY),
    "enterprise:raise": row(DENY),
    # Files on an issue: those who work on it (its departments, coordinators, the official who
    # raised it); files on a visit: those who may edit it.
    "issues:add-files": row(ATTEMPT, leader=DENY, other={"official": DENY, "department": DENY}),
    "visits:add-files": row(ATTEMPT, **EDITORS, other={"official": DENY}),
}

# POSTs that change no city data (password_change: only the user's own password); left out of
# "every POST as leader is refused".
POST_EXEMPT = {
    "login",
    "logout",
    "set_language",
    "password_change",
    "admin:login",
    "admin:logout",
    "notification-settings",  # the user's own preferences
    "feedback",  # public: the link is the authorisation (tests/test_enterprise_voice.py)
    "invitation",
}

# Read-only pages that answer POST like GET (nothing changes: the leader test still checks
# the data). They should refuse POST with 405 (`require_safe`); reported to their owners.
KNOWN_POST_DEVIATIONS: dict[str, str] = {}


def get_expectation(name: str) -> dict | None:
    if name in GET:
        return GET[name]
    for pattern, expected in GET_PATTERNS.items():
        if fnmatchcase(name, pattern):
            return expected
    return None
