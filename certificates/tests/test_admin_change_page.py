"""The certificate's own admin page has Revoke and Reissue buttons that open the same reason
forms as the list's actions (and are audited the same way); once the reason is given, the staff
member is back on that certificate's page with the message. The list's actions end on the list."""

import re

from django.contrib.messages import get_messages
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
    assert html.count('name="_from_change_page" value="1"') == 2
    # The button: the reason form, nothing revoked yet; its Cancel goes back to this page.
    data = {"action": "revoke_action", "_selected_action": completed_certificate.pk, "_from_change_page": "1"}
    form = admin_client_for_staff.post(CHANGELIST, data)
    page = form.content.decode()
    assert form.status_code == 200 and "Reason for revoking" in page
    assert 'name="_from_change_page" value="1"' in page
    assert f'<a href="{url}" class="button cancel-link">Cancel</a>' in page
    completed_certificate.refresh_from_db()
    assert completed_certificate.status == "issued"
    # No reason: the form again, still on its way back to the certificate's page.
    again = admin_client_for_staff.post(CHANGELIST, {**data, "apply": "1", "reason": ""}).content.decode()
    assert "This field is required." in again and 'name="_from_change_page" value="1"' in again
    response = admin_client_for_staff.post(CHANGELIST, {**data, "apply": "1", "reason": "Issued in error"})
    assert (response.status_code, response.url) == (302, url)
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["1 certificate revoked."]
    completed_certificate.refresh_from_db()
    assert (completed_certificate.status, completed_certificate.revoked_by) == ("revoked", staff_user)
    assert completed_certificate.history.first().history_user == staff_user
    # A revoked certificate's page offers neither button any more.
    assert _buttons(admin_client_for_staff.get(url).content.decode()) == {}


def test_the_reissue_button_opens_the_reissue_reason_form(admin_client_for_staff, completed_certificate):
    data = {"action": "reissue_action", "_selected_action": completed_certificate.pk}
    page = admin_client_for_staff.post(CHANGELIST, data).content.decode()
    assert 'name="reason"' in page and completed_certificate.verification_code in page


def test_the_reissue_button_ends_on_the_certificate_page_with_the_message(
    admin_client_for_staff, completed_certificate
):
    url = reverse("admin:certificates_certificate_change", args=[completed_certificate.pk])
    data = {"action": "reissue_action", "_selected_action": completed_certificate.pk, "_from_change_page": "1"}
    response = admin_client_for_staff.post(CHANGELIST, {**data, "apply": "1", "reason": "Name corrected"}, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "1 certificate is being reissued." in response.content.decode()
    assert completed_certificate.versions.count() == 1  # the earlier version is kept


def test_the_lists_actions_still_end_on_the_list(
    admin_client_for_staff, completed_certificate, completed_certificate_other
):
    selected = [completed_certificate.pk, completed_certificate_other.pk]
    form = admin_client_for_staff.post(CHANGELIST, {"action": "revoke_action", "_selected_action": selected})
    page = form.content.decode()
    assert 'name="_from_change_page"' not in page
    assert f'<a href="{CHANGELIST}" class="button cancel-link">Cancel</a>' in page
    data = {"action": "revoke_action", "_selected_action": selected, "apply": "1", "reason": "Batch in error"}
    response = admin_client_for_staff.post(CHANGELIST, data)
    assert (response.status_code, response.url) == (302, CHANGELIST)
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["2 certificates revoked."]
    # A crafted flag for several certificates cannot send anyone to one of their pages.
    both = {**data, "action": "reissue_action", "reason": "Again", "_from_change_page": "1"}
    assert admin_client_for_staff.post(CHANGELIST, both).url == CHANGELIST
