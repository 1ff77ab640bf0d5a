"""The weekly count of verification look-ups: counted in one upsert, nothing personal stored, and a
failure to count never breaks the verification."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.urls import reverse

from certificates import lookup_counts
from certificates.lookup_counts import lookup_record, week_starting
from certificates.models import VerificationLookupCount
from certificates.selectors import verification_counts_per_week

Kind = VerificationLookupCount.Kind


def test_week_starts_on_monday():
    assert week_starting(datetime.date(2026, 12, 2)) == datetime.date(2026, 11, 30)  # a Wednesday
    assert week_starting(datetime.date(2026, 11, 30)) == datetime.date(2026, 11, 30)
    assert week_starting(datetime.date(2026, 12, 6)) == datetime.date(2026, 11, 30)  # Sunday


def test_look_ups_add_up_per_week_and_kind(db, django_assert_max_num_queries):
    wednesday, next_week = datetime.date(2026, 12, 2), datetime.date(2026, 12, 8)
    with django_assert_max_num_queries(3):  # the upsert, inside this test's savepoint
        lookup_record(Kind.VERIFY_PAGE, today=wednesday)
    lookup_record(Kind.VERIFY_PAGE, today=wednesday + datetime.timedelta(days=1))
    lookup_record(Kind.FILE_CHECK, today=wednesday)
    lookup_record(Kind.VERIFY_PAGE, today=next_week)
    assert VerificationLookupCount.objects.count() == 3
    with django_assert_max_num_queries(1):
        weeks = verification_counts_per_week(datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))
    assert weeks == [
        {"week_starting": datetime.date(2026, 11, 30), "verify_page": 2, "credential_json": 0, "file_check": 1},
        {"week_starting": datetime.date(2026, 12, 7), "verify_page": 1, "credential_json": 0, "file_check": 0},
    ]
    assert verification_counts_per_week(datetime.date(2027, 1, 1), datetime.date(2027, 2, 1)) == []


def test_the_counter_stores_only_week_kind_and_count():
    fields = {f.name for f in VerificationLookupCount._meta.get_fields()}
    assert fields == {"id", "week_starting", "kind", "count"}


def test_the_verification_page_and_the_credential_are_counted(client, completed_certificate):
    code = completed_certificate.verification_code
    assert client.get(reverse("certificates:verify", kwargs={"code": code})).status_code == 200
    assert client.get(reverse("certificates:verify", kwargs={"code": "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ"})).status_code == 404
    client.get(reverse("certificates:credential_json", kwargs={"code": code}))
    counts = dict(VerificationLookupCount.objects.values_list("kind", "count"))
    assert counts == {"verify_page": 2, "credential_json": 1}
    row = VerificationLookupCount.objects.get(kind="verify_page")
    assert code not in str(row.__dict__)


def test_a_file_check_is_counted(client, db):
    upload = SimpleUploadedFile("x.pdf", b"%PDF-1.7 not really", content_type="application/pdf")
    response = client.post(reverse("certificates:file_check"), {"file": upload})
    assert response.status_code == 200
    assert VerificationLookupCount.objects.get(kind="file_check").count == 1


def test_a_failure_to_count_does_not_break_verification(client, completed_certificate, monkeypatch, caplog):
    class BrokenConnection:
        """Stands in for the database connection only inside the counter's module."""

        in_atomic_block = False
        ops = lookup_counts.connection.ops

        def cursor(self):
            raise DatabaseError("the database is gone")

    monkeypatch.setattr(lookup_counts, "connection", BrokenConnection())
    response = client.get(reverse("certificates:verify", kwargs={"code": completed_certificate.verification_code}))
    assert response.status_code == 200
    assert "was not counted" in caplog.text


@pytest.mark.parametrize("kind", Kind.values)
def test_every_kind_can_be_counted(db, kind):
    lookup_record(kind)
    assert VerificationLookupCount.objects.get(kind=kind).count == 1
