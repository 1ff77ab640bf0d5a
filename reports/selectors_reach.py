"""Reach: how many of a population's learners gave each equality-monitoring answer, suppressed.

``reach_tables(enrolments=...)`` counts, among the learners of those enrolments who consented to
equality monitoring, how many gave each answer to each question, in ONE aggregate query (one
conditional count per answer); ``reach_by_postcode_district(enrolments=...)`` counts them per
postcode district in one GROUP BY. Each learner counts once however many of the enrolments are
theirs. Every table goes through ``reports.suppression.suppress`` before anyone sees it: these
functions never return an unsuppressed count, nor anything about one person.

Callers choose the population. Offer only populations that change in steps of whole groups (a
programme, a partner organisation, a cohort, all time or a whole year): two tables whose
populations differ by one learner would show that learner's answers by comparison, whatever is
hidden in each (``docs/privacy.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .models import (
    ETHNIC_GROUP_HIGH_LEVEL,
    PREFER_NOT_TO_SAY,
    QUESTIONS,
    EqualityMonitoringAnswers,
    EthnicGroup,
)
from .suppression import THRESHOLD, SuppressedCell, SuppressedTable, suppress

QUESTION_TITLES = {
    "age_band": _("Age"),
    "gender": _("Gender"),
    "ethnic_group": _("Ethnic group"),
    "disability": _("Disability or long-term health condition"),
    "been_to_university": _("Been to university"),
    "employment_status": _("Employment"),
    "postcode_district": _("Postcode district"),
}

NOT_GIVEN = "not_given"
OTHER_DISTRICTS = "other_districts"


@dataclass(frozen=True)
class ReachRow:
    key: str
    label: str
    cell: SuppressedCell


@dataclass(frozen=True)
class ReachTable:
    """One question's counts, suppressed: rows in the question's order, with labels."""

    question: str  # the field name: "age_band", ..., "postcode_district"
    title: str
    table: SuppressedTable
    labels: dict[str, str]

    @property
    def rows(self) -> list[ReachRow]:
        return [ReachRow(cell.key, self.labels[cell.key], cell) for cell in self.table]

    @property
    def total_display(self) -> str:
        return self.table.total_display

    @property
    def note(self) -> str:
        return self.table.note


def _consenting(enrolments: QuerySet) -> QuerySet:
    return EqualityMonitoringAnswers.objects.filter(
        consented_at__isnull=False, learner_id__in=enrolments.values("learner_id")
    )


def _alias(question: str, value: str) -> str:
    return f"{question}__{value}"


def _stored() -> dict[str, list[str]]:
    stored = {question: list(choices.values) for question, choices in QUESTIONS.items()}
    stored["ethnic_group"] = list(EthnicGroup.values)  # stored in detail, reported by high-level group
    return stored


def _answer_counts() -> dict:
    """One conditional count per stored answer of each question (not the postcode district)."""
    return {
        _alias(question, value): Count("pk", filter=Q(**{question: value}))
        for question, values in _stored().items()
        for value in values
    }


def _question_tables(counted: dict) -> list[ReachTable]:
    stored = _stored()
    tables = []
    for question, choices in QUESTIONS.items():
        counts = dict.fromkeys(choices.values, 0)
        for value in stored[question]:
            key = ETHNIC_GROUP_HIGH_LEVEL[value] if question == "ethnic_group" else value
            counts[key] += counted[_alias(question, value)]
        tables.append(
            ReachTable(
                question=question,
                title=str(QUESTION_TITLES[question]),
                table=suppress(counts),
                labels={str(value): str(label) for value, label in choices.choices},
            )
        )
    return tables


def _district_table(rows) -> ReachTable:
    """``rows``: (district, learners) in the districts' alphabetical order."""
    counts: dict[str, int] = {}
    other = not_given = 0
    for district, learners in rows:
        if not district or district == PREFER_NOT_TO_SAY:
            not_given += learners
        elif learners < THRESHOLD:
            other += learners
        else:
            counts[district] = learners
    labels = {district: district for district in counts}
    counts[OTHER_DISTRICTS] = other
    counts[NOT_GIVEN] = not_given
    labels[OTHER_DISTRICTS] = str(_("Other districts"))
    labels[NOT_GIVEN] = str(_("Prefer not to say or not given"))
    return ReachTable(
        question="postcode_district",
        title=str(QUESTION_TITLES["postcode_district"]),
        table=suppress(counts),
        labels=labels,
    )


def reach_tables(*, enrolments: QuerySet) -> list[ReachTable]:
    """One suppressed table per question (age, gender, ethnic group by its five high-level groups,
    disability, university, employment), counting the consenting learners of ``enrolments``.
    One query."""
    return _question_tables(_consenting(enrolments).aggregate(**_answer_counts()))


def reach_by_postcode_district(*, enrolments: QuerySet) -> ReachTable:
    """The consenting learners of ``enrolments`` per postcode district, suppressed. One query.

    Only districts with at least 5 of these learners are named (alphabetical order); the others
    are counted together as "Other districts", so a row never says that someone from a particular
    district answered. Then "Prefer not to say or not given"."""
    rows = (
        _consenting(enrolments).values("postcode_district").annotate(learners=Count("pk")).order_by("postcode_district")
    )
    return _district_table((row["postcode_district"], row["learners"]) for row in rows)


def reach_everything(*, enrolments: QuerySet) -> list[ReachTable]:
    """``reach_tables`` and then ``reach_by_postcode_district``, the same tables, in ONE query: the
    answer counts per postcode district (one scan of the answers and one of the enrolments instead
    of two of each), added up here for the questions' tables. The counts, and so what is hidden,
    are exactly those of the two functions."""
    aggregates = _answer_counts()
    rows = list(
        _consenting(enrolments)
        .values("postcode_district")
        .annotate(learners=Count("pk"), **aggregates)
        .order_by("postcode_district")
    )
    counted = {alias: sum(row[alias] for row in rows) for alias in aggregates}
    return [
        *_question_tables(counted),
        _district_table((row["postcode_district"], row["learners"]) for row in rows),
    ]
