"""The certificate as one file that is both: a PDF/A-3b that people print, with the credential (JSON)
embedded as an associated file that machines read, inside the PAdES signature. Checked with
poppler's own tools (``pdfdetach``, ``pdfinfo``, ``pdfsig``, ``pdffonts``) and pyHanko's reader, on
the in-process renderer (no database)."""

import html
import io
import json
import re
import statistics
import subprocess
import time

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from certificates import rendering, signing
from certificates.tests.samples import SAMPLE_CODE, certificate_context_sample

# A credential-shaped JSON document with characters that would show a wrong encoding (UTF-8, not
# Latin-1) and a size that compresses (the embedded stream is Flate-compressed).
CREDENTIAL = json.dumps(
    {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Lived Experience of Poverty",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": "Zoë Ó'Brien-Łukasz",
                }
            ],
        },
        "criteria": {"narrative": " ".join(["Research methods, ethics and fieldwork."] * 40)},
    },
    ensure_ascii=False,
    indent=2,
).encode()


def run(*command, check=True):
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, check=check).stdout


@pytest.fixture(scope="module")
def pdf_with_credential():
    return rendering.certificate_pdf_render(certificate_context_sample(), credential_json=CREDENTIAL)


@pytest.fixture
def written(tmp_path):
    """Write bytes to a PDF file in ``tmp_path`` and return its path."""

    def write(data: bytes, name="certificate.pdf"):
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write


def attachments(path, folder):
    """What ``pdfdetach`` lists in ``path``, and the bytes of each file it saves into ``folder``."""
    listing = run("pdfdetach", "-list", path).splitlines()
    folder.mkdir()
    run("pdfdetach", "-saveall", "-o", folder, path)
    return listing, {saved.name: saved.read_bytes() for saved in folder.iterdir()}


def test_pdfdetach_lists_exactly_the_credential_and_extracts_its_bytes(pdf_with_credential, written, tmp_path):
    listing, saved = attachments(written(pdf_with_credential), tmp_path / "files")
    assert listing == ["1 embedded files", "1: credential.json"]
    assert saved == {"credential.json": CREDENTIAL}


def test_the_credential_is_an_associated_file_of_the_document_listed_once(pdf_with_credential):
    root = PdfFileReader(io.BytesIO(pdf_with_credential)).root
    associated = root["/AF"]
    # WeasyPrint 70 lists each attachment twice in /AF; the renderer's finisher leaves it once.
    assert len(associated) == 1
    spec = associated[0]
    assert spec["/Type"] == "/Filespec"
    assert str(spec["/UF"]) == str(spec["/F"]) == "credential.json"
    assert spec["/AFRelationship"] == "/Data"
    assert str(spec["/Desc"]) == rendering.CREDENTIAL_DESCRIPTION
    stream = spec["/EF"]["/F"]
    assert stream["/Subtype"] == "/application/ld+json"
    assert stream["/Params"]["/Size"] == len(CREDENTIAL)
    assert "/ModDate" in stream["/Params"]  # PDF/A-3 wants each embedded file's modification date
    assert stream.data == CREDENTIAL
    # The same file specification is the one the /EmbeddedFiles name tree names.
    names = root["/Names"]["/EmbeddedFiles"]["/Names"]
    assert [str(names[0])] == ["credential.json"] and names.raw_get(1).idnum == root["/AF"].raw_get(0).idnum


@pytest.mark.parametrize("credential", [None, CREDENTIAL], ids=["plain", "with-credential"])
def test_the_pdf_declares_pdfa_3b_and_stays_tagged_with_language_and_title(credential, written):
    pdf = rendering.certificate_pdf_render(certificate_context_sample(), credential_json=credential)
    path = written(pdf)
    meta = run("pdfinfo", "-meta", path)
    assert re.search(r'pdfaid:part(="|>)3', meta), meta
    assert re.search(r'pdfaid:conformance(="|>)B', meta), meta
    info = run("pdfinfo", path)
    assert "Tagged:          yes" in info
    assert "Title:           Certificate: Zoë Ó'Brien-Łukasz, Lived Experience of Poverty" in info
    root = PdfFileReader(io.BytesIO(pdf)).root
    assert str(root["/Lang"]) == "en-GB"
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    # PDF/A: an output intent with an ICC profile, and the title shown by viewers.
    (intent,) = root["/OutputIntents"]
    assert intent["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    # Without a credential nothing is embedded; PDF/A-3 all the same.
    assert ("/AF" in root) is (credential is not None)
    assert run("pdfdetach", "-list", path).splitlines()[0] == f"{0 if credential is None else 1} embedded files"


@pytest.mark.parametrize("credential", [None, CREDENTIAL], ids=["plain", "with-credential"])
def test_only_the_bundled_fonts_are_embedded(credential, written):
    path = written(rendering.certificate_pdf_render(certificate_context_sample(), credential_json=credential))
    fonts = run("pdffonts", path).splitlines()[2:]
    assert fonts
    for line in fonts:
        name = line.split()[0]
        assert name.split("+", 1)[-1] in {
            "Noto-Sans-Academy",
            "Noto-Sans-Academy-Bold",
            "EB-Garamond-Academy",
            "EB-Garamond-Academy-Semi-Bold",
        }, line
        assert " yes yes yes " in line, f"font not embedded and subset: {line}"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("a string, not bytes", "must be the JSON document's bytes"),
        (b"", "must be the JSON document's bytes"),
        (b"{not json", "is not JSON in UTF-8"),
        ('{"name": "Zoë"}'.encode("latin-1"), "is not JSON in UTF-8"),
    ],
)
def test_a_credential_that_is_not_json_bytes_is_refused_before_rendering(bad, message):
    with pytest.raises(ValueError, match=message):
        rendering.certificate_pdf_render(certificate_context_sample(), credential_json=bad)


def test_the_credential_reads_back_out_of_the_pdf_before_and_after_signing(pdf_with_credential):
    assert rendering.credential_embedded(pdf_with_credential) == CREDENTIAL
    assert rendering.credential_embedded(signing.pdf_sign(pdf_with_credential)) == CREDENTIAL
    assert rendering.credential_embedded(rendering.certificate_pdf_render(certificate_context_sample())) is None
    assert rendering.credential_embedded(b"%PDF-1.4 not really") is None


def pdf_with_associated_file(pdf: bytes, stream) -> bytes:
    """``pdf`` with an associated file ``credential.json`` holding ``stream``, added by pyHanko."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    name = generic.NameObject
    spec = generic.DictionaryObject(
        {
            name("/Type"): name("/Filespec"),
            name("/F"): generic.TextStringObject("credential.json"),
            name("/UF"): generic.TextStringObject("credential.json"),
            name("/EF"): generic.DictionaryObject({name("/F"): writer.add_object(stream)}),
            name("/AFRelationship"): name("/Data"),
        }
    )
    writer.root["/AF"] = generic.ArrayObject([writer.add_object(spec)])
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_credential_that_inflates_past_the_limit_is_not_read():
    """A hostile upload: 50 MB of spaces in a 50 KB Flate stream. Read no further than the limit."""
    import zlib

    from pyhanko.pdf_utils import generic

    bomb = generic.StreamObject(
        {generic.NameObject("/Filter"): generic.NameObject("/FlateDecode")},
        encoded_data=zlib.compress(b" " * 50_000_000, 9),
    )
    plain = rendering.certificate_pdf_render(certificate_context_sample())
    assert rendering.credential_embedded(pdf_with_associated_file(plain, bomb)) is None
    small = generic.StreamObject(stream_data=b'{"name": "Small"}')
    assert rendering.credential_embedded(pdf_with_associated_file(plain, small)) == b'{"name": "Small"}'


def test_the_signature_covers_the_whole_file_with_the_credential_inside(pdf_with_credential, written, tmp_path):
    signed = signing.pdf_sign(pdf_with_credential, reason=f"Certificate {SAMPLE_CODE}")
    path = written(signed, "signed.pdf")

    # pdfsig (poppler): the signature is valid and it covers every byte of the file.
    report = run("pdfsig", path, check=False)
    assert "Signature Validation: Signature is Valid." in report, report
    assert "Total document signed" in report, report
    # pyHanko: intact, valid and trusted (the test CA), covering the entire file.
    check = signing.pdf_signature_check(signed)
    assert check.intact and check.valid and check.trusted, check
    assert check.whole_file, check

    # The signed file still carries the same credential, still PDF/A-3b, tagged, titled.
    listing, saved = attachments(path, tmp_path / "signed-files")
    assert listing == ["1 embedded files", "1: credential.json"]
    assert saved == {"credential.json": CREDENTIAL}
    meta = run("pdfinfo", "-meta", path)
    assert re.search(r'pdfaid:part(="|>)3', meta) and re.search(r'pdfaid:conformance(="|>)B', meta), meta
    info = run("pdfinfo", path)
    assert "Tagged:          yes" in info and "Title:           Certificate: Zoë" in info
    root = PdfFileReader(io.BytesIO(signed)).root
    assert len(root["/AF"]) == 1 and str(root["/Lang"]) == "en-GB"
    # PDF 1.7 at most, as PDF/A-3 requires: no catalogue /Version raising it to 2.0 and no ISO 32002
    # extension (what pyHanko adds for an ECDSA or EdDSA key; the signing key is RSA).
    assert re.match(rb"%PDF-1\.[0-7]\n", signed), signed[:9]
    assert "/Version" not in root or str(root["/Version"]) <= "/1.7", root["/Version"]
    extensions = root["/Extensions"] if "/Extensions" in root else {}  # noqa: SIM401 (.get would not dereference)
    assert not [name for name in extensions if name.startswith("/ISO_")], dict(extensions)


def xmp_and_info_producers(data: bytes, path) -> tuple[str | None, str | None]:
    """The producer as the XMP metadata (``pdf:Producer``) and the information dictionary say."""
    meta = run("pdfinfo", "-meta", path)
    found = re.search(r'pdf:Producer(?:="([^"]*)"|>([^<]*)<)', meta)
    xmp = next(group for group in found.groups() if group is not None) if found else None
    trailer = PdfFileReader(io.BytesIO(data)).trailer_view
    info = trailer["/Info"] if "/Info" in trailer else None  # noqa: SIM401 (.get would not dereference)
    return xmp, (str(info["/Producer"]) if info is not None and "/Producer" in info else None)


def test_the_information_dictionary_agrees_with_the_xmp_before_and_after_signing(pdf_with_credential, written):
    """PDF/A: each entry of the information dictionary is also in the XMP metadata, with the same
    value. pyHanko writes its producer into both when it signs; a WeasyPrint producer left in the
    information dictionary would become "WeasyPrint 70.0; pyHanko 0.38.0" there but "pyHanko
    0.38.0" in the XMP."""
    xmp, info = xmp_and_info_producers(pdf_with_credential, written(pdf_with_credential))
    assert xmp and xmp.startswith("WeasyPrint") and info is None
    signed = signing.pdf_sign(pdf_with_credential)
    xmp, info = xmp_and_info_producers(signed, written(signed, "signed.pdf"))
    assert xmp and xmp == info, (xmp, info)
    fields = PdfFileReader(io.BytesIO(signed)).trailer_view["/Info"]
    meta = run("pdfinfo", "-meta", written(signed, "signed.pdf"))
    for key in ("/Title", "/Subject", "/Keywords", "/Author"):
        assert html.escape(str(fields[key]), quote=False) in meta or str(fields[key]) in meta, key


def test_a_credential_swapped_after_signing_breaks_the_coverage(pdf_with_credential, written):
    """What the signature protects: the embedded file. A copy whose credential is replaced by an
    incremental update is no longer covered by the signature as a whole."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    signed = signing.pdf_sign(pdf_with_credential)
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    spec = writer.root["/AF"][0]
    forged = generic.StreamObject(
        {generic.NameObject("/Type"): generic.NameObject("/EmbeddedFile")}, stream_data=b'{"name": "Forged"}'
    )
    spec["/EF"] = generic.DictionaryObject({generic.NameObject("/F"): writer.add_object(forged)})
    writer.update_container(spec)
    out = io.BytesIO()
    writer.write(out)
    tampered = out.getvalue()
    check = signing.pdf_signature_check(tampered)
    assert check.intact and not check.whole_file, check
    assert "Total document signed" not in run("pdfsig", written(tampered, "tampered.pdf"), check=False)


def test_benchmark_pdfa3_embedding_time_per_certificate():
    """Prints the median CPU time (``time.process_time``: this process's own, so other work on the
    machine counts for little) of 21 interleaved rounds: writing the laid-out certificate as the
    plain tagged PDF 1.4 it was before, as PDF/A-3b, and as PDF/A-3b with the credential embedded;
    and signing the plain and the PDF/A-3b + credential file. Figures only: nothing asserts a time."""
    document = rendering.document_render(rendering.certificate_html({**certificate_context_sample(), "text_size": ""}))
    plain_options = {key: value for key, value in rendering.PDF_OPTIONS.items() if key != "pdf_variant"}
    plain_pdf = document.write_pdf(**plain_options)
    archival_pdf = rendering.pdf_write(document, CREDENTIAL)
    work = {
        "write plain": lambda: document.write_pdf(**plain_options),
        "write PDF/A-3b": lambda: rendering.pdf_write(document),
        "write PDF/A-3b + credential": lambda: rendering.pdf_write(document, CREDENTIAL),
        "sign plain": lambda: signing.pdf_sign(plain_pdf),
        "sign PDF/A-3b + credential": lambda: signing.pdf_sign(archival_pdf),
    }
    times = {name: [] for name in work}
    for task in work.values():
        task()  # warm: the signer loaded, caches filled
    for _ in range(21):
        for name, task in work.items():
            start = time.process_time()
            task()
            times[name].append((time.process_time() - start) * 1000)
    median = {name: statistics.median(values) for name, values in times.items()}
    written = median["write PDF/A-3b + credential"] - median["write plain"]
    signed = median["sign PDF/A-3b + credential"] - median["sign plain"]
    print(
        "\nCPU ms per certificate, median of 21: "
        + ", ".join(f"{name} {value:.2f}" for name, value in median.items())
        + f"; PDF/A-3b + credential ({len(CREDENTIAL)} bytes) adds {written:.2f} ms writing, {signed:.2f} ms"
        f" signing, {written + signed:.2f} ms in all; file {len(plain_pdf)} -> {len(archival_pdf)} bytes"
    )
    assert len(archival_pdf) > len(plain_pdf)
