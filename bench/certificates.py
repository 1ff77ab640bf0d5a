"""Benchmark of certificates: each stage of issuing one, the whole path against a naive one, and
500 completions issued by a real worker.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/academy_bench_certificates \
    REDIS_URL=redis://127.0.0.1:6379/4 python bench/certificates.py [--renders 30] [--learners 500]

1. On one core, in this process, eight learners' certificates of one programme, in turn (unsaved
   model instances: no database), each path ``--renders`` times after one warm-up run, median and
   p95 printed. Public functions only. The stages of the project's path, each timed alone:
   (0) ``services.certificate_context`` (with its QR code) + ``certificate_printable_check``;
   (a) rendering: ``rendering.certificate_pdf_render(context)``: template, layout (again a size
       smaller if the text runs into the footer), PDF/A-3b, no attachment;
   (b) the credential: ``credentials.credential_build`` + ``credential_sign`` (eddsa-rdfc-2022
       proof: JSON-LD expansion and canonicalisation, Ed25519);
   (c) PDF/A-3 embedding: ``rendering.pdf_write`` of a freshly laid-out page (``document_render``,
       untimed) without and with the credential, in turn, and each pair's difference printed (a
       difference of two noisy times: its p95 is wide);
   (d) PAdES signing: ``signing.pdf_sign`` of a PDF with the credential embedded.
   Then, taking turns five runs at a time (so that the machine's speed changing during the bench
   weighs on both alike), the whole project path (what the worker does: the credential as
   ``services.credential_issue_build`` makes it, less its status-list row insert, then
   ``services.certificate_pdf_build`` and the PDF's hash; no claim, snapshot, storage write or
   finishing update) and the naive render + sign of the same page (WeasyPrint with a system font,
   DejaVu Sans, nothing reused: a new font configuration, stylesheet and pyHanko ``SimpleSigner``
   for each certificate, pyHanko estimating the signature's size with a dry run; no credential),
   and their ratio. For scale, as many plain paragraphs as the certificate has blocks of text.
2. ``--learners`` learners complete at once (achievement_record, as in production); a real
   Celery worker (prefork, concurrency 2) issues them: wall time from the first completion to
   the last certificate issued, and the worker's peak memory (main process and each pool
   process, sampled from /proc).

3. With ``--pkcs11`` (or ``--pkcs11-only``, which skips parts 1 and 2): signing with the keys in a
   PKCS#11 token against the same keys' work done with files, taking turns: ``signing.pdf_sign`` of
   a certificate PDF (RSA-3072 in the token vs an RSA-3072 key file) and ``credential_sign`` of a
   credential (Ed25519 in the token vs a key file). The token is the one the CERTIFICATE_PKCS11_*
   variables name (its keys as they are), else a temporary SoftHSM2 token made here with
   ``create_signing_key --pkcs11``'s helpers (Debian's softhsm2 package). The file path can be
   the slower: pyHanko's ``SimpleSigner`` loads its private key again for every signature, and
   cryptography checks an RSA key as it loads it (hundreds of ms for RSA-3072 on a busy machine),
   while the token's signer keeps a handle to its key.

The database named in DATABASE_URL is DROPPED and created again: give it its own name (the
script refuses a name without "bench"). The broker's Redis database is emptied (FLUSHDB of that
one database). Figures are printed, not asserted. Targets: the whole path at most 1.5 x the
naive one (medians); 500 issued in at most 60 s; worker memory (sum of PSS) at most 300 MB.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings")

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def setup_environment(workdir: Path) -> None:
    """Key pairs (PAdES and credential) and media folder in a temporary folder; must run before
    Django is set up."""
    from certificates.keys import credential_key_create, development_keys_create

    keys = development_keys_create(workdir / "keys")
    os.environ["CERTIFICATE_CREDENTIAL_KEY"] = str(credential_key_create(workdir / "keys" / "credential-key.pem"))
    os.environ["CERTIFICATE_SIGNING_KEY"] = str(keys.signing_key)
    os.environ["CERTIFICATE_SIGNING_CERT"] = str(keys.signing_cert)
    os.environ["CERTIFICATE_SIGNING_CHAIN"] = str(keys.ca_cert)
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ["EMAIL_URL"] = "dummymail://"
    os.environ.setdefault("LOG_LEVEL", "WARNING")


LEARNERS = (
    "Zoë Ó'Brien-Łukasz",
    "Amina Yusuf",
    "Tomasz Wiśniewski",
    "Grace O'Connell",
    "Mohammed Al-Khatib",
    "Siobhán Ní Bhriain",
    "Chidi Okonkwo",
    "Eleanor Fitzgerald-Hughes",
)


def sample_contexts() -> list[dict]:
    """Certificates of one programme for several learners: each its own name, verification code
    and QR code, as a worker issuing a cohort's certificates meets them."""
    from certificates.tests.samples import learner_certificate_context
    from demo.data import CORE_DOMAINS

    # The demo Academy's core domains (seed_demo) and one course-specific domain.
    competencies = [{"domain": name} for name, _about, _statements in CORE_DOMAINS] + [{"domain": "Peer interviewing"}]
    return [learner_certificate_context(name, competencies=competencies) for name in LEARNERS]


def taking_turns(contexts: list[dict], func):
    """``func`` of the next context at each call, round and round."""
    turns = itertools.cycle(contexts)
    return lambda: func(next(turns))


def naive_css() -> str:
    """The project's print stylesheet with its bundled @font-face rules swapped for DejaVu Sans."""
    css = (ROOT / "static" / "certificates" / "certificate.css").read_text()
    css = re.sub(r"@font-face\s*\{[^}]*\}", "", css)
    return re.sub(r"font-family:[^;]*;", 'font-family: "DejaVu Sans";', css)


def naive_one(context: dict, css_text: str) -> bytes:
    """Render and sign with nothing reused and the system font (what a first attempt does)."""
    import io

    from django.conf import settings
    from pyhanko.keys import load_certs_from_pemder
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from certificates.rendering import certificate_html

    font_config = FontConfiguration()
    stylesheet = CSS(string=css_text, font_config=font_config)
    base_url = (ROOT / "static" / "certificates").resolve().as_uri() + "/"  # the crest, as the page has it
    pdf = HTML(string=certificate_html(context), base_url=base_url).write_pdf(
        stylesheets=[stylesheet], font_config=font_config, pdf_tags=True
    )
    signer = signers.SimpleSigner.load(
        settings.CERTIFICATE_SIGNING_KEY,
        settings.CERTIFICATE_SIGNING_CERT,
        other_certs=list(load_certs_from_pemder(settings.CERTIFICATE_SIGNING_CHAIN)),
    )
    metadata = signers.PdfSignatureMetadata(field_name="Signature", subfilter=fields.SigSeedSubFilter.PADES)
    return signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), metadata, signer=signer).getvalue()


def sample_certificates() -> list:
    """The same learners' certificates as unsaved model instances (no database): a completed
    enrolment of one programme, cohort and partner each, snapshots filled in as issuing fills them,
    so that the services' public functions take them as the worker's rows."""
    from django.utils import timezone

    from academy.models import User
    from certificates.models import Certificate
    from partners.models import PartnerOrganisation
    from programmes.models import Cohort, Enrolment, Programme

    programme = Programme(
        pk=1,
        title="Lived Experience of Poverty",
        summary="A programme of citizen social science, run with community partners.",
        signatory_name="Professor Ada Example",
        signatory_title="Director, Citizen Science Academy",
    )
    partner = PartnerOrganisation(pk=1, name="Hackney Community Voices")
    cohort = Cohort(pk=1, name="Hackney spring cohort", programme=programme, partner=partner)
    certificates = []
    for number, context in enumerate(sample_contexts(), start=1):
        sample = context["certificate"]
        learner = User(pk=number, email=f"learner{number}@example.org", full_name=sample.learner_name)
        enrolment = Enrolment(
            pk=number, learner=learner, cohort=cohort, programme=programme, status=Enrolment.Status.COMPLETED
        )
        certificates.append(
            Certificate(
                pk=number,
                enrolment=enrolment,
                verification_code=sample.verification_code,
                status=Certificate.Status.ISSUED,
                learner_name=sample.learner_name,
                programme_title=programme.title,
                cohort_name=cohort.name,
                partner_name=partner.name,
                competencies=[{**d, "core": True, "competencies": ["A statement"]} for d in sample.competencies],
                version=1,
                issued_at=timezone.now(),
            )
        )
    return certificates


def credential_signed(certificate) -> dict:
    """What ``services.credential_issue_build`` does, but for the database: the index of the
    revocation list is drawn at random here instead of handed out by ``status_entry_allocate``
    (a row insert in a short transaction of its own, left out)."""
    import secrets

    from certificates.credentials import credential_build, credential_key, credential_sign
    from certificates.models import STATUS_LIST_SIZE
    from certificates.status_list import status_entry_document

    status = status_entry_document(list_id=1, index=secrets.randbelow(STATUS_LIST_SIZE))
    return credential_sign(
        credential_build(certificate, status_entry=status), key=credential_key(), created=certificate.issued_at
    )


def project_whole(certificate) -> bytes:
    """The worker's issuing work on one certificate, public functions only, without the database:
    the credential (``credential_signed``), set on the instance with its hash as
    ``credential_issue_build`` sets it, then ``services.certificate_pdf_build`` (context with QR
    code, printable check, render with the credential embedded, PAdES signature) and the PDF's hash.
    Left out: the claim, snapshot and finishing updates, and the storage write."""
    import hashlib

    from certificates.services import certificate_pdf_build, credential_bytes

    credential = credential_signed(certificate)
    certificate.credential = credential
    certificate.credential_sha256 = hashlib.sha256(credential_bytes(credential)).hexdigest()
    signed = certificate_pdf_build(certificate=certificate)
    hashlib.sha256(signed).hexdigest()
    return signed


BLOCK = 5  # runs of one path in a row, before the next path's turn


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]


def time_paths(paths: list[tuple[str, object]], runs: int, unit: str = "signed certificates/s") -> list[list[float]]:
    """Time each ``(label, func)`` ``runs`` times after one warm-up call each; print each one's
    median and p95 and return every path's times in seconds, in the order they were taken.

    The paths take turns in blocks of ``BLOCK`` runs: within a block a path runs as a worker runs
    it, one certificate after another (a naive certificate run between two of the project's leaves
    the processor's caches full of its own data and slows the next one by 1 to 3 ms), while a
    change in the machine's speed during the bench still weighs on every path alike."""
    for _label, func in paths:
        func()  # warm-up: imports, first font load
    times: list[list[float]] = [[] for _ in paths]
    while len(times[0]) < runs:
        for (_label, func), path_times in zip(paths, times, strict=True):
            for _ in range(min(BLOCK, runs - len(path_times))):
                start = time.perf_counter()
                func()
                path_times.append(time.perf_counter() - start)
    for (label, _func), path_times in zip(paths, times, strict=True):
        print_times(label, path_times, unit)
    return times


def print_times(label: str, values: list[float], unit: str | None = None) -> None:
    median = statistics.median(values)
    rate = f"  -> {1 / median:5.1f} {unit}" if unit and median > 0 else ""
    print(f"  {label:<56} median {median * 1000:6.1f} ms  p95 {p95(values) * 1000:6.1f} ms{rate}")


def bench_rendering(runs: int) -> None:
    import logging

    logging.disable(logging.INFO)  # WeasyPrint reports every step of every render

    import weasyprint

    from certificates.rendering import certificate_html, certificate_pdf_render, document_render, pdf_render, pdf_write
    from certificates.services import certificate_context, certificate_printable_check, credential_bytes
    from certificates.signing import pdf_sign

    print(f"1. One certificate at a time, one core (this process), {runs} runs of each after a warm-up:")
    if not DEJAVU.exists():
        print(f"  skipped: the naive path needs {DEJAVU} (apt-get install fonts-dejavu-core)")
        return
    certificates = sample_certificates()
    contexts = [certificate_context(c) for c in certificates]
    credentials = [credential_bytes(credential_signed(c)) for c in certificates]
    pairs = list(zip(contexts, credentials, strict=True))
    print(
        f"  WeasyPrint {weasyprint.__version__}; {len(certificates)} learners' certificates of one programme in turn; "
        f"credential {len(credentials[0]):,} bytes of JSON"
    )

    print("  Stages of the project's path (each timed alone):")

    def context_stage(certificate):
        certificate_printable_check(certificate_context(certificate))

    (context_times,) = time_paths(
        [("(0) context + QR code + printable check", taking_turns(certificates, context_stage))], runs, None
    )
    (render_times,) = time_paths(
        [("(a) rendering: template, layout, PDF/A-3, no attachment", taking_turns(contexts, certificate_pdf_render))],
        runs,
        "PDFs/s",
    )
    # (c): only the writing of the PDF is timed, each time of a page freshly laid out (untimed) by
    # document_render: pdf_write without and with the credential, run by run in turn, and each
    # pair's difference printed: what embedding costs (the attachment, its file specification and
    # /AF, written and compressed). Timing whole renders with and without would bury a few
    # milliseconds in the layout's noise; writing one laid-out page twice would not do either:
    # WeasyPrint's first write of a document costs more than the next.
    pages = itertools.cycle(pairs)
    pdf_write(document_render(certificate_html(contexts[0])), credentials[0])  # warm-up
    without: list[float] = []
    with_credential: list[float] = []
    for _ in range(runs):
        context, credential = next(pages)
        for credential_json, times in ((None, without), (credential, with_credential)):
            document = document_render(certificate_html(context))
            start = time.perf_counter()
            pdf_write(document, credential_json)
            times.append(time.perf_counter() - start)
    print_times("    pdf_write of a freshly laid-out page, no attachment", without)
    print_times("    pdf_write of a freshly laid-out page, credential in", with_credential)
    embedding_times = [b - a for a, b in zip(without, with_credential, strict=True)]
    print_times("(c) PDF/A-3 embedding: with minus without, pairwise", embedding_times)
    (credential_times,) = time_paths(
        [("(b) credential: credential_build + credential_sign", taking_turns(certificates, credential_signed))],
        runs,
        "credentials/s",
    )
    embedded_pdf = certificate_pdf_render(contexts[0], credential_json=credentials[0])
    (signing_times,) = time_paths(
        [("(d) PAdES signing: pdf_sign of the embedded PDF", lambda: pdf_sign(embedded_pdf, reason="bench"))],
        runs,
        "signatures/s",
    )

    stages = [context_times, render_times, embedding_times, credential_times, signing_times]
    print(f"  sum of the stages' medians (0)+(a)+(b)+(c)+(d): {sum(map(statistics.median, stages)) * 1000:.1f} ms")
    print("  Whole path against the naive render + sign of the same page (taking turns):")
    css_text = naive_css()
    naive, whole = time_paths(
        [
            (
                "naive: render + sign, system DejaVu, nothing reused",
                taking_turns(contexts, lambda c: naive_one(c, css_text)),
            ),
            ("whole project path: (0) + (b) + render with (c) + (d)", taking_turns(certificates, project_whole)),
        ],
        runs,
    )
    ratio = statistics.median(whole) / statistics.median(naive)
    verdict = "met" if ratio <= 1.5 else "NOT met"
    print(f"  ratio whole / naive (medians): {ratio:.2f}x   [target <= 1.5x: {verdict}]")
    html = certificate_html(contexts[0])
    lines = html.count("<p") + html.count("<h1") + html.count("<h2")
    plain = (
        '<!doctype html><html lang="en-GB"><title>Lines</title><body>'
        + "<p>Hackney spring cohort, run with Hackney Community Voices</p>" * lines
        + "</body></html>"
    )
    time_paths([(f"for scale: {lines} plain paragraphs, unsigned", lambda: pdf_render(plain))], runs, "PDFs/s")


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in KiB. PSS shares pages common to forked processes fairly, so
    PSS values add up to real memory; RSS values count shared pages in every process."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0, 0
    values = {line.split(":")[0]: int(line.split()[1]) for line in rollup if line.endswith("kB")}
    return values.get("Rss", 0), values.get("Pss", 0)


def bench_worker(learners: int) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from academy.tests.factories import UserFactory
    from certificates.models import Certificate
    from partners.tests.factories import PartnerOrganisationFactory
    from programmes.models import Enrolment
    from programmes.services import achievements_record
    from programmes.tests.factories import (
        CohortFactory,
        CompetencyFactory,
        CoreDomainFactory,
        CourseDomainFactory,
        ProgrammeFactory,
    )
    from tests.support.workers import celery_worker_process, redis_flushdb

    if learners <= 0:
        return
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL:
        print("2. skipped: needs DATABASE_URL (PostgreSQL) and REDIS_URL (the worker's broker).")
        return
    print(f"2. {learners} learners complete at once; a real worker (prefork, concurrency 2) issues them:")
    call_command("migrate", verbosity=0)
    redis_flushdb(settings.CELERY_BROKER_URL)
    partner = PartnerOrganisationFactory()
    programme = ProgrammeFactory(partners=[partner])
    domains = [CoreDomainFactory(), CoreDomainFactory(), CourseDomainFactory(programme=programme)]
    competencies = [CompetencyFactory(domain=d) for d in domains for _ in range(2)]
    cohort = CohortFactory(programme=programme, partner=partner, capacity=learners)
    staff = UserFactory(staff=True)
    users = [UserFactory.build(email=f"bench{i}@example.org", full_name=f"Łucja Ó'Bench {i}") for i in range(learners)]
    type(users[0]).objects.bulk_create(users)
    users = list(type(users[0]).objects.filter(email__startswith="bench").order_by("id"))
    Enrolment.objects.bulk_create(
        [Enrolment(learner=u, cohort=cohort, programme=programme, status=Enrolment.Status.ACTIVE) for u in users]
    )
    enrolments = list(Enrolment.objects.filter(cohort=cohort))
    for enrolment in enrolments:  # all but the last competency: completion is one step away
        achievements_record(enrolment=enrolment, competencies=competencies[:-1], recorded_by=staff)

    env = {key: os.environ[key] for key in os.environ if key.startswith(("CERTIFICATE_", "MEDIA_", "EMAIL_"))}
    # INFO for the worker: the helper waits for its "ready." line (this process logs at WARNING).
    env.update({"DATABASE_URL": os.environ["DATABASE_URL"], "LOG_LEVEL": "INFO"})
    with celery_worker_process(env=env, concurrency=2) as worker:
        peaks: dict[int, int] = {}
        total_pss = [0]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                pss_now = 0
                for pid in [worker.pid, *worker.child_pids()]:
                    rss, pss = memory_kib(pid)
                    peaks[pid] = max(peaks.get(pid, 0), rss)
                    pss_now += pss
                total_pss[0] = max(total_pss[0], pss_now)
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.perf_counter()
        for enrolment in enrolments:
            achievements_record(enrolment=enrolment, competencies=competencies[-1:], recorded_by=staff)
        enqueued = time.perf_counter() - start
        deadline = start + 600
        issued = 0
        while time.perf_counter() < deadline:
            issued = Certificate.objects.filter(status=Certificate.Status.ISSUED).count()
            if issued >= learners:
                break
            time.sleep(0.25)
        wall = time.perf_counter() - start
        stop.set()
        sampler.join()
    failed = Certificate.objects.filter(status=Certificate.Status.FAILED).count()
    main_peak = peaks.get(worker.pid, 0)
    child_peaks = sorted((v for k, v in peaks.items() if k != worker.pid), reverse=True)
    print(f"  completions recorded (and tasks enqueued) in {enqueued:.1f} s")
    print(f"  {issued}/{learners} issued ({failed} failed) in {wall:.1f} s wall  [target <= 60 s]")
    print(f"  throughput {issued / wall:.1f} certificates/s with 2 pool processes")
    print(
        f"  worker peak RSS: main {main_peak / 1024:.0f} MB, pool processes "
        f"{', '.join(f'{v / 1024:.0f}' for v in child_peaks[:2])} MB, "
        f"sum {(main_peak + sum(child_peaks[:2])) / 1024:.0f} MB (shared pages counted in each)"
    )
    print(f"  worker peak memory, all processes (sum of PSS): {total_pss[0] / 1024:.0f} MB  [target <= 300 MB]")
    redis_flushdb(settings.CELERY_BROKER_URL)


def pkcs11_token_setup(workdir: Path) -> tuple[str, str, str]:
    """The token of part 3 (after Django is set up): the one the CERTIFICATE_PKCS11_* settings
    name, else a temporary SoftHSM2 token with development keys, named in this process's settings
    only (so a worker of part 2 still signs with the key files). Returns what it is (for the
    printout) and the labels of its PDF and credential keys."""
    from django.conf import settings

    from certificates import pkcs11

    if settings.CERTIFICATE_PKCS11_MODULE:
        return (
            f"token {settings.CERTIFICATE_PKCS11_TOKEN_LABEL} of {settings.CERTIFICATE_PKCS11_MODULE}",
            settings.CERTIFICATE_PKCS11_KEY_LABEL,
            settings.CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL,
        )
    module = pkcs11.softhsm_module()
    if module is None:
        return "", "", ""
    folder = workdir / "softhsm"
    (folder / "tokens").mkdir(parents=True)
    (folder / "softhsm2.conf").write_text(
        f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(folder / "softhsm2.conf")
    config = pkcs11.TokenSettings(module=module, token_label="bench", pin="246810")
    pkcs11.softhsm_token_initialise("bench", pin=config.pin, so_pin="13579135")
    made = pkcs11.development_token_keys_create(
        config, directory=workdir / "keys", key_label="bench-signing", credential_key_label="bench-credential"
    )
    settings.CERTIFICATE_PKCS11_MODULE = module
    settings.CERTIFICATE_PKCS11_TOKEN_LABEL = "bench"
    settings.CERTIFICATE_PKCS11_PIN = config.pin
    return f"a temporary SoftHSM2 token ({module})", made.key_label, made.credential_key_label


def bench_pkcs11(runs: int, token: tuple[str, str, str]) -> None:
    """Part 3: the same signatures with the token's keys and with key files, taking turns."""
    import logging

    logging.disable(logging.INFO)
    from django.conf import settings

    from certificates import credentials, pkcs11
    from certificates.rendering import certificate_pdf_render
    from certificates.services import certificate_context, credential_bytes
    from certificates.signing import pdf_sign

    description, key_label, credential_label = token
    print(
        f"3. Keys in a PKCS#11 token ({description or 'none'}) against key files, {runs} runs of each after a warm-up:"
    )
    if not (description and key_label):
        print("  skipped: no CERTIFICATE_PKCS11_MODULE/_KEY_LABEL and no SoftHSM2 here (apt-get install softhsm2)")
        return
    certificate = sample_certificates()[0]
    settings.CERTIFICATE_PKCS11_KEY_LABEL = settings.CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL = ""
    credential = credential_signed(certificate)
    unsigned = certificate_pdf_render(certificate_context(certificate), credential_json=credential_bytes(credential))
    unsigned_credential = {k: v for k, v in credential.items() if k != "proof"}
    file_key = credentials.credential_key()  # the file: no credential key label set
    token_key = None
    if credential_label:
        settings.CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL = credential_label
        token_key = credentials.credential_key()
        settings.CERTIFICATE_PKCS11_CREDENTIAL_KEY_LABEL = ""

    def key_label_set(value: str, func):
        def run():
            settings.CERTIFICATE_PKCS11_KEY_LABEL = value
            return func()

        return run

    file_pdf, token_pdf = time_paths(
        [
            ("PAdES signature, RSA-3072 key file", key_label_set("", lambda: pdf_sign(unsigned))),
            (
                f"PAdES signature, RSA-3072 in the token ({key_label})",
                key_label_set(key_label, lambda: pdf_sign(unsigned)),
            ),
        ],
        runs,
        "signatures/s",
    )
    settings.CERTIFICATE_PKCS11_KEY_LABEL = ""
    print(
        f"  token minus file: {(statistics.median(token_pdf) - statistics.median(file_pdf)) * 1000:+.1f} ms per PDF signature (medians)"
    )
    if token_key is None:
        print("  credential: the token has no Ed25519 key named; the credential key stays a file")
    else:
        file_credential, token_credential = time_paths(
            [
                (
                    "credential proof (eddsa-rdfc-2022), Ed25519 key file",
                    lambda: credentials.credential_sign(unsigned_credential, key=file_key),
                ),
                (
                    f"credential proof, Ed25519 in the token ({credential_label})",
                    lambda: credentials.credential_sign(unsigned_credential, key=token_key),
                ),
            ],
            runs,
            "credentials/s",
        )
        extra = (statistics.median(token_credential) - statistics.median(file_credential)) * 1000
        print(f"  token minus file: {extra:+.1f} ms per credential proof (medians)")
    print(f"  PKCS#11 sessions opened by this process: {pkcs11.sessions_opened()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=30)
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--pkcs11", action="store_true", help="Also part 3: signing with keys in a PKCS#11 token.")
    parser.add_argument("--pkcs11-only", action="store_true", help="Only part 3.")
    args = parser.parse_args()
    if args.pkcs11_only:
        with tempfile.TemporaryDirectory(prefix="bench-certificates-") as workdir:
            setup_environment(Path(workdir))
            import django

            django.setup()
            token = pkcs11_token_setup(Path(workdir))
            if hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
            bench_pkcs11(args.renders, token)
        return
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        from benchdb import recreate_database

        recreate_database(os.environ["DATABASE_URL"])
    else:
        print("DATABASE_URL is not PostgreSQL: part 2 will be skipped.")
    with tempfile.TemporaryDirectory(prefix="bench-certificates-") as workdir:
        setup_environment(Path(workdir))
        import django

        django.setup()
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core for part 1
        bench_rendering(args.renders)
        if args.pkcs11:
            bench_pkcs11(args.renders, pkcs11_token_setup(Path(workdir)))
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        bench_worker(args.learners)


if __name__ == "__main__":
    main()
