"""Who is who: a Slack user is a person in a partnership's directory (their `slack_user`).

A directory id names someone within one partnership only, and one Slack user may be a person in
several partnerships (a police manager serving two). So every lookup from a person's id is made
within a partnership (`within`, or `of` a programme), and a Slack user's lookup names the
partnership wanted or takes all of theirs (`people`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ledger.ids import DEFAULT_PARTNERSHIP, in_partnership
from projections.indexes import alert_directory_keys
from projections.queries import NotInViews, Views, partnership_of

from . import blocks as b

Doc = dict[str, Any]


@dataclass(frozen=True)
class PartnershipDirectory:
    """One partnership's directory: people named by their ids within it."""

    views: Views
    partnership: str
    extra: dict[str, str]

    def person(self, person: str) -> Doc | None:
        return self.views.person(person, self.partnership) if person else None

    def people(self) -> list[Doc]:
        return self.views.people(self.partnership)

    def slack_user(self, person: str) -> str:
        key = in_partnership(self.partnership, person)
        for slack, linked in self.extra.items():
            if linked == key:
                return slack
        doc = self.person(person)
        return str(doc.get("slack_user") or "") if doc else ""

    def name(self, person: str) -> str:
        """A person's name for people to read; their id when the directory has no name."""
        doc = self.person(person)
        return str(doc.get("name") or person) if doc else (person or "someone")

    def quality_leads(self) -> list[Doc]:
        return [p for p in self.people() if "quality-lead" in p.get("roles", [])]

    def for_concern(self, concern: Doc) -> AlertDirectory:
        """Everyone a concern's alert can reach at any step, with the people it names, in
        one indexed read (`reachable`), not the whole directory."""
        named = {str(concern.get("raised_by") or ""), str(concern.get("acknowledged_by") or "")}
        named |= {str(a.get("by") or "") for a in concern.get("actions") or []}
        named |= {str(p) for e in concern.get("escalations") or [] for p in e.get("to") or []}
        return self.reachable(str(concern["agency"]), named)

    def reachable(self, agency: str = "", named: set[str] | None = None) -> AlertDirectory:
        """The people an alert or digest may go to, read in one indexed read of the alert
        directory (`projections.indexes`): the agency's managers (none without an agency),
        the partnership's quality leads, moderators and board; with the `named` people's
        entries (read by key, for their names)."""
        wanted = [k for k in alert_directory_keys(self.partnership, agency) if k[1]]
        persons = [("person", in_partnership(self.partnership, p)) for p in sorted(named or ())
                   if p]
        found = self.views.store.get_many(wanted + persons)
        people: dict[str, Doc] = {}
        for key in wanted:
            people.update((found.get(key) or {}).get("people") or {})
        for key in persons:
            if key in found:
                people.setdefault(str(found[key]["person"]), found[key])
        return AlertDirectory(self.views, self.partnership, self.extra, people)


@dataclass(frozen=True)
class AlertDirectory(PartnershipDirectory):
    """What a concern's alert reads of a partnership's directory: its `people` are those an
    alert may reach at any step and those the concern names (each as their directory entry);
    anyone else is looked up in the directory as ever."""

    found: dict[str, Doc]

    def person(self, person: str) -> Doc | None:
        return self.found.get(person) or super().person(person)

    def people(self) -> list[Doc]:
        return [self.found[p] for p in sorted(self.found)]


class Directory:
    """Slack user to person and back, read from the directory view.

    `extra` links Slack users to people (by their key, `projections.queries.person_key`)
    without a directory entry for them; only `bot try` uses it, for a person whose entry has
    no Slack user yet.
    """

    def __init__(self, views: Views, extra: dict[str, str] | None = None, *,
                 any_workspace: bool = True, workspace: str = "") -> None:
        self.views = views
        self.extra = dict(extra or {})
        self.any_workspace = any_workspace
        """True with one bot token: a partnership linked to no workspace is answered in the
        token's. Serving every workspace that installs the app, such a partnership is
        answered in none (nobody could say which is its)."""
        self.workspace = workspace
        """The one bot token's workspace, when known (what a team-less lookup means)."""

    def partnerships_in(self, team: str, among: Iterable[str] | None = None) -> set[str]:
        """The partnerships a workspace's requests are answered with: those linked to it,
        and, with one bot token, those linked to none (when the token's workspace is known,
        only in that one: not to a guest from another organisation's workspace). Given
        `among`, only those of these partnerships (read by key, not every partnership)."""
        team = team or self.workspace
        home = self.any_workspace and (not self.workspace or team == self.workspace)
        docs = self.views.partnerships() if among is None else self.views.partnerships_named(among)
        return {str(p["partnership"]) for p in docs
                if (team and (p.get("slack_team") or "") == team)
                or (home and not p.get("slack_team"))}

    def team_of(self, partnership: str) -> str:
        """The workspace a partnership is linked to ("" when none)."""
        doc = self.views.partnership(partnership)
        return str((doc or {}).get("slack_team") or "")

    def within(self, partnership: str) -> PartnershipDirectory:
        return PartnershipDirectory(self.views, partnership, self.extra)

    def of(self, programme: str) -> PartnershipDirectory:
        """The directory of the partnership that owns a programme."""
        try:
            owner = partnership_of(self.views.programme(programme))
        except NotInViews:
            owner = DEFAULT_PARTNERSHIP
        return self.within(owner)

    def people(self, slack_user: str, *, team: str | None) -> list[Doc]:
        """Everyone this Slack user is: one person in each partnership that registered them,
        among the partnerships linked to the workspace `team` a request came from (None, for
        a caller that is no workspace's: in every partnership). Every lookup of a Slack user
        names the workspace, so that no new door forgets it."""
        if slack_user in self.extra:
            doc = self.views.store.get("person", self.extra[slack_user])
            found = [doc] if doc else []
        else:
            found = self.views.people_by_slack(slack_user)
        if team is None or not found:
            return found
        linked = self.partnerships_in(team, {partnership_of(doc) for doc in found})
        return [doc for doc in found if partnership_of(doc) in linked]

    def person(self, slack_user: str, partnership: str | None = None, *,
               team: str | None) -> Doc | None:
        """The person a Slack user is in a partnership (the first of theirs when none is
        named), among the partnerships of the workspace `team` (see `people`)."""
        for doc in self.people(slack_user, team=team):
            if partnership is None or partnership_of(doc) == partnership:
                return doc
        return None

    def how_to_get_linked(self, slack_user: str, *, team: str | None) -> str:
        """What to tell a Slack user the directory does not know. The quality leads are named
        only when one partnership is answered there (the store's only one, or the only one
        linked to their workspace): nobody learns another's people."""
        partnerships = sorted(self.partnerships_in(team) if team is not None else
                              {str(p["partnership"]) for p in self.views.partnerships()})
        leads = (self.within(partnerships[0]).quality_leads()
                 if len(partnerships) == 1 else [])
        who = ("your quality lead (" + " or ".join(p["name"] or p["person"] for p in leads[:3]) + ")"
               if leads else "your partnership's quality lead")
        return (f"I can't find you in the audit ledger's directory, so I can't show you anything "
                f"or record anything for you yet. Ask {who} to add your Slack user id "
                f"`{slack_user}` to your entry in the directory (the `slack_user` of your entry "
                f"in the audit pack). Then try again.")

    def quality_leads_on_slack(self, person: Doc | None = None, *,
                               team: str | None = None) -> list[Doc]:
        """The quality leads who can be asked in Slack: those of the person's partnership (of
        every partnership answered in workspace `team`, or of every one, when no person is
        named: whether anyone at all could be asked)."""
        if person is not None:
            leads = self.within(partnership_of(person)).quality_leads()
        else:
            linked = self.partnerships_in(team) if team is not None else None
            leads = [p for p in self.views.everyone() if "quality-lead" in p.get("roles", [])
                     and (linked is None or partnership_of(p) in linked)]
        return [q for q in leads if self.within(partnership_of(q)).slack_user(q["person"])]

    def unknown_answer(self, slack_user: str, *, team: str | None) -> tuple[str, b.Blocks]:
        """What someone not in the directory (of the partnerships answered in their workspace)
        is told: why nothing can be shown, and a button to ask their quality lead to link them
        (when one can be reached in Slack)."""
        text = self.how_to_get_linked(slack_user, team=team)
        blocks = b.sections(b.escape(text))
        if self.quality_leads_on_slack(team=team):
            blocks.append(b.section("Or ask from here: press *Ask to be linked*, say who you "
                                    "are, and I will ask your quality lead to approve it."))
            blocks.append(b.actions("link", b.button("Ask to be linked", b.LINK_ASK,
                                                     b.value(u=slack_user), "primary")))
        return text, blocks
