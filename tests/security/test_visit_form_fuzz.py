"""SECURITY.md 20: fuzz the log-a-visit form (the visit plus its issues formset).

Hypothesis builds whole POST bodies over the real field names: valid values (an existing
enterprise by code or name, a past date, existing officials, departments, categories and
topics) mixed with hostile ones (empty, 5,000 characters, emoji and RTL marks, NUL, markup,
SQL-ish text, negative or huge TOTAL_FORMS, a missing management form, unknown ids, dates
such as 2023-02-30 and 9999-12-31). The issue rows come from `from_form(IssueForm)`. Each
body is posted, as a browser does (urlencoded), to the real view by a logged-in official.

Properties, for every body:
- the answer is never a 5xx (an exception in the view fails the test with its traceback);
- a body known to be invalid is answered 200 with the form, and no Visit or Issue is added;
- a body known to be valid is answered with a redirect to a new visit;
- after a redirect: exactly one new visit, found by its submission token, holding the cleaned
  values (enterprise, date, officials, departments, topics, texts stripped as Django strips),
  one Issue per non-empty, non-removed row considered by the formset, in order, and a row
  solved on the spot is closed with its stripped resolution;
- a token that already made a visit redirects to that visit and adds nothing;
- the answered page (form with errors, or the visit page) never contains the injected markup
  unescaped.
"""

import uuid
from datetime import date, timedelta
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase, from_form

from enterprises.models import Enterprise
from issues.models import Category, Issue, Outcome, Source, Status
from visits.forms import IssueForm
from visits.models import Topic, Visit, VisitStatus

from ..factories import (
    DepartmentFactory,
    EnterpriseFactory,
    OfficialFactory,
    UserFactory,
    VisitFactory,
    valid_credit_code,
)

CREATE = reverse("visits:create")
PREFIX = "issues"
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Markup that must never come back unescaped (none of it occurs in our own templates).
MARKERS = ("<script>alert", "<img src=x onerror", "<svg onload")
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE_NAME = "乙<svg onload=alert(7)>企业有限公司"  # an enterprise whose own name is markup


class Sym(str):
    """A placeholder resolved to a real value (an id, a date, a credit code) at post time."""


class Long(str):
    """Long text with a short repr, so failure reports stay readable."""

    def __repr__(self) -> str:
        return f"Long({self[:12]!r}…, {len(self)} chars)"


LONG = Long("A" * 5000)
LONG_MIXED = Long(("长" + SCRIPT + "😀\u202e") * 200)

HOSTILE_TEXT = [
    SCRIPT,
    IMG,
    "' OR '1'='1' --",
    "1; DROP TABLE visits_visit; --",
    "\u202e\u200f右到左\u200e mixed עברית",
    "😀🚀 企业 👍🏽 \u0301",
    LONG,
    LONG_MIXED,
    "x\x00y",
    "\x00",
    "",
    "   \t\r\n  ",
    "{{ 7*7 }}{% debug %}",
    "%s%n%x\\x00 ` ; --",
    "\r\n  前后空白  \r\n",
]


def no_nul(text: str) -> bool:
    return "\x00" not in text


# -- field strategies: (raw or symbolic value, verdict True/False/None=unknown) ----------------

TEXT = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=40),
    st.lists(
        st.sampled_from([t for t in HOSTILE_TEXT if not isinstance(t, Long)]), min_size=2, max_size=3
    ).map("".join),
)
# Non-empty, NUL-free text: accepted anywhere, however hostile its content.
VALID_TEXT = TEXT.filter(lambda t: no_nul(t) and t.strip())

ENTERPRISE_OK = st.sampled_from(
    [
        "@E0.code",
        "@E0.code_lower",
        "@E0.code_padded",
        "@E0.name",
        "@E0.label",
        "@E1.code",
        "@E1.name",
        "@E1.label",
    ]
).map(lambda s: (Sym(s), True))
ENTERPRISE_BAD = st.sampled_from(
    [
        SCRIPT,
        IMG,
        "' OR '1'='1' --",
        "企业",
        "有限公司",
        "不存在的企业XYZ",
        LONG,
        "x\x00y",
        "",
        "   ",
        Sym("@E0.code_nul"),
    ]
).map(lambda s: (s, False))
ENTERPRISE_ANY = st.text(max_size=20).map(lambda s: (s, False if ("\x00" in s or not s.strip()) else None))

DATE_OK = st.one_of(
    st.integers(0, 9000).map(lambda n: (Sym(f"@ago:{n}"), True)),
    st.sampled_from([" 2023-05-04 ", "0001-01-01", "1900-02-28", "2024-02-29"]).map(lambda s: (s, True)),
)
DATE_BAD = st.one_of(
    st.integers(1, 4000).map(lambda n: (Sym(f"@ahead:{n}"), False)),  # a completed visit in the future
    st.sampled_from(
        ["2023-02-30", "2023-13-01", "9999-12-31", "0000-00-00", "", "2023-01-01\x00", SCRIPT, "' OR 1=1 --"]
    ).map(lambda s: (s, False)),
    st.text(max_size=12).map(lambda s: (s, None)),
)

BAD_IDS = ["0", "-1", "999999", "99999999999999999999", "1.5", "abc", "", "1\x00", "' OR 1=1 --", SCRIPT]
OFFICIAL_OK = st.sampled_from([Sym("@O0"), Sym("@O1")]).map(lambda s: (s, True))
OFFICIAL_BAD = st.sampled_from([Sym("@Ooff"), *BAD_IDS]).map(lambda s: (s, False))
DEPARTMENT_OK = st.just((Sym("@D0"), True))
DEPARTMENT_BAD = st.sampled_from([Sym("@Doff"), *BAD_IDS]).map(lambda s: (s, False))
TOPIC_OK = st.sampled_from(Topic.values).map(lambda s: (s, True))
TOPIC_BAD = st.sampled_from(["", "PRODUCTION", "production ", SCRIPT, "other\x00"]).map(lambda s: (s, False))

TOKEN_OK = st.one_of(st.uuids().map(str), st.just("")).map(lambda s: (s, True))
TOKEN_BAD = st.sampled_from(
    ["not-a-uuid", "\x00", "00000000-0000-0000-0000-00000000000g", "' OR 1=1 --"]
).map(lambda s: (s, False))
TOKEN_USED = st.sampled_from([Sym("@used"), Sym("@used_upper")]).map(lambda s: (s, True))

# Management form: how many rows the formset considers, or why it is broken.
MGMT_OK = st.sampled_from(["exact", "exact", "zero", "negative", "one"])
# A huge TOTAL_FORMS is capped by Django at 1,050 rows, each re-rendered: ~7 s a post, so it is
# checked once below (test_huge_total_forms_is_refused) rather than drawn here.
MGMT_BAD = st.sampled_from(["missing", "over_max", "abc", "nul", "initial_99"])

CATEGORY_OK = st.sampled_from([Sym("@C0"), Sym("@C1")])
CATEGORY_ANY = st.one_of(CATEGORY_OK, st.sampled_from([Sym("@Coff"), *BAD_IDS]))

# Issue rows through Hypothesis' Django form support: each drawn IssueForm's data is a row.
FILLED_ROW = from_form(
    IssueForm,
    title=st.one_of(TEXT, st.sampled_from(["长" * 200, "长" * 201, " " + "长" * 200 + " "])),
    description=TEXT,
    category=CATEGORY_ANY,
    solved_on_site=st.booleans(),
    resolution=TEXT,
).map(lambda form: dict(form.data))
VALID_ROW = from_form(
    IssueForm,
    title=st.one_of(VALID_TEXT.filter(lambda t: len(t.strip()) <= 200), st.just("长" * 200)),
    description=TEXT.filter(no_nul),
    category=CATEGORY_OK,
    solved_on_site=st.booleans(),
    resolution=VALID_TEXT,
).map(lambda form: dict(form.data))
EMPTY_ROW = st.just(
    {"title": "", "description": "", "category": "", "solved_on_site": False, "resolution": ""}
)


def with_delete(rows):
    return st.tuples(rows, st.booleans()).map(lambda pair: {**pair[0], "DELETE": pair[1]})


@st.composite
def submissions(draw):
    """A symbolic POST body and, per field, whether it is known to be valid."""
    clean = draw(st.booleans())  # half the bodies are entirely valid (with hostile content)

    def pick(ok, bad, *unknown):
        return draw(ok if clean else st.one_of(ok, bad, *unknown))

    def pick_list(ok, bad, min_size):
        items = st.lists(ok if clean else st.one_of(ok, bad), min_size=min_size, max_size=3)
        return draw(items)

    spec = {
        "enterprise": pick(ENTERPRISE_OK, ENTERPRISE_BAD, ENTERPRISE_ANY),
        "visited_on": pick(DATE_OK, DATE_BAD),
        "lead_officials": pick_list(OFFICIAL_OK, OFFICIAL_BAD, 1 if clean else 0),
        "accompanying_departments": pick_list(DEPARTMENT_OK, DEPARTMENT_BAD, 0),
        "topics": pick_list(TOPIC_OK, TOPIC_BAD, 0),
        "policies_explained": draw(TEXT.filter(no_nul) if clean else TEXT),
        "summary": draw(VALID_TEXT if clean else TEXT),
        "submission_token": draw(TOKEN_OK if clean else st.one_of(TOKEN_OK, TOKEN_OK, TOKEN_BAD, TOKEN_USED)),
        "management": draw(MGMT_OK if clean else st.one_of(MGMT_OK, MGMT_BAD)),
    }
    row = (
        with_delete(st.one_of(VALID_ROW, EMPTY_ROW))
        if clean
        else with_delete(st.one_of(FILLED_ROW, VALID_ROW, EMPTY_ROW))
    )
    rows = draw(st.lists(row, max_size=4))
    if clean:  # a removed row may hold anything; an empty row stays empty
        rows = [r if not r["DELETE"] else {**draw(FILLED_ROW), "DELETE": True} for r in rows]
    spec["rows"] = rows
    return spec


# -- the oracle ----------------------------------------------------------------------------


def combine(verdicts) -> bool | None:
    verdicts = list(verdicts)
    if False in verdicts:
        return False
    return True if all(v is True for v in verdicts) else None


def rows_considered(spec) -> list[dict] | None:
    """The rows the formset looks at, or None when the management form is broken."""
    rows, mode = spec["rows"], spec["management"]
    return {"exact": rows, "zero": [], "negative": [], "one": rows[:1]}.get(mode)


def row_is_filled(row) -> bool:
    return bool(
        row["title"].strip()
        or row["description"].strip()
        or row["resolution"].strip()
        or row["category"]
        or row["solved_on_site"]
    )


def row_verdict(row) -> bool:
    if row["DELETE"] or not row_is_filled(row):
        return True
    title = row["title"]
    return (
        no_nul(title)
        and 0 < len(title.strip()) <= 200
        and no_nul(row["description"])
        and no_nul(row["resolution"])
        and isinstance(row["category"], Sym)
        and row["category"] in ("@C0", "@C1")
        and (not row["solved_on_site"] or bool(row["resolution"].strip()))
    )


def expected_verdict(spec) -> bool | None:
    summary, policies = spec["summary"], spec["policies_explained"]
    fields = [
        spec["enterprise"][1],
        spec["visited_on"][1],
        bool(spec["lead_officials"]) and combine(v for _, v in spec["lead_officials"]),
        combine(v for _, v in spec["accompanying_departments"]),
        combine(v for _, v in spec["topics"]),
        no_nul(policies),
        no_nul(summary) and bool(summary.strip()),
        spec["submission_token"][1],
    ]
    if spec["management"] == "initial_99":
        fields.append(None)
    else:
        considered = rows_considered(spec)
        fields.append(considered is not None and all(row_verdict(r) for r in considered))
    return combine(fields)


class VisitFormFuzz(TestCase):
    """Each Hypothesis example runs in its own transaction (hypothesis.extra.django.TestCase)."""

    @classmethod
    def setUpTestData(cls):
        cls.user = UserFactory(username="fuzz_official", role="official")
        cls.e0 = EnterpriseFactory(name="天津模糊测试企业有限公司", credit_code=valid_credit_code(424_242))
        cls.e1 = EnterpriseFactory(name=HOSTILE_NAME, credit_code=valid_credit_code(434_343), is_key=True)
        cls.o0, cls.o1 = OfficialFactory(name="王副市长"), OfficialFactory(name="李局长")
        cls.o_off = OfficialFactory(name="已离任", is_active=False)
        cls.d0 = DepartmentFactory(name="市模糊测试局")
        cls.d_off = DepartmentFactory(name="已撤销局", is_active=False)
        cls.c0, cls.c1 = Category.objects.filter(is_active=True).order_by("id")[:2]
        cls.c_off = Category.objects.create(code="fuzz-retired", name="已停用类别", is_active=False)
        cls.used_token = uuid.uuid4()
        cls.used_visit = VisitFactory(enterprise=cls.e0, created_by=cls.user)
        Visit.objects.filter(pk=cls.used_visit.pk).update(submission_token=cls.used_token)

    # -- symbols → real values --

    def resolve(self, value: str) -> str:
        if not isinstance(value, Sym):
            return value
        today = timezone.localdate()
        if value.startswith("@ago:"):
            return (today - timedelta(days=int(value[5:]))).isoformat()
        if value.startswith("@ahead:"):
            return (today + timedelta(days=int(value[7:]))).isoformat()
        if value.startswith("@E"):
            enterprise = self.enterprise_for(value)
            kind = value.split(".", 1)[1]
            return {
                "code": enterprise.credit_code,
                "code_lower": enterprise.credit_code.lower(),
                "code_padded": f"  {enterprise.credit_code}  ",
                "code_nul": enterprise.credit_code + "\x00",
                "name": enterprise.name,
                "label": f"{enterprise.name} {enterprise.credit_code}",
            }[kind]
        objects = {
            "@O0": self.o0,
            "@O1": self.o1,
            "@Ooff": self.o_off,
            "@D0": self.d0,
            "@Doff": self.d_off,
            "@C0": self.c0,
            "@C1": self.c1,
            "@Coff": self.c_off,
        }
        if value in objects:
            return str(objects[value].pk)
        return {"@used": str(self.used_token), "@used_upper": str(self.used_token).upper()}[value]

    def enterprise_for(self, symbol: str) -> Enterprise:
        return self.e0 if symbol.startswith("@E0") else self.e1

    def post_body(self, spec) -> list[tuple[str, str]]:
        body = [
            ("enterprise", self.resolve(spec["enterprise"][0])),
            ("visited_on", self.resolve(spec["visited_on"][0])),
            ("policies_explained", spec["policies_explained"]),
            ("summary", spec["summary"]),
            ("submission_token", self.resolve(spec["submission_token"][0])),
        ]
        for name in ("lead_officials", "accompanying_departments", "topics"):
            body += [(name, self.resolve(value)) for value, _ in spec[name]]
        total = {
            "exact": str(len(spec["rows"])),
            "zero": "0",
            "negative": "-1",
            "one": "1",
            "over_max": "51",
            "abc": "abc",
            "nul": "1\x00",
            "initial_99": str(len(spec["rows"])),
        }.get(spec["management"])
        if total is not None:
            initial = "99" if spec["management"] == "initial_99" else "0"
            body += [
                (f"{PREFIX}-TOTAL_FORMS", total),
                (f"{PREFIX}-INITIAL_FORMS", initial),
                (f"{PREFIX}-MIN_NUM_FORMS", "0"),
                (f"{PREFIX}-MAX_NUM_FORMS", "50"),
            ]
        for i, row in enumerate(spec["rows"]):
            for key, value in row.items():
                if isinstance(value, bool):
                    if value:
                        body.append((f"{PREFIX}-{i}-{key}", "on"))
                else:
                    body.append((f"{PREFIX}-{i}-{key}", self.resolve(value)))
        return body

    def post(self, body):
        self.client.force_login(self.user)  # the client is new for every example
        return self.client.post(
            CREATE, urlencode(body, doseq=True), content_type="application/x-www-form-urlencoded"
        )

    def assert_escaped(self, response):
        html = response.content.decode()
        for marker in MARKERS:
            self.assertNotIn(marker, html)

    # -- checks on a saved visit --

    def assert_saved_as_cleaned(self, spec, body, visit):
        values = dict(body)
        self.assertEqual(visit.status, VisitStatus.COMPLETED)
        self.assertEqual(visit.created_by, self.user)
        if spec["enterprise"][1] is True:
            self.assertEqual(visit.enterprise, self.enterprise_for(spec["enterprise"][0]))
        self.assertIn(visit.enterprise, (self.e0, self.e1))
        if spec["visited_on"][1] is True:
            self.assertEqual(visit.visited_on, date.fromisoformat(values["visited_on"].strip()))
        self.assertLessEqual(visit.visited_on, timezone.localdate())
        self.assertEqual(visit.summary, spec["summary"].strip())
        self.assertEqual(visit.policies_explained, spec["policies_explained"].strip())
        self.assertEqual(visit.topics, [value for value, _ in spec["topics"]])
        self.assertEqual(
            {o.pk for o in visit.lead_officials.all()},
            {int(self.resolve(value)) for value, _ in spec["lead_officials"]},
        )
        self.assertEqual(
            {d.pk for d in visit.accompanying_departments.all()},
            {int(self.resolve(value)) for value, _ in spec["accompanying_departments"]},
        )
        considered = rows_considered(spec)
        if considered is None:  # INITIAL_FORMS tampered with: no exact expectation of the rows
            return
        expected = [r for r in considered if not r["DELETE"] and row_is_filled(r)]
        issues = list(visit.issues.order_by("id"))
        self.assertEqual(len(issues), len(expected))
        for issue, row in zip(issues, expected, strict=True):
            self.assertEqual(issue.title, row["title"].strip())
            self.assertEqual(issue.description, row["description"].strip())
            self.assertEqual(str(issue.category_id), self.resolve(row["category"]))
            self.assertEqual(
                (issue.enterprise, issue.source, issue.raised_by), (visit.enterprise, Source.VISIT, self.user)
            )
            self.assertEqual(issue.raised_on, visit.visited_on)
            if row["solved_on_site"]:
                self.assertEqual(
                    (issue.status, issue.outcome, issue.solved_on_site, issue.resolution),
                    (Status.CLOSED, Outcome.RESOLVED, True, row["resolution"].strip()),
                )
            else:
                self.assertEqual(
                    (issue.status, issue.solved_on_site, issue.resolution), (Status.NEW, False, "")
                )

    # -- the property --

    @FUZZ
    @given(spec=submissions())
    def test_log_visit_form_never_500_and_saves_only_what_it_cleaned(self, spec):
        visits_before, issues_before = Visit.objects.count(), Issue.objects.count()
        body = self.post_body(spec)
        verdict = expected_verdict(spec)
        event(f"expected valid: {verdict}")
        response = self.post(body)
        self.assertLess(response.status_code, 500)
        token_symbol = spec["submission_token"][0]

        if isinstance(token_symbol, Sym) and token_symbol.startswith("@used"):
            event("token already used")
            self.assertRedirects(response, self.used_visit.get_absolute_url(), fetch_redirect_response=False)
            self.assertEqual((Visit.objects.count(), Issue.objects.count()), (visits_before, issues_before))
            return

        if response.status_code != 302:
            event("refused")
            self.assertEqual(response.status_code, 200)
            self.assertIsNot(verdict, True, "a valid submission was refused")
            self.assertEqual((Visit.objects.count(), Issue.objects.count()), (visits_before, issues_before))
            self.assertTrue(
                response.context["form"].errors or response.context["formset"].total_error_count()
            )
            self.assert_escaped(response)
            return

        event("saved")
        self.assertIsNot(verdict, False, "an invalid submission was saved")
        token = self.resolve(token_symbol)
        visit = Visit.objects.get(submission_token=token) if token else Visit.objects.latest("id")
        self.assertEqual(response["Location"], visit.get_absolute_url())
        self.assertEqual(Visit.objects.count(), visits_before + 1)
        self.assertEqual(Issue.objects.count(), issues_before + visit.issues.count())
        self.assert_saved_as_cleaned(spec, body, visit)
        page = self.client.get(response["Location"])
        self.assertEqual(page.status_code, 200)
        self.assert_escaped(page)

    # -- fixed cases the property must cover, checked exactly --

    def valid_body(self, **overrides) -> dict:
        data = {
            "enterprise": self.e1.credit_code,
            "visited_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
            "lead_officials": [str(self.o0.pk)],
            "topics": ["production"],
            "policies_explained": "",
            "summary": "走访",
            "submission_token": str(uuid.uuid4()),
            f"{PREFIX}-TOTAL_FORMS": "1",
            f"{PREFIX}-INITIAL_FORMS": "0",
            f"{PREFIX}-MIN_NUM_FORMS": "0",
            f"{PREFIX}-MAX_NUM_FORMS": "50",
            f"{PREFIX}-0-title": "用电增容",
            f"{PREFIX}-0-category": str(self.c0.pk),
        }
        data.update(overrides)
        return data

    def test_markup_is_stored_verbatim_and_shown_escaped(self):
        body = self.valid_body(
            summary=f"  {SCRIPT}  ",
            **{
                f"{PREFIX}-0-title": IMG,
                f"{PREFIX}-0-solved_on_site": "on",
                f"{PREFIX}-0-resolution": SCRIPT,
            },
        )
        response = self.post(list(body.items()))
        visit = Visit.objects.get(submission_token=body["submission_token"])
        self.assertEqual(visit.summary, SCRIPT)
        issue = visit.issues.get()
        self.assertEqual((issue.title, issue.resolution, issue.status), (IMG, SCRIPT, Status.CLOSED))
        html = self.client.get(response["Location"]).content.decode()
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", html)
        # The issue list items are a Jinja2 partial: `"` is &#34; there, &quot; in Django's.
        self.assertRegex(html, "(&quot;|&#34;)&gt;&lt;img src=x onerror=alert\\(1\\)&gt;")
        self.assertIn("乙&lt;svg onload=alert(7)&gt;企业有限公司", html)
        for marker in MARKERS:
            self.assertNotIn(marker, html)

    def test_nul_in_any_field_is_refused_cleanly(self):
        """PostgreSQL cannot store NUL in text: every field must refuse it before the database."""
        nul_fields = {
            "enterprise": self.e1.credit_code + "\x00",
            "visited_on": "2024-01-01\x00",
            "lead_officials": [f"{self.o0.pk}\x00"],
            "accompanying_departments": [f"{self.d0.pk}\x00"],
            "topics": ["production\x00"],
            "policies_explained": "a\x00b",
            "summary": "a\x00b",
            "submission_token": str(uuid.uuid4()) + "\x00",
            f"{PREFIX}-TOTAL_FORMS": "1\x00",
            f"{PREFIX}-0-title": "a\x00b",
            f"{PREFIX}-0-description": "a\x00b",
            f"{PREFIX}-0-category": f"{self.c0.pk}\x00",
        }
        for field, value in nul_fields.items():
            with self.subTest(field=field):
                response = self.post(list(self.valid_body(**{field: value}).items()))
                self.assertEqual(response.status_code, 200)
                self.assertEqual(Visit.objects.count(), 1)  # only the "used token" visit
                self.assertEqual(Issue.objects.count(), 0)
        solved = {f"{PREFIX}-0-solved_on_site": "on", f"{PREFIX}-0-resolution": "a\x00b"}
        self.assertEqual(self.post(list(self.valid_body(**solved).items())).status_code, 200)
        self.assertEqual(Issue.objects.count(), 0)

    def test_huge_total_forms_is_refused(self):
        """Django caps the rows it builds (absolute_max); the post is refused, nothing saved."""
        body = self.valid_body(**{f"{PREFIX}-TOTAL_FORMS": "100000000"})
        response = self.post(list(body.items()))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["formset"].non_form_errors().as_data()[0].code, "too_many_forms")
        self.assertEqual((Visit.objects.count(), Issue.objects.count()), (1, 0))

    def test_out_of_range_ids_are_refused_cleanly(self):
        """An id beyond a 64-bit integer is just an unknown choice: 200 with the form, nothing saved.

        Found by the property above: on SQLite, ModelMultipleChoiceField sends `pk IN (…)`
        with the number unchecked and sqlite3 raises OverflowError (a 500).
        """
        huge = "99999999999999999999"
        for field, value in {
            "lead_officials": [huge],
            "accompanying_departments": [huge],
            f"{PREFIX}-0-category": huge,
            "enterprise": huge,
            "submission_token": huge,
        }.items():
            with self.subTest(field=field):
                response = self.post(list(self.valid_body(**{field: value}).items()))
                self.assertEqual(response.status_code, 200)
                self.assertEqual((Visit.objects.count(), Issue.objects.count()), (1, 0))
