"""The faster ways the worker renders and signs a certificate give what the plain ways give.

``certificates.rendering`` parses the certificate page with the XML parser rather than WeasyPrint's
HTML5 parser, and writes PDF 1.4 syntax (no compressed object streams); ``certificates.signing``
keeps one event loop for pyHanko. Each is checked here against the plain way, byte for byte where
that is what it promises."""

import asyncio
import io
import subprocess
import threading

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from certificates import rendering, signing
from certificates.tests.samples import certificate_context_sample, signature_uri_sample
from certificates.tests.test_rendering import _longest_context, pdf_tool


def _contexts():
    hostile = 'Eve <img src="file:///etc/passwd"> & "Mallory" </p><style>p{color:red}</style> url(x.png)'
    return {
        "sample": certificate_context_sample(),
        "hostile name": certificate_context_sample(learner_name=hostile),
        "longest text, smallest print": {**_longest_context(), "text_size": "smallest"},
        "signature, second version, no title": {
            **certificate_context_sample(version=2),
            "signature_uri": signature_uri_sample(),
            "signatory_title": "",
        },
    }


def _pdf(html, *, well_formed):
    return rendering._document(html, well_formed=well_formed).write_pdf(**rendering.PDF_OPTIONS)


@pytest.mark.parametrize("name", list(_contexts()))
def test_the_xml_parser_gives_the_same_pdf_as_the_html5_parser(name):
    html = rendering.certificate_html({"text_size": "", **_contexts()[name]})
    assert rendering._xml_tree(html) is not None, "the certificate template is not well-formed XML"
    assert _pdf(html, well_formed=True) == _pdf(html, well_formed=False)


def test_a_page_read_from_its_tree_has_what_weasyprint_sets_on_a_parsed_one():
    """If a WeasyPrint upgrade makes ``HTML`` keep something more, the tree-built one must too."""
    from weasyprint import HTML

    renderer = rendering.renderer_get()
    html = rendering.certificate_html({"text_size": "", **certificate_context_sample()})
    parsed = HTML(string=html, base_url=renderer.base_url, url_fetcher=renderer.fetcher)
    from_tree = rendering._tree_html_class()(
        rendering._xml_tree(html), base_url=renderer.base_url, url_fetcher=renderer.fetcher
    )
    assert vars(parsed).keys() <= vars(from_tree).keys()
    assert (from_tree.base_url, from_tree.url_fetcher, from_tree.media_type) == (
        parsed.base_url,
        parsed.url_fetcher,
        parsed.media_type,
    )
    assert [element.tag for element in from_tree.etree_element.iter()] == [
        element.tag for element in parsed.etree_element.iter()
    ]


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><title>t</title></head><body><p>a\x0bb</p></body></html>",  # a character XML forbids
        '<!DOCTYPE html [<!ENTITY e "x">]><html><head></head><body>&e;</body></html>',  # an entity declaration
        "<html><body><p>no head</p></body></html>",
        "<html><head></head><body><p>unclosed</body></html>",
        "<svg><head></head><body></body></svg>",
    ],
)
def test_pages_the_xml_parser_must_not_take_are_left_to_the_html5_parser(html):
    assert rendering._xml_tree(html) is None
    assert _pdf(html, well_formed=True) == _pdf(html, well_formed=False)


def test_a_name_xml_refuses_still_prints(tmp_path):
    context = certificate_context_sample(learner_name="Zoë\x0bÓ'Brien")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(rendering.certificate_pdf_render(context))
    assert "Zoë" in pdf_tool("pdftotext", path)


def test_the_pdf_has_no_object_streams_and_signs_valid(tmp_path):
    pdf = rendering.certificate_pdf_render(certificate_context_sample())
    assert pdf.startswith(b"%PDF-1.4")
    assert b"/ObjStm" not in pdf and b"/XRef" not in pdf  # a classic cross-reference table
    signed = signing.pdf_sign(pdf, reason="test")
    check = signing.pdf_signature_check(signed)
    assert check.signed and check.intact and check.valid and check.trusted
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    output = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert "Signature is Valid." in output
    assert PdfFileReader(io.BytesIO(signed)).input_version >= (2, 0)  # what PAdES asks for


async def _running_loop():
    return asyncio.get_running_loop()


def test_signing_keeps_one_event_loop_on_the_main_thread(monkeypatch):
    first = signing._coroutine_run(_running_loop())
    assert signing._coroutine_run(_running_loop()) is first
    assert not first.is_closed()

    from_thread = []
    thread = threading.Thread(target=lambda: from_thread.append(signing._coroutine_run(_running_loop())))
    thread.start()
    thread.join()
    assert from_thread[0] is not first and from_thread[0].is_closed()  # another thread: a loop of its own

    # In a process forked from this one, a loop of its own too.
    monkeypatch.setattr(signing, "_main_thread_runner", (-1, signing._main_thread_runner[1]))
    after_fork = signing._coroutine_run(_running_loop())
    assert after_fork is not first


def test_signing_from_threads_at_once_gives_valid_signatures():
    pdf = rendering.certificate_pdf_render(certificate_context_sample())
    results = []
    threads = [threading.Thread(target=lambda: results.append(signing.pdf_sign(pdf))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    assert all(signing.pdf_signature_check(signed).valid for signed in results)
