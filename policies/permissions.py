"""Who may do what: one table, applied to every command from every door."""

from __future__ import annotations

from collections.abc import Iterable

ROLES = ("practitioner", "manager", "auditor", "moderator", "quality-lead", "board")

PERMISSIONS: dict[str, frozenset[str]] = {
    "open programme": frozenset({"quality-lead"}),
    "import pack": frozenset({"quality-lead", "auditor"}),
    "register person": frozenset({"quality-lead"}),
    "select case": frozenset({"quality-lead", "moderator"}),
    "record return": frozenset({"auditor"}),
    "grade area": frozenset({"auditor"}),
    "revise grade": frozenset({"auditor", "moderator"}),
    "moderate judgement": frozenset({"moderator"}),
    "raise concern": frozenset({"auditor", "manager", "moderator", "quality-lead"}),
    "acknowledge concern": frozenset({"manager", "quality-lead", "board"}),
    "record concern action": frozenset({"manager", "quality-lead", "board"}),
    "close concern": frozenset({"manager", "quality-lead"}),
    "acknowledge feedback": frozenset({"practitioner", "manager"}),
    "record feedback seen": frozenset({"manager", "quality-lead"}),
    "respond to issue": frozenset({"practitioner", "manager"}),
    "add recommendation": frozenset({"quality-lead"}),
    "plan action": frozenset({"quality-lead"}),
    "ratify action": frozenset({"board", "quality-lead"}),
    "record action progress": frozenset({"quality-lead", "manager", "practitioner", "auditor"}),
    "complete action": frozenset({"quality-lead", "manager", "practitioner", "auditor"}),
    "replan action": frozenset({"quality-lead"}),
    "view case": frozenset({"auditor", "moderator", "quality-lead", "manager", "board"}),
    "view history": frozenset({"auditor", "moderator", "quality-lead"}),
    "view progress": frozenset(ROLES),
    "erase case text": frozenset({"quality-lead"}),
    "erase partnership text": frozenset({"quality-lead"}),
    "write report": frozenset({"quality-lead"}),
    "publish report": frozenset({"quality-lead"}),
    "adopt chain": frozenset({"quality-lead"}),
    "rotate keys": frozenset({"quality-lead"}),
}
"""Each act and the roles that may do it. Ownership rules (a practitioner
answers only their own feedback, an owner updates only their own action
unless a quality lead) are checked beside this table by `may_act_on`."""


def permission_problem(act: str, roles: Iterable[str]) -> str | None:
    allowed = PERMISSIONS[act]
    if allowed & set(roles):
        return None
    needed = " or ".join(sorted(allowed))
    return f"to {act} you need the role {needed}"


def may_act_on_own(
    act: str, person: str, roles: Iterable[str], owners: Iterable[str], overseers: Iterable[str] = ()
) -> str | None:
    """The person holds a role for the act and is the owner (or an overseer) of the thing."""
    problem = permission_problem(act, roles)
    if problem:
        return problem
    if person in set(owners) or person in set(overseers):
        return None
    return f"only {' or '.join(sorted(set(owners) | set(overseers)))} may {act} here"


ROLE_PLURALS = {"practitioner": "practitioners", "manager": "managers", "auditor": "auditors",
                "moderator": "moderators", "quality-lead": "quality leads",
                "board": "board members"}
ACT_WORDS = {
    "acknowledge concern": "acknowledge a concern",
    "record concern action": "record the action taken on a concern",
    "close concern": "close a concern",
    "raise concern": "raise a concern",
    "acknowledge feedback": "acknowledge feedback",
    "respond to issue": "answer the issues raised in feedback",
    "record action progress": "record an action's progress",
    "complete action": "mark an action complete",
    "view case": "see a case's judgements",
    "view history": "see how a case's judgements were reached",
    "view progress": "see progress",
    "erase case text": "erase a case's text",
    "erase partnership text": "erase a partnership's text",
    "rotate keys": "rotate the store's keys",
    "write report": "write the overview report",
    "publish report": "publish the overview report",
    "import pack": "import an audit pack or a returns file",
    "register person": "add people to the directory or change their roles",
    "open programme": "open a programme or change its terms",
    "select case": "select cases for audit",
    "add recommendation": "add a recommendation",
    "plan action": "plan an action",
}
"""Each act as people say it, for refusals (the table's own names are the ledger's words)."""


def who_may(act: str) -> str:
    """The roles that may do an act, as people say them: "managers, quality leads and board
    members"."""
    allowed = sorted(ROLE_PLURALS.get(r, r) for r in PERMISSIONS[act])
    return ", ".join(allowed[:-1]) + " and " + allowed[-1] if len(allowed) > 1 else allowed[0]


def refusal_words(act: str, roles: Iterable[str]) -> str:
    """A refusal for want of a role, in plain words saying who can do it."""
    held = ", ".join(r.replace("-", " ") for r in roles) or "none"
    return (f"Only {who_may(act)} can {ACT_WORDS.get(act, act)}. Your roles in the directory: "
            f"{held}.")


def acts_not_permitted(acts: Iterable[str], roles: Iterable[str]) -> list[str]:
    """Of the acts a file would record, those the roles do not allow: nobody records through
    a file what they could not do by hand (a pack cannot grant a role its importer could not
    grant)."""
    held = set(roles)
    return [a for a in dict.fromkeys(acts) if not PERMISSIONS[a] & held]


def account_problem(person: str, bound: str, running: str | None) -> str | None:
    """A person bound to an operating-system account is acted for at the console only from
    that account; `running` is the console's own account (None at a door that proves who
    acts otherwise, such as Slack's signed requests)."""
    if not bound or running is None or running == bound:
        return None
    return (f"{person} acts at the console only from the operating-system account {bound}, "
            f"and this command runs as {running}: sign in as {bound}, or ask a quality lead "
            f"to change the binding (audit-ledger person link-os-user) or undo it "
            f"(audit-ledger person unlink-os-user)")
