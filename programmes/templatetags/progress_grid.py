"""The progress grid's boxes, drawn in Python: 60 learners × 40 competencies is 2,400 cells, and
the template language's per-cell tags (with, if, blocktranslate, url) took seconds; this takes
milliseconds. The markup is the same as a template would write, every value escaped."""

from django import template
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

register = template.Library()


def _recorded(achievement, cache: dict) -> str:
    """ "Recorded by Fay Facilitator on 1 Feb 2026", escaped (the same few texts recur)."""
    who = achievement.recorded_by_name
    key = (who, achievement.achieved_on)
    if key not in cache:
        cache[key] = escape(
            _("Recorded by %(who)s on %(when)s")
            % {"who": who or _("someone"), "when": date_format(achievement.achieved_on, "j M Y")}
        )
    return cache[key]


@register.simple_tag
def grid_cells(row, name: str, statements: dict):
    """The row's ``<td>`` cells: a labelled box each; a locked one (an issued certificate) is
    disabled, marked "locked" and sent as a hidden tick so that saving never undoes it."""
    e = row.enrolment.pk
    name = escape(name)
    cache: dict = {}
    locked_text = escape(_("locked: certificate issued"))
    locked_mark = escape(_("locked"))
    out = []
    for cell in row.cells:
        c = cell.competency.pk
        statement = statements[c]
        box = f"{e}-{c}"
        a = cell.achievement
        if cell.locked:
            recorded = _recorded(a, cache)
            out.append(
                f'<td class="done locked" title="{recorded}"><input type="hidden" name="tick" value="{box}">'
                f'<input class="form-check-input" type="checkbox" id="t{box}" checked disabled aria-describedby="lock-note">'
                f'<label class="visually-hidden" for="t{box}">{name}: {statement} ({recorded}; {locked_text})</label>'
                f'<span class="grid-lock" aria-hidden="true">{locked_mark}</span></td>'
            )
        elif a is not None:
            recorded = _recorded(a, cache)
            checked = " checked" if cell.checked else ""
            out.append(
                f'<td class="done" title="{recorded}"><input class="form-check-input" type="checkbox" name="tick" '
                f'value="{box}" id="t{box}"{checked}><label class="visually-hidden" for="t{box}">{name}: {statement} '
                f"({recorded})</label></td>"
            )
        else:
            checked = " checked" if cell.checked else ""
            out.append(
                f'<td><input class="form-check-input" type="checkbox" name="tick" value="{box}" id="t{box}"{checked}>'
                f'<label class="visually-hidden" for="t{box}">{name}: {statement}</label></td>'
            )
    return mark_safe("".join(out))  # noqa: S308  (every value above is escaped)


@register.simple_tag
def grid_statements(grid) -> dict:
    """Each competency's statement, escaped once for the whole grid."""
    return {c.pk: escape(c.statement) for c in grid.competencies}
