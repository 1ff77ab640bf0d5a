"""Computed styles reused from one certificate to the next of the same shape.

Before laying a page out, WeasyPrint matches every element against every stylesheet rule and then,
lazily, computes each CSS property of each element: about a fifth of a certificate's rendering.
Two certificates whose pages have the same elements, with the same attributes and classes, in the
same places, get the same computed styles: only their text differs (the name, the programme, the
code), and no style depends on text. So the worker keeps the computed styles of each shape of page
it has laid out (``StyleReuse``, one per process, bounded) and gives the next page of that shape a
copy of them instead of computing them again.

What makes two pages the same shape (``page_shape``): the tree of elements, each with its tag, its
attributes and their values, its number of children and whether it holds text (``:empty``), plus
the stylesheets and base URL. Three attribute values are left out, because they differ on every
certificate and no stylesheet in use reads them (``test_style_reuse`` checks): an image's ``src``
and ``alt`` and a ``meta`` element's ``content``. A page with a stylesheet of its own (``style``
or ``link`` elements) is never reused.

The kept styles are never handed to WeasyPrint: it changes a few style values while it lays a page
out (the root's ``overflow``, a table's margins), so each page gets fresh copies, pointing to its
own elements, and the kept ones stay as computed. They are kept once the first page of their shape
has been laid out, with every property that layout asked for computed (warm), so the copies hold
them already. ``test_style_reuse`` checks that a page rendered with reused styles is byte for byte
the PDF rendered without them, for pages of many shapes in turn.

This reaches into WeasyPrint's internals (``StyleFor`` and ``ComputedStyle`` of ``weasyprint.css``
and ``Document._build_layout_context``), hence the exact pin of WeasyPrint in requirements.txt; the
tests above fail, rather than the certificates quietly changing, if an upgrade moves them.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass

# Attribute values left out of a page's shape: (tag, attribute). Their names still count.
VALUES_NOT_IN_SHAPE = frozenset({("img", "src"), ("img", "alt"), ("meta", "content")})
SHAPES_KEPT = 32


def page_shape(root, *, extra: tuple = ()) -> tuple | None:
    """What decides the computed styles of the page under ``root`` (an ElementTree element), or
    None if its styles must not be reused (it has a stylesheet of its own, or nodes that are not
    elements)."""
    shape = []
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str) or tag in {"style", "link"}:
            return None
        attributes = tuple(
            sorted((name, None if (tag, name) in VALUES_NOT_IN_SHAPE else value) for name, value in element.items())
        )
        shape.append((tag, attributes, len(element), bool(element.text)))
    return (*extra, tuple(shape))


@dataclass
class KeptStyles:
    """The computed styles of one shape of page, keyed by (element's position in tree order,
    pseudo-element), parents before children; and the stylesheets they came from."""

    styles: dict
    sheets: list


class StyleReuse:
    """The computed styles of the last ``SHAPES_KEPT`` shapes of page laid out in this process."""

    def __init__(self, size: int = SHAPES_KEPT):
        self.size = size
        self._kept: OrderedDict[tuple, KeptStyles] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, shape: tuple) -> KeptStyles | None:
        with self._lock:
            kept = self._kept.get(shape)
            if kept is None:
                self.misses += 1
            else:
                self.hits += 1
                self._kept.move_to_end(shape)
            return kept

    def keep(self, shape: tuple, kept: KeptStyles) -> None:
        with self._lock:
            self._kept[shape] = kept
            self._kept.move_to_end(shape)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)


def styles_by_position(styles: dict, elements: list) -> dict:
    """WeasyPrint's computed styles ({(element, pseudo-element): style}) of the page whose elements,
    in tree order, are ``elements``, keyed by (element's position, pseudo-element) instead."""
    positions = {element: position for position, element in enumerate(elements)}
    return {(positions[element], pseudo): style for (element, pseudo), style in styles.items() if element in positions}


def styles_copy(styles: dict, elements: list, font_config) -> dict:
    """Fresh ``ComputedStyle`` copies of ``styles`` ({(position, pseudo-element): style}, parents
    first) for the page whose elements, in tree order, are ``elements``: each pointing to its own
    element and to its parent's copy, and holding every value already computed. Same keys."""
    from weasyprint.css import ComputedStyle, InitialStyle

    copies: dict = {}
    by_original: dict[int, object] = {}
    for (position, pseudo_type), original in styles.items():
        parent = original.parent_style
        if parent is None:
            parent_copy, root_copy = None, InitialStyle(font_config)
        else:
            parent_copy, root_copy = by_original[id(parent)], by_original[id(original.root_style)]
        copy = ComputedStyle(
            parent_copy, original.cascaded, elements[position], pseudo_type, root_copy, original.base_url, font_config
        )
        copy.update(original)
        copy.specified = original.specified.copy()
        copies[position, pseudo_type] = by_original[id(original)] = copy
    return copies


def styles_warm(kept: dict, used: dict) -> None:
    """Compute in the ``kept`` styles every property the page's layout asked of the ``used`` ones
    (both keyed by position; WeasyPrint computes a property when it is first asked for). Computed
    afresh from the cascade, not copied: layout may have changed a used value."""
    for key, style in kept.items():
        for name in list(used[key]):
            style[name]  # noqa: B018 -- computes it


def kept_style_for(kept: KeptStyles, html, elements: list, font_config, counter_style, target_collector):
    """A ``weasyprint.css.StyleFor`` holding copies of the ``kept`` styles for this page; and what
    ``get_all_computed_styles`` does besides computing styles, for a page with no stylesheet of its
    own: the user agent's counter styles, and the anchors."""
    from weasyprint.css import StyleFor

    for styles in html._ua_counter_style():
        for name, value in styles.items():
            counter_style[name] = value
    copies = styles_copy(kept.styles, elements, font_config)
    style_for = StyleFor.__new__(StyleFor)
    style_for._cascaded_styles = {}
    style_for._computed_styles = {(elements[position], pseudo): style for (position, pseudo), style in copies.items()}
    style_for._sheets = kept.sheets
    style_for.font_config = font_config
    for (_position, pseudo_type), style in copies.items():
        if pseudo_type is None and style["anchor"]:
            target_collector.collect_anchor(style["anchor"])
    return style_for


@functools.cache
def reusing_document_class():
    """A ``weasyprint.document.Document`` whose layout takes its computed styles from the page's
    ``style_reuse`` (a ``StyleReuse``) when the page has one: ``Document._build_layout_context``
    as in WeasyPrint, but for where the styles come from."""
    from weasyprint.css import get_all_computed_styles
    from weasyprint.css.targets import TargetCollector
    from weasyprint.document import Document
    from weasyprint.images import get_image_from_uri
    from weasyprint.layout import LayoutContext

    class ReusingDocument(Document):
        @classmethod
        def _build_layout_context(cls, html, font_config, counter_style, color_profiles, options):
            reuse = getattr(html, "style_reuse", None)
            stylesheets = options["stylesheets"] or []
            shape = None
            if reuse is not None and options["cache"] is None and all(hasattr(css, "matcher") for css in stylesheets):
                shape = page_shape(
                    html.etree_element,
                    extra=(
                        tuple(id(css) for css in stylesheets),
                        html.base_url,
                        html.media_type,
                        options["presentational_hints"],
                        options["pdf_forms"],
                    ),
                )
            if shape is None:
                return super()._build_layout_context(html, font_config, counter_style, color_profiles, options)

            target_collector = TargetCollector()
            elements = list(html.etree_element.iter())
            kept = reuse.get(shape)
            if kept is None:
                style_for = get_all_computed_styles(
                    html,
                    stylesheets,
                    options["presentational_hints"],
                    font_config,
                    counter_style,
                    color_profiles,
                    [],
                    [],
                    target_collector,
                    options["pdf_forms"],
                )
                # Copied as computed before layout; warmed and kept once the page is laid out.
                before_layout = styles_copy(
                    styles_by_position(style_for._computed_styles, elements), elements, font_config
                )
                html.styles_to_keep = (shape, style_for, before_layout, elements)
            else:
                style_for = kept_style_for(kept, html, elements, font_config, counter_style, target_collector)
            get_image = functools.partial(get_image_from_uri, cache={}, url_fetcher=html.url_fetcher, options=options)
            return LayoutContext(style_for, get_image, font_config, counter_style, target_collector)

        @classmethod
        def _render(cls, html, font_config, counter_style, color_profiles, options):
            document = super()._render(html, font_config, counter_style, color_profiles, options)
            to_keep = getattr(html, "styles_to_keep", None)
            if to_keep is not None:
                html.styles_to_keep = None
                shape, style_for, before_layout, elements = to_keep
                styles_warm(before_layout, styles_by_position(style_for._computed_styles, elements))
                html.style_reuse.keep(shape, KeptStyles(styles=before_layout, sheets=style_for._sheets))
            return document

    return ReusingDocument
