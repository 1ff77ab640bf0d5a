"""The accounts' hook: the one explicit place other apps learn that an invited person joined.

``invitation_accepted`` is sent by ``academy.services.learner_invitation_accept`` inside the
transaction that sets the person's password, so a receiver's writes (the programmes app moves
their invited enrolments to taking part) commit or roll back with it. Receivers get ``user``.
"""

from django.dispatch import Signal

invitation_accepted = Signal()
