from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from policies.consolidation import Moderation, consolidate, judgement_record
from policies.grading import grade_problems, return_problems
from policies.permissions import may_act_on_own, permission_problem
from policies.scales import AREAS, SCALES, scale_named
from policies.smart import days_overdue, rag_problem, smart_problems

OFSTED = SCALES["ofsted-2009"]


def test_scales_are_data_with_ilacs_wording() -> None:
    assert scale_named("ofsted-ilacs").label(3) == "requires improvement to be good"
    assert OFSTED.label(3) == "adequate"
    assert OFSTED.grades == [1, 2, 3, 4]


def test_area_grades_are_two_to_four_and_area_one_takes_none() -> None:
    assert grade_problems(OFSTED, "3", 3, {}, AREAS) == []
    assert "overall judgement only" in grade_problems(OFSTED, "3", 1, {}, AREAS)[0]
    assert "takes no grade" in grade_problems(OFSTED, "1", 2, {}, AREAS)[0]
    assert "not on the ofsted-2009 scale" in grade_problems(OFSTED, "3", 5, {}, AREAS)[0]


def test_outstanding_overall_only_when_every_graded_area_is_good() -> None:
    assert return_problems(OFSTED, {"2": 2, "3": 2, "overall": 1}, AREAS) == []
    problems = return_problems(OFSTED, {"2": 2, "3": 3, "overall": 1}, AREAS)
    assert problems and "area(s) 3" in problems[0]


def test_worst_grade_stands_with_provenance() -> None:
    j = consolidate(OFSTED, "worst", {"school": 2, "social-care": 4, "police": 3})
    assert j is not None and j.grade == 4 and j.rule == "worst"
    assert [c.agency for c in j.contributions] == ["police", "school", "social-care"]


def test_moderation_overrides_the_rule_and_keeps_contributions() -> None:
    m = Moderation(3, "school grade reflects one incident", "mod", "2009-08-01")
    j = consolidate(OFSTED, "worst", {"school": 4, "social-care": 2}, m)
    assert j is not None and j.grade == 3 and j.rule == "moderated"
    assert j.as_dict()["moderation"]["reason"] == "school grade reflects one incident"
    assert len(j.contributions) == 2


def test_nobody_graded_means_no_judgement() -> None:
    assert consolidate(OFSTED, "worst", {}) is None


def test_smart_check_names_each_missing_part() -> None:
    assert smart_problems("Train every team manager", "Attendance register", "ql",
                          date(2010, 3, 31)) == []
    problems = smart_problems("Train", "", "", None)
    assert [p.split(":")[0] for p in problems] == ["description", "measure", "owner", "due"]
    assert rag_problem("purple") is not None and rag_problem("amber") is None
    assert days_overdue(date(2010, 3, 31), date(2010, 4, 10), completed=False) == 10
    assert days_overdue(date(2010, 3, 31), date(2010, 4, 10), completed=True) == 0


def test_permission_denial_says_which_role_is_needed() -> None:
    assert permission_problem("moderate judgement", ["moderator"]) is None
    problem = permission_problem("moderate judgement", ["practitioner"])
    assert problem == "to moderate judgement you need the role moderator"
    assert may_act_on_own("acknowledge feedback", "a", ["practitioner"], ["b"]) is not None
    assert may_act_on_own("acknowledge feedback", "a", ["practitioner"], ["a"]) is None


def test_the_readme_lists_the_permission_table() -> None:
    from pathlib import Path

    from policies.permissions import PERMISSIONS

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for act, roles in PERMISSIONS.items():
        assert f"| {act} | {', '.join(sorted(roles))} |" in readme, act


def test_the_folds_plain_judgement_is_the_judgement_consolidate_makes() -> None:
    @given(st.sampled_from(["worst", "median", "best"]), st.sampled_from(sorted(SCALES)),
           st.dictionaries(st.sampled_from(["school", "police", "health", "social-care"]),
                           st.integers(1, 4)),
           st.none() | st.tuples(st.integers(1, 4), st.text(max_size=5)))
    def check(rule: str, scale: str, grades: dict[str, int],
              moderated: tuple[int, str] | None) -> None:
        m = Moderation(moderated[0], moderated[1], "mod", "2009-08-01") if moderated else None
        fields = {"grade": m.grade, "reason": m.reason, "by": m.by, "on": m.on} if m else None
        made = consolidate(SCALES[scale], rule, grades, m)
        assert judgement_record(SCALES[scale], rule, grades, fields) == (
            made.as_dict() if made else None)

    check()


def test_the_readme_lists_no_act_the_table_does_not_hold() -> None:
    import re
    from pathlib import Path

    from policies.permissions import PERMISSIONS

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Who may do what"):readme.index("## Deployment")]
    rows = re.findall(r"^\| ([a-z][a-z ]+) \| [a-z, -]+ \|$", table, re.M)
    assert sorted(r for r in rows if r != "act") == sorted(PERMISSIONS)


def test_a_file_records_only_what_its_importer_could_do_by_hand() -> None:
    from policies.permissions import acts_not_permitted

    acts = ["register person", "open programme", "register person", "select case"]
    assert acts_not_permitted(acts, ["auditor"]) == ["register person", "open programme",
                                                     "select case"]
    assert acts_not_permitted(acts, ["moderator"]) == ["register person", "open programme"]
    assert acts_not_permitted(acts, ["quality-lead"]) == []


def test_a_bound_person_is_acted_for_only_from_their_account() -> None:
    from policies.permissions import account_problem

    assert account_problem("ql", "", "anyone") is None  # unbound: taken at their word
    assert account_problem("ql", "alice", "alice") is None
    assert account_problem("ql", "alice", None) is None  # a door that proves it otherwise
    said = account_problem("ql", "alice", "mallory")
    assert said is not None and said.startswith(
        "ql acts at the console only from the operating-system account alice, and this "
        "command runs as mallory")
