"""SECURITY.md 22: the workflow as a Hypothesis state machine.

Random actors (coordinator, staff of dept A, staff of dept B, the leader) try random steps.
After every step: the status is a legal Status, the row satisfies every database
constraint, a refused step changed nothing, and replaying the IssueEvent log gives back the
issue's status, lead department, owner and deadline.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from issues import workflow
from issues.models import EventKind, Issue, IssueEvent, Outcome, Satisfaction, Status

from ..factories import IssueFactory

ACTORS = ("coordinator", "staff_a", "staff_b", "leader")
# Written out here, independently of workflow.TRANSITIONS: step → (from, to).
EXPECTED = {
    "assign": ({Status.NEW}, Status.ASSIGNED),
    "start": ({Status.ASSIGNED}, Status.IN_PROGRESS),
    "progress": ({Status.ASSIGNED, Status.IN_PROGRESS}, Status.IN_PROGRESS),
    "resolve": ({Status.ASSIGNED, Status.IN_PROGRESS}, Status.RESOLVED),
    "confirm": ({Status.RESOLVED}, Status.CLOSED),
    "close": ({Status.NEW}, Status.CLOSED),
    "reopen": ({Status.RESOLVED, Status.CLOSED}, None),  # in_progress, or new if never assigned
    "change_deadline": ({Status.ASSIGNED, Status.IN_PROGRESS}, None),
}
DEADLINE_KINDS = {
    EventKind.ASSIGNED,
    EventKind.DEADLINE_CHANGED,
    EventKind.EXTENSION_APPROVED,
    EventKind.REOPENED,
    EventKind.OBJECTION_UPHELD,
}
ASSIGNMENT_KINDS = {EventKind.ASSIGNED, EventKind.OBJECTION_UPHELD, EventKind.OWNER_CHANGED}


def snapshot(issue_id):
    issue = Issue.objects.get(pk=issue_id)
    return (issue.status, issue.lead_department_id, issue.owner_id, issue.deadline, issue.version)


def replay(issue_id):
    """Status, lead department, owner and deadline, computed from the event log alone."""
    status, department, owner, deadline = Status.NEW, None, None, None
    for event in IssueEvent.objects.filter(issue_id=issue_id).order_by("at", "id"):
        if event.status_to:
            status = event.status_to
        if event.kind in ASSIGNMENT_KINDS:
            department = event.department_id
            owner = event.owner_id
        if event.kind in DEADLINE_KINDS and event.deadline_to is not None:
            deadline = event.deadline_to
    return status, department, owner, deadline


class WorkflowMachine(RuleBasedStateMachine):
    cast: dict = {}
    succeeded: dict = {}

    def __init__(self):
        super().__init__()
        c = self.cast
        self.today = timezone.localdate()
        self.issue = IssueFactory(raised_by=c["official"], visit__created_by=c["official"])
        self.steps_done = 0

    def attempt(self, step, actor, call):
        user = self.cast[actor]
        before = snapshot(self.issue.pk)
        events_before = IssueEvent.objects.filter(issue=self.issue).count()
        try:
            call(user)
        except (workflow.WorkflowError, PermissionDenied):
            assert snapshot(self.issue.pk) == before, f"refused {step} by {actor} changed the issue"
            assert IssueEvent.objects.filter(issue=self.issue).count() == events_before
            return
        after = snapshot(self.issue.pk)
        sources, target = EXPECTED[step]
        assert before[0] in sources, f"{step} succeeded from {before[0]}"
        if target:
            assert after[0] == target
        assert actor != "leader", f"the leader managed to {step}"
        if actor.startswith("staff_"):
            dept = self.cast[f"dept_{actor[-1]}"]
            assert before[1] == dept.pk, f"{actor} acted on another department's issue"
        assert after[4] > before[4], "version not bumped"
        assert IssueEvent.objects.filter(issue=self.issue).count() > events_before
        self.steps_done += 1
        self.succeeded[step] = self.succeeded.get(step, 0) + 1

    @initialize(start_in=st.sampled_from([Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED]))
    def bring_to(self, start_in):
        """Start some runs further along the life cycle (by the workflow, so it is all logged)."""
        coordinator, staff_a = self.cast["coordinator"], self.cast["staff_a"]
        if start_in == Status.NEW:
            return
        workflow.assign(
            issue_id=self.issue.pk,
            by=coordinator,
            department=self.cast["dept_a"],
            owner=staff_a,
            deadline=self.today + timedelta(days=10),
        )
        if start_in in (Status.IN_PROGRESS, Status.RESOLVED):
            workflow.start(issue_id=self.issue.pk, by=staff_a)
        if start_in == Status.RESOLVED:
            workflow.resolve(issue_id=self.issue.pk, by=staff_a, resolution="已办结")

    # Weighted towards the roles that can act, so runs get deep into the life cycle.
    actors = st.sampled_from(("coordinator", "coordinator", "coordinator", "staff_a", "staff_a", *ACTORS[2:]))

    @rule(actor=actors, dept=st.sampled_from("aab"), days=st.integers(0, 40), with_owner=st.booleans())
    def assign(self, actor, dept, days, with_owner):
        department = self.cast[f"dept_{dept}"]
        owner = self.cast[f"staff_{dept}"] if with_owner else None
        self.attempt(
            "assign",
            actor,
            lambda u: workflow.assign(
                issue_id=self.issue.pk,
                by=u,
                department=department,
                owner=owner,
                deadline=self.today + timedelta(days=days),
            ),
        )

    @rule(actor=actors)
    def start(self, actor):
        self.attempt("start", actor, lambda u: workflow.start(issue_id=self.issue.pk, by=u))

    @rule(actor=actors, note=st.sampled_from(["", "推进中", "<script>alert(1)</script>"]))
    def progress(self, actor, note):
        self.attempt(
            "progress", actor, lambda u: workflow.post_progress(issue_id=self.issue.pk, by=u, note=note)
        )

    @rule(actor=actors, resolution=st.sampled_from(["", "已解决"]))
    def resolve(self, actor, resolution):
        self.attempt(
            "resolve", actor, lambda u: workflow.resolve(issue_id=self.issue.pk, by=u, resolution=resolution)
        )

    @rule(actor=actors, satisfaction=st.sampled_from(Satisfaction.values))
    def confirm(self, actor, satisfaction):
        self.attempt(
            "confirm",
            actor,
            lambda u: workflow.confirm(
                issue_id=self.issue.pk,
                by=u,
                contacted_on=self.today,
                reply_satisfaction=Satisfaction.SATISFIED,
                solution_satisfaction=satisfaction,
            ),
        )

    @rule(actor=actors)
    def close(self, actor):
        self.attempt(
            "close",
            actor,
            lambda u: workflow.close(issue_id=self.issue.pk, by=u, outcome=Outcome.DUPLICATE, reason="重复"),
        )

    @rule(actor=actors, days=st.none() | st.integers(0, 40))
    def reopen(self, actor, days):
        deadline = None if days is None else self.today + timedelta(days=days)
        self.attempt(
            "reopen",
            actor,
            lambda u: workflow.reopen(issue_id=self.issue.pk, by=u, reason="企业不满意", deadline=deadline),
        )

    @rule(actor=actors, days=st.integers(-2, 40))
    def change_deadline(self, actor, days):
        self.attempt(
            "change_deadline",
            actor,
            lambda u: workflow.change_deadline(
                issue_id=self.issue.pk, by=u, deadline=self.today + timedelta(days=days), reason="调整"
            ),
        )

    @invariant()
    def status_is_legal_and_constraints_hold(self):
        issue = Issue.objects.get(pk=self.issue.pk)
        assert issue.status in Status.values
        issue.validate_constraints()

    @invariant()
    def replaying_the_log_reproduces_the_issue(self):
        issue = Issue.objects.get(pk=self.issue.pk)
        assert replay(issue.pk) == (issue.status, issue.lead_department_id, issue.owner_id, issue.deadline)


@pytest.mark.django_db
def test_workflow_state_machine(coordinator, staff_a, staff_b, leader, official, dept_a, dept_b):
    WorkflowMachine.cast = {
        "coordinator": coordinator,
        "staff_a": staff_a,
        "staff_b": staff_b,
        "leader": leader,
        "official": official,
        "dept_a": dept_a,
        "dept_b": dept_b,
    }
    WorkflowMachine.succeeded = {}
    run_state_machine_as_test(
        WorkflowMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,  # the same runs every time: a CI failure reproduces locally
        ),
    )
    # The machine really moved issues through the life cycle, not only refused steps.
    done = WorkflowMachine.succeeded
    # (The bring_to initialiser's own steps are not counted here.)
    assert len(done) >= 4 and sum(done.values()) >= 20, str(done)
