"""Benchmark of certificates: signed PDFs per second, and 500 completions issued by a real worker.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/academy_bench_certificates \
    REDIS_URL=redis://127.0.0.1:6379/4 python bench/certificates.py [--renders 20] [--learners 500]

1. On one core, in this process, eight learners' certificates of one programme, in turn, rendered
   and signed:
   (a) the naive way: WeasyPrint with a system font (DejaVu Sans), nothing reused (a new font
       configuration, stylesheet and pyHanko ``SimpleSigner`` for each certificate, and pyHanko
       estimating the signature's size with a dry run), and
   (b) the project's way (``certificates.rendering`` + ``certificates.signing``, public APIs only:
       pre-subset bundled fonts, the font configuration, stylesheet and signer loaded once per
       process, PDF 1.4 syntax, which pyHanko reads faster, and ``bytes_reserved``),
   and their ratio (the two take turns, five runs at a time, so that the machine's speed changing
   during the bench weighs on both alike), and (b)'s rendering and signing each timed alone; (c)
   for scale, as many plain paragraphs as the certificate has blocks of text, rendered the
   project's way (what WeasyPrint's layout costs with nothing else on the page).
2. ``--learners`` learners complete at once (achievement_record, as in production); a real
   Celery worker (prefork, concurrency 2) issues them: wall time from the first completion to
   the last certificate issued, and the worker's peak resident memory (main process and each
   pool process, sampled from /proc).

The database named in DATABASE_URL is DROPPED and created again: give it its own name (the
script refuses a name without "bench"). The broker's Redis database is emptied (FLUSHDB of that
one database). Figures are printed, not asserted. Targets: (b) at most 125 ms per signed
certificate and not slower than (a); 500 issued in at most 60 s; worker memory (sum of PSS) at
most 300 MB.
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
    pdf = HTML(string=certificate_html(context)).write_pdf(
        stylesheets=[stylesheet], font_config=font_config, pdf_tags=True
    )
    signer = signers.SimpleSigner.load(
        settings.CERTIFICATE_SIGNING_KEY,
        settings.CERTIFICATE_SIGNING_CERT,
        other_certs=list(load_certs_from_pemder(settings.CERTIFICATE_SIGNING_CHAIN)),
    )
    metadata = signers.PdfSignatureMetadata(field_name="Signature", subfilter=fields.SigSeedSubFilter.PADES)
    return signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), metadata, signer=signer).getvalue()


def project_one(context: dict) -> bytes:
    """What the worker does (``services.certificate_pdf_build``): template, layout, PDF, signature."""
    from certificates.rendering import certificate_pdf_render
    from certificates.signing import pdf_sign

    return pdf_sign(certificate_pdf_render(context), reason="bench")


BLOCK = 5  # runs of one path in a row, before the next path's turn


def time_paths(paths: list[tuple[str, object]], runs: int, unit: str = "signed certificates/s") -> list[float]:
    """Time each ``(label, func)`` ``runs`` times and print and return each one's median in seconds.

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
    medians = []
    for (label, _func), path_times in zip(paths, times, strict=True):
        median = statistics.median(path_times)
        print(
            f"  {label:<44} median {median * 1000:6.1f} ms  mean {statistics.mean(path_times) * 1000:6.1f} ms  "
            f"-> {1 / median:5.1f} {unit}"
        )
        medians.append(median)
    return medians


def time_path(label: str, func, runs: int, unit: str = "signed certificates/s") -> float:
    return time_paths([(label, func)], runs, unit)[0]


def bench_rendering(runs: int) -> None:
    import logging

    logging.disable(logging.INFO)  # WeasyPrint reports every step of every render

    from certificates.rendering import certificate_html, certificate_pdf_render, pdf_render

    print(f"1. Render + sign a certificate, {runs} runs each, one core (this process):")
    if not DEJAVU.exists():
        print(f"  (a) skipped: {DEJAVU} is not installed (apt-get install fonts-dejavu-core)")
        return
    contexts = sample_contexts()
    html = certificate_html(contexts[0])
    css_text = naive_css()
    import weasyprint

    print(f"  WeasyPrint {weasyprint.__version__}; {len(contexts)} learners' certificates in turn:")
    naive, project = time_paths(
        [
            ("(a) naive: system DejaVu, nothing reused", taking_turns(contexts, lambda c: naive_one(c, css_text))),
            ("(b) project: bundled subset font, reused", taking_turns(contexts, project_one)),
        ],
        runs,
    )
    print(f"  ratio (a)/(b): {naive / project:.2f}x   [targets: (b) <= 125 ms, (b) not slower than (a)]")
    from certificates.signing import pdf_sign

    unsigned = certificate_pdf_render(contexts[0])
    render = taking_turns(contexts, certificate_pdf_render)
    time_path("(b) of which rendering alone", render, runs, unit="PDFs/s")
    time_path("(b) of which signing alone", lambda: pdf_sign(unsigned, reason="bench"), runs, unit="signatures/s")
    lines = html.count("<p") + html.count("<h1") + html.count("<h2")
    plain = (
        '<!doctype html><html lang="en-GB"><title>Lines</title><body>'
        + "<p>Hackney spring cohort, run with Hackney Community Voices</p>" * lines
        + "</body></html>"
    )
    time_path(f"(c) scale: {lines} plain paragraphs, unsigned", lambda: pdf_render(plain), runs, unit="PDFs/s")


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
    env.update({"DATABASE_URL": os.environ["DATABASE_URL"], "LOG_LEVEL": "WARNING"})
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--learners", type=int, default=500)
    args = parser.parse_args()
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
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        bench_worker(args.learners)


if __name__ == "__main__":
    main()
