"""The certificates app's part of a person's data export (see ``academy.personal_data``)."""

from academy.personal_data import section, when

from .models import Certificate


@section("certificates")
def certificates(user) -> list[dict]:
    return [
        {
            "programme": c.enrolment.programme.title,
            "cohort": c.enrolment.cohort.name,
            "verification_code": c.verification_code,
            "status": c.status,
            "version": c.version,
            "name_on_certificate": c.learner_name,
            "issued_at": when(c.issued_at),
            "revoked_at": when(c.revoked_at),
        }
        for c in Certificate.objects.filter(enrolment__learner=user).select_related(
            "enrolment__programme", "enrolment__cohort"
        )
    ]
