"""The W3C Bitstring Status List: encoding by the specification's rules, random indices never
reused, revocation and reissue setting bits in the certificate's own transaction, and the signed
list served with ETag, 304 and Cache-Control."""

import base64
import gzip
import json
import time

import pytest
from django.db import transaction
from django.urls import reverse

from certificates import services, status_list
from certificates.credentials import credential_terms_check, credential_verify, did_web
from certificates.models import STATUS_LIST_SIZE, Certificate, StatusList, StatusListEntry

pytestmark = pytest.mark.django_db


def spec_decode_bit(encoded: str, index: int) -> bool:
    """Written from the specification, not from our code: strip the multibase "u", base64url-decode
    (padding restored), gunzip, read bit ``index`` counting from the left-most bit of byte 0."""
    assert encoded[0] == "u"
    body = encoded[1:]
    assert "=" not in body
    raw = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return (raw[index // 8] >> (7 - index % 8)) & 1 == 1


def test_encoding_round_trip_follows_the_specification():
    bits = status_list.bitstring_new(STATUS_LIST_SIZE)
    for index in (0, 7, 8, 1000, STATUS_LIST_SIZE - 1):
        bits = status_list.bit_set(bits, index)
    encoded = status_list.encode(bits)
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded and "/" not in encoded
    assert bits[0] == 0b1000_0001  # index 0 is the left-most bit of the first byte, 7 its right-most
    for index in (0, 7, 8, 1000, STATUS_LIST_SIZE - 1):
        assert spec_decode_bit(encoded, index)
    for index in (1, 6, 9, 999, 1001, STATUS_LIST_SIZE - 2):
        assert not spec_decode_bit(encoded, index)
    assert status_list.decode(encoded) == bits
    assert len(status_list.decode(encoded)) * 8 == STATUS_LIST_SIZE
    assert status_list.bit_get(status_list.bit_set(bits, 0, False), 0) is False


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "zabc",
        "u!!!",
        "u",
        "u" + base64.urlsafe_b64encode(gzip.compress(b"")).decode(),
        "u" + base64.urlsafe_b64encode(b"not gzip").decode().rstrip("="),
    ],
)
def test_decode_refuses_what_is_not_an_encoded_list(bad):
    with pytest.raises(status_list.StatusListError):
        status_list.decode(bad)


def test_index_outside_the_list_is_refused():
    with pytest.raises(status_list.StatusListError):
        status_list.bit_set(bytes(2), 16)


def test_indices_are_random_unique_and_never_handed_out_again(completed_certificate, monkeypatch):
    first = completed_certificate.status_entry
    assert first is not None and first.status_list.size >= STATUS_LIST_SIZE
    entries = [services.status_entry_allocate(certificate=completed_certificate) for _ in range(40)]
    indices = [e.index for e in entries] + [first.index]
    assert len(set(indices)) == len(indices)
    assert max(indices) > 1000  # random over the whole list, not 0, 1, 2 ...
    # A collision (the random choice hits an index in use) tries another one: never a reuse.
    taken = [first.index, entries[0].index]
    draws = iter([*taken, 12345 if 12345 not in indices else 54321])
    monkeypatch.setattr(services.secrets, "randbelow", lambda n: next(draws))
    again = services.status_entry_allocate(certificate=completed_certificate)
    assert again.index not in indices
    assert StatusListEntry.objects.filter(status_list=first.status_list, index=first.index).count() == 1


def test_a_crowded_list_hands_out_a_free_index_then_moves_to_a_new_list(completed_certificate, monkeypatch):
    full_list = completed_certificate.status_entry.status_list
    monkeypatch.setattr(services.secrets, "randbelow", lambda n: completed_certificate.status_entry.index)
    entry = services.status_entry_allocate(certificate=completed_certificate)
    assert entry.status_list == full_list and entry.index != completed_certificate.status_entry.index
    # Every index used: the list is marked full and a new list takes the entry.
    used = set(StatusListEntry.objects.filter(status_list=full_list).values_list("index", flat=True))
    StatusListEntry.objects.bulk_create(
        StatusListEntry(status_list=full_list, index=i, certificate=completed_certificate, certificate_version=1)
        for i in range(full_list.size)
        if i not in used
    )
    entry = services.status_entry_allocate(certificate=completed_certificate)
    assert entry.status_list != full_list
    assert StatusList.objects.get(pk=full_list.pk).full


def test_revoking_sets_the_bit_in_the_same_transaction(completed_certificate, staff_user):
    entry = completed_certificate.status_entry
    version = entry.status_list.version

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        services.certificate_revoke(certificate=completed_certificate, revoked_by=staff_user, reason="Fraud")
        assert status_list.bit_get(bytes(StatusList.objects.get(pk=entry.status_list_id).bits), entry.index)
        raise Abort  # a later step fails: the revocation and the bit roll back together
    status = StatusList.objects.get(pk=entry.status_list_id)
    assert not status_list.bit_get(bytes(status.bits), entry.index) and status.version == version
    assert Certificate.objects.get(pk=completed_certificate.pk).status == Certificate.Status.ISSUED

    services.certificate_revoke(certificate=completed_certificate, revoked_by=staff_user, reason="Fraud")
    status = StatusList.objects.get(pk=entry.status_list_id)
    assert status_list.bit_get(bytes(status.bits), entry.index) and status.version == version + 1
    assert sum(bin(b).count("1") for b in bytes(status.bits)) == 1


def test_reissue_revokes_the_old_credential_and_the_new_one_gets_a_new_index(
    completed_certificate, staff_user, django_capture_on_commit_callbacks
):
    old_entry = completed_certificate.status_entry
    old_credential = completed_certificate.credential
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_reissue(certificate=completed_certificate, reissued_by=staff_user, reason="Name")
    certificate = Certificate.objects.get(pk=completed_certificate.pk)
    assert certificate.status == Certificate.Status.ISSUED and certificate.version == 2
    assert certificate.status_entry_id != old_entry.pk
    assert certificate.status_entry.index != old_entry.index or certificate.status_entry.status_list_id != (
        old_entry.status_list_id
    )
    assert certificate.credential["id"] != old_credential["id"]
    assert certificate.credential["credentialStatus"]["statusListIndex"] == str(certificate.status_entry.index)
    version = certificate.versions.get()
    assert version.credential == old_credential and version.status_entry_id == old_entry.pk
    bits = bytes(StatusList.objects.get(pk=old_entry.status_list_id).bits)
    assert status_list.bit_get(bits, old_entry.index)
    new_bits = bytes(StatusList.objects.get(pk=certificate.status_entry.status_list_id).bits)
    assert not status_list.bit_get(new_bits, certificate.status_entry.index)
    assert credential_verify(certificate.credential).valid


def test_the_list_endpoint_serves_a_signed_status_list_credential(client, completed_certificate, staff_user):
    entry = completed_certificate.status_entry
    services.certificate_revoke(certificate=completed_certificate, revoked_by=staff_user, reason="Fraud")
    url = reverse("certificates:status_list", kwargs={"list_id": entry.status_list_id})
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+ld+json"
    assert "public" in response["Cache-Control"]
    max_age = int(response["Cache-Control"].split("max-age=")[1].split(",")[0])
    assert 0 < max_age <= 300
    document = json.loads(response.content)
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["id"] == completed_certificate.credential["credentialStatus"]["statusListCredential"]
    assert document["issuer"] == did_web()
    subject = document["credentialSubject"]
    assert subject["id"] == document["id"] + "#list"
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert subject["ttl"] == max_age * 1000
    assert spec_decode_bit(subject["encodedList"], entry.index)
    assert len(status_list.decode(subject["encodedList"])) * 8 >= 131072
    assert "validFrom" in document
    credential_terms_check(document)  # every term defined by the VC v2 context
    assert credential_verify(document).valid
    tampered = {**document, "credentialSubject": {**subject, "encodedList": status_list.encode(bytes(16384))}}
    assert not credential_verify(tampered).valid


def test_the_list_endpoint_answers_304_and_its_etag_changes_with_a_revocation(
    client, completed_certificate, staff_user, django_assert_max_num_queries
):
    url = reverse("certificates:status_list", kwargs={"list_id": completed_certificate.status_entry.status_list_id})
    with django_assert_max_num_queries(2):
        first = client.get(url)
    etag = first["ETag"]
    with django_assert_max_num_queries(2):
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    services.certificate_revoke(certificate=completed_certificate, revoked_by=staff_user, reason="Fraud")
    second = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert second.status_code == 200 and second["ETag"] != etag  # a cached copy cannot go stale
    index = completed_certificate.status_entry.index
    assert spec_decode_bit(json.loads(second.content)["credentialSubject"]["encodedList"], index)
    assert not spec_decode_bit(json.loads(first.content)["credentialSubject"]["encodedList"], index)


def test_an_unknown_list_is_404_and_a_missing_key_is_503(client, completed_certificate, settings, tmp_path):
    assert client.get(reverse("certificates:status_list", kwargs={"list_id": 999999})).status_code == 404
    settings.CERTIFICATE_CREDENTIAL_KEY = str(tmp_path / "missing.pem")
    url = reverse("certificates:status_list", kwargs={"list_id": completed_certificate.status_entry.status_list_id})
    response = client.get(url)
    assert response.status_code == 503 and response["Cache-Control"] == "no-store"


def test_status_list_endpoint_timing(client, completed_certificate, settings):
    """Benchmark (prints figures): the list endpoint signed afresh (no cache) and from the cache."""
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    url = reverse("certificates:status_list", kwargs={"list_id": completed_certificate.status_entry.status_list_id})
    client.get(url)
    runs = 20
    start = time.perf_counter()
    for _ in range(runs):
        assert client.get(url).status_code == 200
    uncached = (time.perf_counter() - start) / runs * 1000
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    client.get(url)
    start = time.perf_counter()
    for _ in range(runs):
        assert client.get(url).status_code == 200
    cached = (time.perf_counter() - start) / runs * 1000
    print(f"\nstatus list endpoint: {uncached:.1f} ms signed per request, {cached:.1f} ms from the cache")
