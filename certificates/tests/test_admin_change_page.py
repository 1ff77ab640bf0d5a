"""The certificate's own admin page has Revoke and Reissue buttons that open the same reason
forms as the list's actions (and are audited the same way)."""

import re

from django.urls import reverse

CHANGELIST = reverse("admin:certificates_certificate_changelist")


def _buttons(html):
    return dict(
        re.findall(r'name="action" value="(\w+)">\s*<input type="hidden" name="_selected_action" value="(\d+)"', html)
    )


def test_the_change_page_revokes_through_the_reason_form(admin_client_for_staff, completed_certificate, staff_user):
    url = reverse("admin:certificates_certificate_change", args=[completed_certificate.pk])
    html = admin_client_for_staff.get(url).content.decode()
    assert _buttons(html) == {
        "revoke_action": str(completed_certificate.pk),
        "reissue_action": str(completed_certificate.pk),
    }
    assert "Revoke this certificate…" in html and "Reissue this certificate…" in html
    assert f'action="{CHANGELIST}"' in html
    # The button: the reason form, nothing revoked yet.
    data = {"action": "revoke_action", "_selected_action": completed_certificate.pk}
    form = admin_client_for_staff.post(CHANGELIST, data)
    assert form.status_code == 200 and "Reason for revoking" in form.content.decode()
    completed_certificate.refresh_from_db()
    assert completed_certificate.status == "issued"
    response = admin_client_for_staff.post(CHANGELIST, {**data, "apply": "1", "reason": "Issued in error"})
    assert response.status_code == 302
    completed_certificate.refresh_from_db()
    assert (completed_certificate.status, completed_certificate.revoked_by) == ("revoked", staff_user)
    assert completed_certificate.history.first().history_user == staff_user
    # A revoked certificate's page offers neither button any more.
    assert _buttons(admin_client_for_staff.get(url).content.decode()) == {}


def test_the_reissue_button_opens_the_reissue_reason_form(admin_client_for_staff, completed_certificate):
    data = {"action": "reissue_action", "_selected_action": completed_certificate.pk}
    page = admin_client_for_staff.post(CHANGELIST, data).content.decode()
    assert 'name="reason"' in page and completed_certificate.verification_code in page
