"""Rendering a certificate to PDF with WeasyPrint, from ``templates/certificates/pdf/certificate.html``.

Only WeasyPrint's public API: ``HTML(string=..., base_url=..., url_fetcher=...)``, ``CSS``,
``FontConfiguration``, ``Document.write_pdf`` (with ``pdf_variant="pdf/a-3b"``, an ``Attachment``
for the embedded credential and a ``finisher``) and ``Page.anchors``. What is slow in WeasyPrint is
loading fonts and stylesheets, so the font configuration and the print stylesheet (its
``@font-face`` rules point at the pre-subset Noto Sans files in ``static/fonts``) are built once per
process and reused for every certificate.

Bundled fonts only: the font configuration is made while ``FONTCONFIG_FILE`` (Fontconfig's own
variable) names ``static/fonts/fonts.conf``, which lists that folder and nothing else, so the
renderer knows no system font at all; a character missing from the bundled fonts could only come out
as an empty box, and ``unprintable_characters`` fails such a certificate before it is drawn.

Nothing outside ``static/fonts`` and ``static/certificates`` (the stylesheet and the Academy's
crest, ``crest.svg``) and the ``data:`` images the code itself makes (the QR code, the signature and
the partner's logo) is ever fetched: ``SafeURLFetcher`` refuses the rest, so a
learner's name containing HTML, CSS or ``url(...)`` is only ever printed as text (the template
auto-escapes it) and can make WeasyPrint read no file and no URL. (The credential embedded in the
PDF is handed over as a ``data:`` URL to a fetcher that reads nothing else.)

One file that is both: every certificate is PDF/A-3b, and ``certificate_pdf_render(context,
credential_json=...)`` embeds the Open Badges credential as its associated file ``credential.json``
(``/AFRelationship /Data``, ``application/ld+json``) before the PAdES signature, which so covers it;
``credential_embedded`` reads it back out of any PDF, safely.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import functools
import io
import json
import logging
import os
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
from weasyprint.urls import URLFetcher

logger = logging.getLogger(__name__)

TEMPLATE = "certificates/pdf/certificate.html"
MAX_SIGNATURE_BYTES = 1_000_000
# The only data: images a certificate may show, all made by the code below: the QR code (JPEG), the
# signature and the partner's logo (PNG).
_DATA_TYPES = ("data:image/jpeg;base64,", "data:image/png;base64,")


def static_root() -> Path:
    return Path(settings.BASE_DIR) / "static"


def allowed_roots() -> tuple[Path, ...]:
    root = static_root()
    return ((root / "fonts").resolve(), (root / "certificates").resolve())


class SafeURLFetcher(URLFetcher):
    """A WeasyPrint URL fetcher (``weasyprint.urls.URLFetcher`` with its documented ``fetch``
    overridden) that serves only bundled files and the images we embed.

    Everything refused is recorded in ``refused`` (the last few) and raises, which WeasyPrint
    turns into a logged warning: the resource is simply absent from the PDF.
    """

    def __init__(self, roots: tuple[Path, ...]):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False, timeout=1)
        self.roots = roots
        self.refused: list[str] = []

    def allows(self, url: str) -> bool:
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

    def fetch(self, url: str, headers=None):
        if not self.allows(url):
            self.refused = [*self.refused[-19:], url[:200]]
            raise ValueError(f"Certificates may not load {url[:80]!r}")
        return super().fetch(url, headers)


def fontconfig_file() -> Path:
    """Fontconfig's configuration for certificates: ``static/fonts`` and no other folder."""
    return static_root() / "fonts" / "fonts.conf"


_environment_lock = threading.Lock()


@contextlib.contextmanager
def fontconfig_file_used(path: Path):
    """``FONTCONFIG_FILE`` set to ``path`` for a while (Fontconfig reads it whenever a
    configuration is loaded), and put back as it was afterwards, so nothing else in the process
    (say, a benchmark's naive path) loses the system's fonts."""
    with _environment_lock:
        saved = os.environ.get("FONTCONFIG_FILE")
        os.environ["FONTCONFIG_FILE"] = str(path)
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop("FONTCONFIG_FILE", None)
            else:
                os.environ["FONTCONFIG_FILE"] = saved


def bundled_font_configuration():
    """A WeasyPrint ``FontConfiguration`` that knows the bundled fonts only: loaded from
    ``static/fonts/fonts.conf`` (see ``fontconfig_file``), not the system's configuration; the
    stylesheet's ``@font-face`` rules add the families it names."""
    from weasyprint.text.fonts import FontConfiguration

    with fontconfig_file_used(fontconfig_file()):
        return FontConfiguration()


@dataclass
class Renderer:
    """Objects reused between renders in one process."""

    font_config: object
    stylesheet: object
    fetcher: SafeURLFetcher
    base_url: str


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
            )
        return _renderer


@atexit.register
def renderer_discard() -> None:
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
    return signature_uri_cached(("storage", name), name, lambda: default_storage.open(name, "rb"))


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
    return signature_uri_cached(("file", path, mtime), path, lambda: open(path, "rb"))  # noqa: SIM115


LOGO_MAX_SIZE = (660, 240)  # pixels: 20 mm high by 55 mm wide on the certificate, about 300 dpi


def partner_logo_data_uri(image_field) -> str:
    """A partner organisation's logo (``PartnerOrganisation.logo``, in default storage, checked on
    upload by ``partners.models.partner_logo_validate``) as a data URI ready to print (flattened onto
    white, at most ``LOGO_MAX_SIZE``, an RGB PNG), or "" if there is none or it cannot be read."""
    if not image_field or not image_field.name:
        return ""
    name = image_field.name
    return signature_uri_cached(("logo", name), name, lambda: default_storage.open(name, "rb"), max_size=LOGO_MAX_SIZE)


def certificate_partner_logo_uri(context: dict) -> str:
    """The partner's logo for a certificate: ``partner_logo_uri`` from the context if it has one
    (a preview, a test), else the logo of the partner whose cohort the certificate's enrolment is
    in (a ``Certificate`` row), else ""."""
    if "partner_logo_uri" in context:
        return context["partner_logo_uri"] or ""
    enrolment = getattr(context.get("certificate"), "enrolment", None)
    cohort = getattr(enrolment, "cohort", None)
    partner = getattr(cohort, "partner", None)
    return partner_logo_data_uri(getattr(partner, "logo", None)) if partner is not None else ""


def signature_uri_cached(key: tuple, name: str, opener, *, max_size: tuple[int, int] = SIGNATURE_MAX_SIZE) -> str:
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
    image.thumbnail(max_size)
    flat = Image.new("RGB", image.size, "white")
    flat.paste(image, mask=image.getchannel("A"))
    buffer = io.BytesIO()
    flat.save(buffer, "PNG")
    uri = f"data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"
    if len(_signature_cache) > 64:
        _signature_cache.clear()
    _signature_cache[key] = uri
    return uri


# Unicode's first-strong isolate and pop directional isolate (UAX #9). Around a text, they give it
# the direction of its own first letter and keep it from reordering what surrounds it.
FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"


def isolated(text: str) -> str:
    """``text`` between FSI and PDI, so that a name prints in its own direction (an Arabic name
    right to left, "Sara سارا Khan" left to right) and nothing in it can reorder the sentence around
    it. WeasyPrint 70 ignores ``dir="auto"`` and ``<bdi>`` gives no first-strong direction, but
    Pango's bidi algorithm (FriBidi) honours these characters, which print as nothing."""
    return f"{FIRST_STRONG_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}" if text else text


def printed_texts(context: dict) -> dict:
    """The texts the certificate prints that people typed (names, titles, wording), each isolated."""
    certificate = context["certificate"]
    return {
        "learner_name": isolated(certificate.learner_name),
        "programme_title": isolated(certificate.programme_title),
        "cohort_name": isolated(certificate.cohort_name),
        "partner_name": isolated(certificate.partner_name),
        "wording": isolated(context.get("wording") or ""),
        "signatory_name": isolated(context.get("signatory_name") or ""),
        "signatory_title": isolated(context.get("signatory_title") or ""),
        "domains": [isolated(d["domain"]) for d in certificate.competencies or []],
    }


def certificate_html(context: dict) -> str:
    """The certificate's HTML (British English, whatever language the request was in). The texts
    people typed are printed isolated (``printed_texts``); the document's title keeps them as typed."""
    with translation.override("en-gb"):
        return render_to_string(
            TEMPLATE,
            {**context, "printed": printed_texts(context), "partner_logo_uri": certificate_partner_logo_uri(context)},
        )


# How WeasyPrint writes a certificate: PDF/A-3b (an archival PDF: fonts embedded, an sRGB output
# intent, XMP metadata declaring PDF/A-3 conformance B, files embedded only as associated files),
# tagged, its streams (text, fonts, images) compressed, with PDF 1.4 syntax: objects written one by
# one with a classic cross-reference table rather than packed into compressed object streams (1.5).
# pyHanko, signing, reads the objects it changes faster that way, for a few KB more file; PDF/A-3
# allows any header from 1.0 to 1.7. The signed file declares PDF 2.0 all the same (pyHanko records
# the version its PAdES signature needs in the catalogue).
PDF_VARIANT = "pdf/a-3b"
PDF_OPTIONS = {"pdf_tags": True, "uncompressed_pdf": False, "pdf_version": "1.4", "pdf_variant": PDF_VARIANT}

# The credential (Open Badges 3.0, JSON-LD) inside the certificate's PDF: a PDF/A-3 associated file
# of the whole document, in the catalogue's /AF with /AFRelationship /Data (the data the printed
# certificate is drawn from), its MIME type the embedded file's /Subtype.
CREDENTIAL_FILE_NAME = "credential.json"
CREDENTIAL_MEDIA_TYPE = "application/ld+json"
CREDENTIAL_RELATIONSHIP = "Data"
CREDENTIAL_DESCRIPTION = "The certificate as an Open Badges 3.0 credential (JSON-LD), signed by the issuer"


def credential_attachment(credential_json: bytes):
    """The credential as a WeasyPrint ``Attachment``: read from a ``data:`` URL of its own media type
    (WeasyPrint takes an attachment's /Subtype from its source's MIME type, and guesses only
    ``application/json`` from a file name), by a fetcher that reads ``data:`` URLs and nothing else."""
    import datetime

    from weasyprint import Attachment
    from weasyprint.urls import URLFetcher

    if not isinstance(credential_json, bytes) or not credential_json:
        raise ValueError("The credential to embed must be the JSON document's bytes.")
    try:
        json.loads(credential_json)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise ValueError(f"The credential to embed is not JSON in UTF-8: {error}") from error
    now = datetime.datetime.now(datetime.UTC)  # WeasyPrint writes the time with a "Z": give it UTC
    return Attachment(
        url=f"data:{CREDENTIAL_MEDIA_TYPE};base64,{base64.b64encode(credential_json).decode('ascii')}",
        url_fetcher=URLFetcher(allowed_protocols={"data"}),
        name=CREDENTIAL_FILE_NAME,
        description=CREDENTIAL_DESCRIPTION,
        relationship=CREDENTIAL_RELATIONSHIP,
        created=now,
        modified=now,
    )


def pdfa_finished(document, pdf) -> None:
    """A ``write_pdf`` finisher (WeasyPrint's documented hook, given the ``pydyf.PDF`` before it is
    written) that keeps the file PDF/A-3b through signing:

    - each associated file listed once in the catalogue's /AF: WeasyPrint 70's PDF/A-3 writer adds
      every attachment twice, once from the /EmbeddedFiles name tree and once from its file
      specification, so /AF read ``[12 0 R 12 0 R]``;
    - no /Producer in the document information dictionary, only in the XMP metadata. PDF/A wants
      each entry of the one to be the same in the other; pyHanko, signing, sets the XMP producer to
      "pyHanko x.y" but appends "; pyHanko x.y" to an information producer it finds, which would
      leave the two different in every signed certificate. Finding none, it writes the same in both.
    """
    files = pdf.catalog.get("AF")
    if files:
        files[:] = list(dict.fromkeys(files))  # a pydyf.Array is a list: changed in place
    pdf.info.pop("Producer", None)


def pdf_write(document, credential_json: bytes | None = None) -> bytes:
    """A laid-out certificate written as PDF/A-3b, with ``credential_json`` embedded if given."""
    attachments = [credential_attachment(credential_json)] if credential_json is not None else []
    return document.write_pdf(finisher=pdfa_finished, attachments=attachments, **PDF_OPTIONS)


# The largest credential read back out of a PDF (decompressed): a credential is a few KB; a hostile
# PDF's compressed stream could otherwise inflate a thousandfold.
MAX_CREDENTIAL_BYTES = 1_000_000


def credential_embedded(pdf: bytes) -> bytes | None:
    """The credential a certificate's PDF carries: the bytes of the associated file
    ``credential.json`` (listed in the catalogue's /AF, as ``pdf_write`` embeds it), or None if the
    file has none, cannot be read as a PDF, or holds one larger than ``MAX_CREDENTIAL_BYTES`` or
    encoded other than as the renderer writes it (Flate or no filter). Safe on any upload: the
    stream is inflated at most that far."""
    import zlib

    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        associated = reader.root["/AF"] if "/AF" in reader.root else []  # noqa: SIM401 (.get would not dereference)
        for index in range(len(associated)):
            spec = associated[index]  # indexing dereferences, iterating does not
            if str(spec.get("/UF", spec.get("/F", ""))) != CREDENTIAL_FILE_NAME:
                continue
            stream = spec["/EF"]["/F"]
            filters = stream.get("/Filter")
            if filters is None:
                data = stream.encoded_data[: MAX_CREDENTIAL_BYTES + 1]
            elif filters == "/FlateDecode" and "/DecodeParms" not in stream:
                data = zlib.decompressobj().decompress(stream.encoded_data, MAX_CREDENTIAL_BYTES + 1)
            else:
                return None
            return data if len(data) <= MAX_CREDENTIAL_BYTES else None
    except Exception as exc:  # anything a hostile file makes the parser raise (RecursionError too)
        logger.info("No credential read from the PDF: %s: %s", type(exc).__name__, str(exc)[:200])
    return None


def document_render(html: str):
    """Certificate HTML laid out by WeasyPrint (a ``weasyprint.document.Document``), with the
    process's fonts, stylesheet and URL fetcher."""
    from weasyprint import HTML

    renderer = renderer_get()
    page = HTML(string=html, base_url=renderer.base_url, url_fetcher=renderer.fetcher)
    return page.render(
        stylesheets=[renderer.stylesheet], font_config=renderer.font_config, pdf_tags=True, pdf_variant=PDF_VARIANT
    )


def pdf_render(html: str) -> bytes:
    """Render certificate HTML to a tagged PDF/A-3b with the bundled fonts."""
    return pdf_write(document_render(html))


# Sizes of the certificate's text, largest first: the ``<body>`` class of the template.
TEXT_SIZES = ("", "smaller", "smallest")


class CertificateTooLongError(ValueError):
    """The certificate's text does not fit on its page even at the smallest size."""


def certificate_pdf_render(context: dict, *, credential_json: bytes | None = None) -> bytes:
    """The certificate's PDF (PDF/A-3b, tagged; ``credential_json``, if given, embedded as the
    associated file ``credential.json``: see ``pdf_write``), its text as large as fits: if the text runs into the footer (a long
    name, title and wording together) it is laid out again a size smaller. Nearly every certificate
    is laid out once; names, titles and wording as long as the Academy's forms allow, with a dozen
    long domain names, fit at the smallest size. Text that fits at no size raises
    ``CertificateTooLongError`` rather than print over the signatory and verification details."""
    for size in TEXT_SIZES:
        document = document_render(certificate_html({**context, "text_size": size}))
        if not text_runs_into_footer(document):
            return pdf_write(document, credential_json)
        logger.info("Certificate text too long at size %r; laying it out smaller.", size or "normal")
    raise CertificateTooLongError("The certificate's text does not fit on one page, even in the smallest print.")


# Anchors (``id`` attributes) of the template: the top of the footer, and an empty block right
# after the last block of text, whose top is where the text ends.
FOOTER_ANCHOR = "footer"
TEXT_END_ANCHOR = "text-end"


def text_runs_into_footer(document) -> bool:
    """Whether the certificate's text spills onto a second page, reaches down to its footer (the
    signatory and verification block pinned to the foot of the frame) or pushes it off the page.

    Read from WeasyPrint's public ``Page.anchors`` (where each element with an ``id`` is on the
    page; the vertical position is the second item): the template's ``text-end`` marker and
    ``footer``."""
    if len(document.pages) != 1:
        return True
    anchors = document.pages[0].anchors
    if FOOTER_ANCHOR not in anchors or TEXT_END_ANCHOR not in anchors:
        return True  # the text pushed the footer (or itself) off the page
    return anchors[TEXT_END_ANCHOR][1] > anchors[FOOTER_ANCHOR][1]


# --- A programme's certificate previewed by staff (programmes' admin) ---------------------------

SAMPLE_LEARNER_NAME = "Sample Learner"
SAMPLE_VERIFICATION_CODE = "SAMPLE"
PREVIEW_PNG_DPI = 100
PREVIEW_PNG_TIMEOUT_SECONDS = 20


def programme_preview_context(programme, *, partner=None) -> dict:
    """What a certificate of ``programme`` would print, with sample data where a learner's would be:
    the learner "Sample Learner", a sample cohort, the programme's real title, wording, competency
    domains (core, then its own) and signatory, and ``partner`` (or the programme's first partner
    with a logo, or its first) with its logo. ``sample`` is set: the page says across it and in
    place of the verification code that it is not a certificate. Nothing is saved."""
    from types import SimpleNamespace

    from django.db.models import Q
    from django.utils.translation import gettext as _

    from programmes.models import CompetencyDomain

    from .services import certificate_signatory, verification_url

    if partner is None:
        partners = list(programme.partner_organisations.order_by("name"))
        partner = next((p for p in partners if p.logo), partners[0] if partners else None)
    domains = CompetencyDomain.objects.filter(Q(is_core=True) | Q(programme=programme)).order_by(
        "-is_core", "order", "name"
    )
    with translation.override("en-gb"):
        wording = programme.certificate_wording or _(
            "has completed the programme and shown every competency it requires"
        )
        cohort_name = _("Sample cohort")
        partner_name = partner.name if partner is not None else _("a partner organisation")
        issued_on = _("the day it is issued")
    certificate = SimpleNamespace(
        learner_name=SAMPLE_LEARNER_NAME,
        programme_title=programme.title,
        cohort_name=cohort_name,
        partner_name=partner_name,
        verification_code=SAMPLE_VERIFICATION_CODE,
        version=1,
        competencies=[{"domain": domain.name, "core": domain.is_core} for domain in domains],
    )
    url = verification_url(SAMPLE_VERIFICATION_CODE)
    return {
        "certificate": certificate,
        "wording": wording,
        **certificate_signatory(programme),
        "issued_on": issued_on,
        "verification_url": url,
        "qr_uri": qr_data_uri(url),
        "partner_logo_uri": partner_logo_data_uri(partner.logo) if partner is not None else "",
        "sample": True,
    }


def pdf_page_png(pdf: bytes, *, dpi: int = PREVIEW_PNG_DPI) -> bytes:
    """The first page of ``pdf`` as a PNG, drawn by poppler's ``pdftoppm`` (a subprocess with a
    time limit, reading and writing in a temporary folder)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="certificate-preview-") as folder:
        source = Path(folder) / "preview.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                str(dpi),
                "-singlefile",
                "-f",
                "1",
                "-l",
                "1",
                str(source),
                str(source.with_suffix("")),
            ],
            check=True,
            capture_output=True,
            timeout=PREVIEW_PNG_TIMEOUT_SECONDS,
        )
        return source.with_suffix(".png").read_bytes()


def programme_certificate_preview(programme, *, image_format: str = "pdf", partner=None) -> bytes:
    """A sample certificate of ``programme`` (``programme_preview_context``) as an unsigned PDF, or
    its page as a PNG (``image_format="png"``). Issues nothing and writes nothing to the database.
    Raises ``CertificateTooLongError`` if the programme's texts fit on no page, and
    ``PreviewImageError`` if the page could not be drawn as an image."""
    import subprocess

    pdf = certificate_pdf_render(programme_preview_context(programme, partner=partner))
    if image_format == "pdf":
        return pdf
    if image_format != "png":
        raise ValueError(f"A preview is a PDF or a PNG, not {image_format!r}.")
    try:
        return pdf_page_png(pdf)
    except (OSError, subprocess.SubprocessError) as error:
        logger.warning("The certificate preview could not be drawn as a PNG: %s", error)
        raise PreviewImageError("The preview could not be drawn as an image; the PDF preview still works.") from error


class PreviewImageError(ValueError):
    """The preview's page could not be drawn as a PNG (pdftoppm missing, failed or too slow)."""
