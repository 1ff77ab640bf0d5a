"""Charts for the reports: SVG drawn on the server by pygal, readable without colour or script.

- Colours are the Okabe–Ito palette (told apart with every common colour-vision deficiency),
  reordered so that the first ones have at least 3:1 contrast with the white background.
- Each chart is shown with its title, a one-sentence summary in words, and its data as a table
  (``templates/reports/_section.html``); the SVG itself is ``role="img"`` labelled by that title and
  summary, so a screen reader hears the sentence and then can read the table.
- No script and no inline style on web pages (the site's Content-Security-Policy forbids both):
  pygal always writes a ``<script>`` with its configuration and a ``<style>`` into the SVG, so the
  tree pygal returns (``render_tree``, its public API) has them removed; the look comes from
  ``static/css/reports.css`` instead. The printed funder report keeps pygal's ``<style>`` (a PDF has
  no CSP, and WeasyPrint reads the SVG's own stylesheet), still without the script.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.utils.safestring import SafeString, mark_safe

# Okabe & Ito (2008), "Color Universal Design": blue, vermillion, bluish green, reddish purple,
# black first (3:1 or more against white), then orange, sky blue, yellow.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#E69F00", "#56B4E9", "#F0E442")
FONT = '"Noto Sans Academy", "Noto Sans", Arial, sans-serif'
SVG_NS = "{http://www.w3.org/2000/svg}"


def _style():
    from pygal.style import Style

    return Style(
        colors=PALETTE,
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#212529",
        foreground_strong="#000000",
        foreground_subtle="#6c757d",
        opacity="1",
        opacity_hover="1",
        transition="0s",
        font_family=FONT,
        title_font_size=18,
        label_font_size=14,
        major_label_font_size=14,
        legend_font_size=14,
        value_font_size=14,
    )


def _ticks(values: Sequence[float]) -> list[int]:
    """Whole-number labels for a count axis: 0 up to the largest value, about five steps."""
    top = max([0, *values])
    step = max(1, math.ceil(top / 5))
    return list(range(0, top + step + 1, step)) if top else [0, 1]


def _chart(kind: str, *, for_print: bool, **config):
    import pygal

    chart_class = {"bar": pygal.Bar, "hbar": pygal.HorizontalBar, "line": pygal.Line}[kind]
    return chart_class(
        style=_style(),
        js=[],  # no pygal.js (its tooltips): nothing to run
        disable_xml_declaration=True,
        # On the web, selectors without the chart's random id, so reports.css styles every chart; in
        # print pygal's own stylesheet stays, prefixed by the chart's id.
        no_prefix=not for_print,
        explicit_size=False,
        width=800,
        height=config.pop("height", 400),
        legend_at_bottom=True,
        print_values=config.pop("print_values", True),
        print_zeroes=False,
        truncate_label=-1,
        truncate_legend=-1,
        classes=["pygal-chart", "report-chart"],
        **config,
    )


def _svg(chart, *, title: str, summary: str, for_print: bool) -> SafeString:
    """The chart's SVG element as markup: pygal's script removed always, its style on web pages,
    and on web pages every id (pygal's legend ids, used only by its script) so several charts
    share a page; in print the root's id stays, which pygal's stylesheet is keyed by."""
    from lxml import etree

    chart.title = title
    tree = chart.render_tree()
    for element in list(tree.iter()):
        if not isinstance(element.tag, str):  # comments ("Generated with pygal ... on <date>")
            element.getparent().remove(element)
            continue
        local = etree.QName(element).localname
        if local == "script" or (local == "style" and not for_print):
            element.getparent().remove(element)
        elif not for_print:
            # pygal's ids serve its script only; its one style attribute hides the tooltip, which
            # reports.css hides instead (the CSP blocks style attributes).
            for attribute in ("id", "style"):
                element.attrib.pop(attribute, None)
    tree.set("role", "img")
    tree.set("aria-label", f"{title}. {summary}")
    tree.set("focusable", "false")
    return mark_safe(etree.tostring(tree, encoding="unicode"))  # noqa: S308 (our own tree, no user markup)


def bar_chart(
    *,
    title: str,
    summary: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    horizontal: bool = False,
    for_print: bool = False,
) -> SafeString:
    """A bar chart of counts (one colour per series, a legend when there are several)."""
    values = [value for _name, numbers in series for value in numbers]
    height = max(300, 60 + 40 * len(labels) * max(1, len(series))) if horizontal else 400
    chart = _chart(
        "hbar" if horizontal else "bar",
        for_print=for_print,
        height=min(height, 1200),
        show_legend=len(series) > 1,
        x_label_rotation=-45 if not horizontal and len(labels) > 6 else 0,
    )
    chart.x_labels = list(labels)
    chart.y_labels = _ticks(values)
    for name, numbers in series:
        chart.add(name, list(numbers))
    return _svg(chart, title=title, summary=summary, for_print=for_print)


def line_chart(
    *,
    title: str,
    summary: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    for_print: bool = False,
) -> SafeString:
    """A line chart of counts over time, with dots (and values when there are few points)."""
    values = [value for _name, numbers in series for value in numbers]
    chart = _chart(
        "line",
        for_print=for_print,
        print_values=len(labels) <= 16,
        show_legend=len(series) > 1,
        x_label_rotation=-45 if len(labels) > 8 else 0,
        show_minor_x_labels=len(labels) <= 16,
        x_labels_major_every=max(1, len(labels) // 8),
        dots_size=4,
    )
    chart.x_labels = list(labels)
    chart.y_labels = _ticks(values)
    for name, numbers in series:
        chart.add(name, list(numbers))
    return _svg(chart, title=title, summary=summary, for_print=for_print)
