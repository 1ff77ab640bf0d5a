"""Rendering a certificate to PDF with WeasyPrint, from ``templates/certificates/pdf/certificate.html``.

What is slow in WeasyPrint is loading and subsetting fonts. So the font configuration and the
print stylesheet (with its ``@font-face`` rules pointing at the pre-subset Noto Sans files in
``static/fonts``) are built once per process and reused for every certificate. A certificate's
page is then parsed as XML (``_document``) and laid out with the computed styles of the last page
of the same shape (``certificates.style_reuse``).

Nothing outside ``static/fonts`` and ``static/certificates`` (and ``data:`` images the code itself
makes: the QR code and the signature) is ever fetched: ``SafeURLFetcher`` refuses the rest, so a
learner's name containing HTML, CSS or ``url(...)`` is only ever printed as text (the template
auto-escapes it) and can make WeasyPrint read no file and no URL.
"""

from __future__ import annotations

import atexit
import base64
import functools
import io
import logging
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.request import url2pathname

import segno
from django.conf import settings
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import translation

from .style_reuse import StyleReuse, reusing_document_class

logger = logging.getLogger(__name__)

TEMPLATE = "certificates/pdf/certificate.html"
MAX_SIGNATURE_BYTES = 1_000_000
# The only data: images a certificate may show, both made by the code below: the QR code (JPEG) and
# the signature (PNG).
_DATA_TYPES = ("data:image/jpeg;base64,", "data:image/png;base64,")


def static_root() -> Path:
    return Path(settings.BASE_DIR) / "static"


def allowed_roots() -> tuple[Path, ...]:
    root = static_root()
    return ((root / "fonts").resolve(), (root / "certificates").resolve())


class SafeURLFetcher:
    """A WeasyPrint URL fetcher that serves only bundled files and the images we embed.

    Everything refused is recorded in ``refused`` (the last few) and raises, which WeasyPrint
    turns into a logged warning: the resource is simply absent from the PDF.
    """

    def __init__(self, roots: tuple[Path, ...]):
        from weasyprint.urls import URLFetcher

        self.roots = roots
        self._inner = URLFetcher(allowed_protocols={"file", "data"}, allow_redirects=False, timeout=1)
        self.refused: list[str] = []

    def _allowed(self, url: str) -> bool:
        if url.startswith(_DATA_TYPES):
            return True
        if not url.startswith("file:"):
            return False
        path = Path(url2pathname(url.split("?")[0].split("#")[0].removeprefix("file://").removeprefix("file:")))
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):
            return False
        return resolved.is_file() and any(resolved.is_relative_to(root) for root in self.roots)

    def __call__(self, url: str):
        if not self._allowed(url):
            self.refused = [*self.refused[-19:], url[:200]]
            raise ValueError(f"Certificates may not load {url[:80]!r}")
        return self._inner.fetch(url)

    def fetch(self, url: str, headers=None):
        return self(url)


def bundled_font_configuration():
    """A WeasyPrint font configuration that knows no system font at all: only the fonts the
    stylesheet's ``@font-face`` rules add. (A character missing from them prints as a blank
    box rather than silently pulling in a font from the machine.)"""
    from weasyprint.text.ffi import ffi, fontconfig, gobject, pangoft2
    from weasyprint.text.fonts import FontConfiguration

    global _fc_create
    if _fc_create is None:
        ffi.cdef("FcConfig * FcConfigCreate (void);")
        _fc_create = fontconfig.FcConfigCreate

    class BundledFontConfiguration(FontConfiguration):
        def __init__(self):
            # As FontConfiguration.__init__, but from an empty Fontconfig configuration
            # instead of FcInitLoadConfigAndFonts() (which loads every system font).
            self._config = ffi.gc(_fc_create(), fontconfig.FcConfigDestroy)
            self.font_map = ffi.gc(pangoft2.pango_ft2_font_map_new(), gobject.g_object_unref)
            pangoft2.pango_fc_font_map_set_config(ffi.cast("PangoFcFontMap *", self.font_map), self._config)
            fontconfig.FcConfigDestroy(self._config)
            self._folder = None
            self.strut_layouts = {}
            self.font_features = {}

    return BundledFontConfiguration()


_fc_create = None


@dataclass
class Renderer:
    """Objects reused between renders in one process."""

    font_config: object
    stylesheet: object
    fetcher: SafeURLFetcher
    base_url: str
    style_reuse: StyleReuse


_renderer: Renderer | None = None
_renderer_lock = threading.Lock()


def renderer_get() -> Renderer:
    """The process's renderer: fonts and stylesheet loaded once."""
    global _renderer
    with _renderer_lock:
        if _renderer is None or _renderer.fetcher.roots != allowed_roots():
            from weasyprint import CSS

            roots = allowed_roots()
            fetcher = SafeURLFetcher(roots)
            font_config = bundled_font_configuration()
            css_path = static_root() / "certificates" / "certificate.css"
            stylesheet = CSS(filename=str(css_path), font_config=font_config, url_fetcher=fetcher)
            _renderer = Renderer(
                font_config=font_config,
                stylesheet=stylesheet,
                fetcher=fetcher,
                base_url=(static_root() / "certificates").resolve().as_uri() + "/",
                style_reuse=StyleReuse(),
            )
        return _renderer


@atexit.register
def _renderer_discard() -> None:
    """Free the fonts' temporary folder while the interpreter can still do it."""
    global _renderer
    _renderer = None


@functools.cache
def printable_code_points() -> frozenset[int]:
    """Every character the bundled fonts (``static/fonts/*-Regular.ttf`` and their ``-Bold``)
    can print in both weights."""
    from fontTools.ttLib import TTFont

    points: set[int] = set()
    for regular in sorted((static_root() / "fonts").glob("*-Regular.ttf")):
        bold = regular.with_name(regular.name.replace("-Regular.ttf", "-Bold.ttf"))
        weights = [set(TTFont(path, lazy=True).getBestCmap()) for path in (regular, bold) if path.exists()]
        points |= set.intersection(*weights)
    return frozenset(points)


def unprintable_characters(text: str) -> list[str]:
    """The characters of ``text`` (each once, in order) that no bundled font can print: they would
    come out as empty boxes. Spaces and invisible formatting characters are never counted."""
    printable = printable_code_points()
    found: dict[str, None] = {}
    for char in text:
        if ord(char) in printable or char.isspace() or unicodedata.category(char) in {"Cc", "Cf"}:
            continue
        found[char] = None
    return list(found)


QR_MODULE_PIXELS = 8  # one 8 x 8 JPEG block per module of the QR code
QR_DARK = 0x1B  # the certificate's text colour, #1b1b1b, as a grey level


def qr_data_uri(url: str) -> str:
    """The verification URL as a QR code: a data URI of a greyscale JPEG with each module exactly
    one 8 x 8 pixel block.

    Why a JPEG: WeasyPrint decodes and re-encodes every PNG it prints (about 1 ms a certificate for
    this one) but copies a JPEG into the PDF as it is. Why it is exact: JPEG compresses each 8 x 8
    block on its own, and a block of one flat grey is stored as that grey alone (at quality 100),
    so the decoded modules are the very two grey levels drawn: no blur at the edges of modules.
    ``test_rendering`` decodes the QR code out of a certificate to prove it.
    """
    from PIL import Image

    matrix = segno.make(url, error="m").matrix
    size = len(matrix)
    modules = bytes(QR_DARK if dark else 0xFF for row in matrix for dark in row)
    image = Image.frombytes("L", (size, size), modules)
    image = image.resize((size * QR_MODULE_PIXELS, size * QR_MODULE_PIXELS), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=100)
    return f"data:image/jpeg;base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


SIGNATURE_MAX_SIZE = (900, 300)  # pixels: 16 mm high on the certificate is about 400 dpi
_signature_cache: dict[tuple, str] = {}


def signature_data_uri(image_field) -> str:
    """A programme's signature image (from default storage) as a data URI, or "" if none."""
    if not image_field or not image_field.name:
        return ""
    name = image_field.name
    return _signature_uri(("storage", name), name, lambda: default_storage.open(name, "rb"))


def default_signature_data_uri() -> str:
    """The Academy's default signature (``CERTIFICATE_SIGNATORY_SIGNATURE``, a file) as a data URI,
    or "" if none is set."""
    path = str(getattr(settings, "CERTIFICATE_SIGNATORY_SIGNATURE", "") or "")
    if not path:
        return ""
    try:
        mtime = Path(path).stat().st_mtime
    except OSError:
        logger.warning("The default signature image %s could not be read; left out.", path)
        return ""
    return _signature_uri(("file", path, mtime), path, lambda: open(path, "rb"))  # noqa: SIM115


def _signature_uri(key: tuple, name: str, opener) -> str:
    """The image behind ``opener`` ready to print, kept per process: flattened onto white, at most
    ``SIGNATURE_MAX_SIZE``, as an RGB PNG. (WeasyPrint splits a transparent PNG into an image and a
    mask and re-encodes both for every certificate: 4 to 5 ms each time. An opaque one costs about 1.)
    A file that is missing, too large or not an image is left out with a warning."""
    if key in _signature_cache:
        return _signature_cache[key]
    from PIL import Image, UnidentifiedImageError

    try:
        with opener() as handle:
            data = handle.read(MAX_SIGNATURE_BYTES + 1)
        if len(data) > MAX_SIGNATURE_BYTES:
            logger.warning("Signature image %s is larger than %s bytes; left out.", name, MAX_SIGNATURE_BYTES)
            return ""
        with Image.open(io.BytesIO(data)) as source:
            if source.width * source.height > 40_000_000:
                logger.warning("Signature image %s has too many pixels; left out.", name)
                return ""
            image = source.convert("RGBA")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError):
        logger.warning("Signature image %s could not be read as an image; left out.", name)
        return ""
    image.thumbnail(SIGNATURE_MAX_SIZE)
    flat = Image.new("RGB", image.size, "white")
    flat.paste(image, mask=image.getchannel("A"))
    buffer = io.BytesIO()
    flat.save(buffer, "PNG")
    uri = f"data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"
    if len(_signature_cache) > 64:
        _signature_cache.clear()
    _signature_cache[key] = uri
    return uri


def certificate_html(context: dict) -> str:
    """The certificate's HTML (British English, whatever language the request was in)."""
    with translation.override("en-gb"):
        return render_to_string(TEMPLATE, context)


# How WeasyPrint writes a certificate: tagged, its streams (text, fonts, images) compressed, but its
# objects written one by one with a classic cross-reference table (PDF 1.4 syntax) rather than packed
# into a compressed object stream (1.5). pyHanko, signing, reads the objects it changes far faster
# that way: about 1.5 ms less a certificate, for 5 to 6 KB more file. The signed file declares PDF
# 2.0 all the same (pyHanko records the version its PAdES signature needs in the catalogue).
PDF_OPTIONS = {"pdf_tags": True, "uncompressed_pdf": False, "pdf_version": "1.4"}


def pdf_render(html: str) -> bytes:
    """Render certificate HTML to a tagged PDF with the bundled fonts."""
    return _document(html).write_pdf(**PDF_OPTIONS)


def _document(html: str, *, well_formed: bool = False, reuse_styles: bool = True):
    """Certificate HTML laid out by WeasyPrint (a ``weasyprint.document.Document``).

    ``well_formed``: the HTML is also well-formed XML, as the certificate template is written. It
    is then parsed by Python's XML parser (expat, in C) instead of WeasyPrint's HTML5 parser
    (tinyhtml5, pure Python: about 2.5 ms of each certificate), which gives the same tree for such
    a document (``test_fast_paths`` compares the PDFs byte for byte), and laid out with the
    computed styles of the last page of the same shape if ``reuse_styles`` (``style_reuse``).
    Anything the XML parser refuses, or a tree that is not an ``html`` element holding a ``head``
    and a ``body``, goes to the HTML5 parser as before."""
    from weasyprint import HTML

    renderer = renderer_get()
    root = _xml_tree(html) if well_formed else None
    if root is not None:
        document = _tree_html_class()(
            root,
            base_url=renderer.base_url,
            url_fetcher=renderer.fetcher,
            style_reuse=renderer.style_reuse if reuse_styles else None,
        )
    else:
        document = HTML(string=html, base_url=renderer.base_url, url_fetcher=renderer.fetcher)
    return document.render(stylesheets=[renderer.stylesheet], font_config=renderer.font_config, pdf_tags=True)


def _xml_tree(html: str):
    """``html`` parsed as XML, or None if it is not well-formed or not shaped like an HTML page.

    Safe for a learner's name: the template escapes every value (``&``, ``<``, ``>`` and quotes),
    so no value can add markup; defusedxml refuses entity declarations and external references
    besides. Characters XML forbids (control characters) make the parse fail, and the HTML5 parser
    takes the page instead."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(html)
    except (ParseError, DefusedXmlException) as exc:
        logger.info("Certificate HTML is not well-formed XML (%s); using the HTML5 parser.", exc)
        return None
    if root.tag != "html" or [child.tag for child in root] != ["head", "body"]:
        logger.info("Certificate HTML is not an html element with a head and a body; using the HTML5 parser.")
        return None
    return root


@functools.cache
def _tree_html_class():
    """``weasyprint.HTML`` for a document already parsed into an ElementTree: what
    ``HTML.__init__`` sets once it has parsed a string (``test_fast_paths`` checks that it sets
    the same attributes, in case a WeasyPrint upgrade adds one), and laid out by
    ``style_reuse.reusing_document_class`` with ``style_reuse`` (a ``StyleReuse``, or None)."""
    import cssselect2
    from weasyprint import DEFAULT_OPTIONS, HTML

    class TreeHTML(HTML):
        def __init__(self, root, *, base_url: str, url_fetcher, media_type: str = "print", style_reuse=None):
            self.base_url = base_url
            self.url_fetcher = url_fetcher
            self.media_type = media_type
            self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
            self.etree_element = self.wrapper_element.etree_element
            self.style_reuse = style_reuse
            self.styles_to_keep = None

        def render(self, font_config=None, counter_style=None, color_profiles=None, **options):
            options = {**DEFAULT_OPTIONS, **options}
            return reusing_document_class()._render(self, font_config, counter_style, color_profiles, options)

    return TreeHTML


# Sizes of the certificate's text, largest first: the ``<body>`` class of the template.
TEXT_SIZES = ("", "smaller", "smallest")


class CertificateTooLongError(ValueError):
    """The certificate's text does not fit on its page even at the smallest size."""


def certificate_pdf_render(context: dict) -> bytes:
    """The certificate's PDF, its text as large as fits: if the text runs into the footer (a long
    name, title and wording together) it is laid out again a size smaller. Nearly every certificate
    is laid out once; names, titles and wording as long as the Academy's forms allow, with a dozen
    long domain names, fit at the smallest size. Text that fits at no size raises
    ``CertificateTooLongError`` rather than print over the signatory and verification details."""
    for size in TEXT_SIZES:
        document = _document(certificate_html({**context, "text_size": size}), well_formed=True)
        if not text_runs_into_footer(document):
            return document.write_pdf(**PDF_OPTIONS)
        logger.info("Certificate text too long at size %r; laying it out smaller.", size or "normal")
    raise CertificateTooLongError("The certificate's text does not fit on one page, even in the smallest print.")


def text_runs_into_footer(document) -> bool:
    """Whether the certificate's text spills onto a second page, reaches down to its footer (the
    signatory and verification block pinned to the foot of the frame) or pushes it off the page.

    Reads WeasyPrint's layout of the page (``Page._page_box``, not public API:
    ``test_rendering`` fails if a WeasyPrint upgrade changes it)."""
    if len(document.pages) != 1:
        return True
    body = next((box for box in document.pages[0]._page_box.descendants() if box.element_tag == "body"), None)
    footer_top, text_bottom = None, 0.0
    for box in getattr(body, "children", ()):
        if box.element_tag == "div" and "footer" in box.element.get("class", "").split():
            footer_top = box.position_y
        else:
            text_bottom = max(text_bottom, box.position_y + box.margin_height())
    # No footer on the page: the text pushed it off (WeasyPrint drops what overflows the frame).
    return footer_top is None or text_bottom > footer_top
