"""Who is who: a Slack user is a person in the ledger's directory (their `slack_user`)."""

from __future__ import annotations

from typing import Any

from projections.queries import Views

from . import blocks as b

Doc = dict[str, Any]


class Directory:
    """Slack user to person and back, read from the directory view.

    `extra` links Slack users to people without a directory entry for them; only
    `bot try` uses it, for a person whose entry has no Slack user yet.
    """

    def __init__(self, views: Views, extra: dict[str, str] | None = None) -> None:
        self.views = views
        self.extra = dict(extra or {})

    def person(self, slack_user: str) -> Doc | None:
        if slack_user in self.extra:
            return self.views.person(self.extra[slack_user])
        return self.views.person_by_slack(slack_user)

    def slack_user(self, person: str) -> str:
        for slack, linked in self.extra.items():
            if linked == person:
                return slack
        doc = self.views.person(person)
        return str(doc.get("slack_user") or "") if doc else ""

    def name(self, person: str) -> str:
        """A person's name for people to read; their id when the directory has no name."""
        doc = self.views.person(person) if person else None
        return str(doc.get("name") or person) if doc else (person or "someone")

    def quality_leads(self) -> list[Doc]:
        return [p for p in self.views.people() if "quality-lead" in p.get("roles", [])]

    def how_to_get_linked(self, slack_user: str) -> str:
        leads = self.quality_leads()
        who = ("your quality lead (" + " or ".join(p["name"] or p["person"] for p in leads[:3]) + ")"
               if leads else "your partnership's quality lead")
        return (f"I can't find you in the audit ledger's directory, so I can't show you anything "
                f"or record anything for you yet. Ask {who} to add your Slack user id "
                f"`{slack_user}` to your entry in the directory (the `slack_user` of your entry "
                f"in the audit pack). Then try again.")

    def quality_leads_on_slack(self, person: Doc | None = None) -> list[Doc]:
        """The quality leads who can be asked in Slack (those of the person's partnership, when
        the directory says which)."""
        leads = self.quality_leads()
        if person is not None and person.get("partnership"):
            leads = [q for q in leads if q.get("partnership") == person.get("partnership")]
        return [q for q in leads if self.slack_user(q["person"])]

    def unknown_answer(self, slack_user: str) -> tuple[str, b.Blocks]:
        """What someone not in the directory is told: why nothing can be shown, and a button to
        ask their quality lead to link them (when one can be reached in Slack)."""
        text = self.how_to_get_linked(slack_user)
        blocks = b.sections(b.escape(text))
        if self.quality_leads_on_slack():
            blocks.append(b.section("Or ask from here: press *Ask to be linked*, say who you "
                                    "are, and I will ask your quality lead to approve it."))
            blocks.append(b.actions("link", b.button("Ask to be linked", b.LINK_ASK,
                                                     b.value(u=slack_user), "primary")))
        return text, blocks
