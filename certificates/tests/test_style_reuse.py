"""Computed styles reused between certificates of the same shape (``certificates.style_reuse``):
the PDF is byte for byte the one rendered without reuse, whatever the order of pages."""

import functools
import hashlib
import inspect
import re
import threading
from pathlib import Path

import pytest

from certificates import rendering, style_reuse
from certificates.tests.samples import learner_certificate_context, signature_uri_sample
from certificates.tests.test_rendering import _longest_context, pdf_tool


@pytest.fixture
def renderer(monkeypatch):
    """The process's renderer with no styles kept yet."""
    renderer = rendering.renderer_get()
    monkeypatch.setattr(renderer, "style_reuse", style_reuse.StyleReuse())
    return renderer


def _without_reuse(renderer, monkeypatch, render):
    with monkeypatch.context() as patch:
        patch.setattr(renderer, "style_reuse", None)
        return render()


def _certificates():
    three = [{"domain": name} for name in ("Ethics", "Fieldwork", "Peer interviewing")]
    ten = [{"domain": f"Participatory research domain {i}"} for i in range(10)]
    return [
        learner_certificate_context("Zoë Ó'Brien-Łukasz"),
        learner_certificate_context("Amina Yusuf"),  # same shape: styles reused
        learner_certificate_context("Tomasz Wiśniewski", version=2),
        {
            **learner_certificate_context("Grace O'Connell"),
            "signature_uri": signature_uri_sample(),
            "signatory_title": "",
        },
        learner_certificate_context("Chidi Okonkwo", competencies=three),  # the domains are one paragraph: same shape
        learner_certificate_context("Nadia Rahman", competencies=[]),  # no domains: no heading or paragraph for them
        learner_certificate_context('Eve <img src="x"> </p><style>p{color:red}</style> url(x)', competencies=ten),
        _longest_context(),  # laid out three times: normal, smaller, smallest print
        learner_certificate_context("Siobhán Ní Bhriain", competencies=three),
        {
            **learner_certificate_context("Mohammed Al-Khatib"),
            "signature_uri": signature_uri_sample(),
            "signatory_title": "",
        },
        learner_certificate_context("Eleanor Fitzgerald-Hughes"),
        _longest_context(),
    ]


def test_certificates_in_any_order_are_the_pdfs_rendered_without_reuse(renderer, monkeypatch):
    certificates = _certificates()
    expected = [
        _without_reuse(renderer, monkeypatch, lambda c=c: rendering.certificate_pdf_render(c)) for c in certificates
    ]
    assert renderer.style_reuse.hits == renderer.style_reuse.misses == 0  # not used without it
    got = [rendering.certificate_pdf_render(context) for context in certificates]
    got_again = [rendering.certificate_pdf_render(context) for context in reversed(certificates)][::-1]
    for index, (pdf, again, reference) in enumerate(zip(got, got_again, expected, strict=True)):
        assert pdf == reference, f"certificate {index} differs when styles are reused"
        assert again == reference, f"certificate {index} differs the second time round"
    reuse = renderer.style_reuse
    # Shapes: the usual page, a signature without a title, no domains, smaller and smallest print.
    assert len(reuse) == 5
    assert reuse.misses == 5 and reuse.hits == 2 * (len(certificates) + 2 * 2) - 5


# A page that asks more of the reuse than a certificate does: list markers (the user agent's
# counter styles), an internal link and a page number taken from its target (anchors), a table
# (layout moves its margins to a wrapper), and an overflow on the body (layout moves it to the page
# and changes the body's style).
PAGE = """<!DOCTYPE html><html lang="en-GB"><head><title>{title}</title></head>
<body style="overflow: hidden"><h1 id="top">{title}</h1><ol><li>{item}</li><li>two</li></ol>
<ul><li>{item}</li></ul><table style="margin: 10mm; border: 1px solid"><tr><td>{item}</td><td>2</td></tr></table>
<p lang="fr"><a href="#top">{item}</a></p></body></html>"""
TARGET_CSS = 'a::after { content: " (page " target-counter(attr(href), page) ")" }'


@functools.cache
def _target_css():
    """One CSS object for every page, as the renderer's stylesheet is (a new one is a new shape)."""
    from weasyprint import CSS

    renderer = rendering.renderer_get()
    return CSS(string=TARGET_CSS, font_config=renderer.font_config, url_fetcher=renderer.fetcher)


def _page_pdf(page, reuse):
    renderer = rendering.renderer_get()
    tree = rendering._tree_html_class()(
        rendering._xml_tree(page), base_url=renderer.base_url, url_fetcher=renderer.fetcher, style_reuse=reuse
    )
    stylesheets = [renderer.stylesheet, _target_css()]
    document = tree.render(stylesheets=stylesheets, font_config=renderer.font_config, pdf_tags=True)
    return document.write_pdf(**rendering.PDF_OPTIONS)


def test_pages_with_markers_anchors_links_and_tables_are_the_same_with_reuse(tmp_path):
    pages = [
        PAGE.format(title=title, item=item)
        for title, item in [("One", "first"), ("Two", "second item"), ("Three", "x")]
    ]
    reuse = style_reuse.StyleReuse()
    expected = [_page_pdf(page, None) for page in pages]
    assert [_page_pdf(page, reuse) for page in pages] == expected
    assert (reuse.misses, reuse.hits) == (1, 2)
    assert b"/Link" in expected[1] and b"/Dest" in expected[1]  # the internal link is there to lose
    path = tmp_path / "page.pdf"
    path.write_bytes(expected[2])
    assert "x (page 1)" in pdf_tool("pdftotext", path)  # and the page number from its target


def test_kept_styles_are_not_changed_by_laying_a_page_out(renderer):
    page = PAGE.format(title="One", item="first")
    rendering._document(page, well_formed=True)
    (kept,) = renderer.style_reuse._kept.values()
    body = next(
        style for (position, pseudo), style in kept.styles.items() if style.element.tag == "body" and not pseudo
    )
    assert body["overflow"] == "hidden"  # WeasyPrint set the body's style it laid out to 'visible'
    assert {"font_size", "margin_top", "line_height"} <= body.keys()  # kept warm: computed in layout
    before = {key: dict(style) for key, style in kept.styles.items()}
    rendering._document(page.replace("first", "again"), well_formed=True)
    assert {key: dict(style) for key, style in kept.styles.items()} == before


def test_rendering_from_threads_at_once_gives_the_same_pdfs(renderer, monkeypatch):
    certificates = _certificates()[:6]
    expected = [
        _without_reuse(renderer, monkeypatch, lambda c=c: rendering.certificate_pdf_render(c)) for c in certificates
    ]
    results = {}

    def render(thread):
        results[thread] = [rendering.certificate_pdf_render(context) for context in certificates]

    threads = [threading.Thread(target=render, args=(number,)) for number in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[number] == expected for number in range(3)] == [True, True, True]


def _shape(html):
    return style_reuse.page_shape(rendering._xml_tree(html))


def test_the_shape_of_a_page_is_its_elements_and_attributes_not_its_text():
    base = '<html lang="en-GB"><head><meta name="a" content="1"/></head><body class="x"><p>Hello</p><img class="qr" src="data:1" alt="one"/></body></html>'
    assert _shape(base) == _shape(base.replace("Hello", "Goodbye, Zoë"))
    assert _shape(base) == _shape(base.replace('src="data:1" alt="one"', 'src="data:2" alt="two"'))
    assert _shape(base) == _shape(base.replace('content="1"', 'content="2"'))
    for changed in (
        base.replace('class="x"', 'class="smaller"'),  # a class
        base.replace('lang="en-GB"', 'lang="fr"'),  # an attribute's value
        base.replace('class="qr" ', ""),  # an attribute
        base.replace("<p>Hello</p>", "<p>Hello</p><p>again</p>"),  # an element
        base.replace("<p>Hello</p>", "<p></p>"),  # :empty
        base.replace("<p>Hello</p>", "<div>Hello</div>"),  # a tag
        base.replace('<meta name="a"', '<meta name="b"'),
    ):
        assert _shape(changed) != _shape(base), changed
    assert _shape(base.replace("<p>Hello</p>", "<style>p { color: red }</style>")) is None
    assert _shape(base.replace("<p>Hello</p>", '<link rel="stylesheet" href="x.css"/>')) is None


def test_no_stylesheet_in_use_reads_the_attribute_values_left_out_of_a_shape():
    """If one did (``content: attr(alt)``, ``img[src^=data]``), pages differing only in those
    values would wrongly share styles."""
    import weasyprint

    names = "|".join({name for _tag, name in style_reuse.VALUES_NOT_IN_SHAPE})
    reads = re.compile(rf"attr\(\s*({names})\b|\[\s*({names})\s*[~|^$*]?=", re.IGNORECASE)
    ua = Path(weasyprint.__file__).parent / "css"
    sheets = [*ua.glob("*.css"), rendering.static_root() / "certificates" / "certificate.css"]
    assert len(sheets) > 2
    for sheet in sheets:
        assert not reads.search(sheet.read_text()), sheet.name


def test_only_so_many_shapes_are_kept_the_least_recently_used_dropped():
    reuse = style_reuse.StyleReuse(size=2)
    for shape in ("a", "b"):
        reuse.keep(shape, style_reuse.KeptStyles(styles={}, sheets=[]))
    assert reuse.get("a") is not None  # a is now the most recently used
    reuse.keep("c", style_reuse.KeptStyles(styles={}, sheets=[]))
    assert len(reuse) == 2 and reuse.get("b") is None and reuse.get("a") is not None


# What style_reuse was written against (WeasyPrint 68.1). If an upgrade changes any of these, read
# certificates/style_reuse.py again beside the new code, then record the new fingerprints here.
CHECKED = {
    "Document._build_layout_context": "1165dc351a149247",
    "Document._render": "e914dd4c6bf2d942",
    "StyleFor": "c4909beec188d8e4",
    "get_all_computed_styles": "e4063ec7d60e70be",
    "ComputedStyle.__init__": "1ef4b6ff21709932",
}


def test_weasyprint_internals_the_reuse_relies_on_are_as_checked():
    from weasyprint.css import ComputedStyle, StyleFor, get_all_computed_styles
    from weasyprint.document import Document

    found = {
        name: hashlib.sha256(inspect.getsource(code).encode()).hexdigest()[:16]
        for name, code in {
            "Document._build_layout_context": Document._build_layout_context,
            "Document._render": Document._render,
            "StyleFor": StyleFor,
            "get_all_computed_styles": get_all_computed_styles,
            "ComputedStyle.__init__": ComputedStyle.__init__,
        }.items()
    }
    assert found == CHECKED
