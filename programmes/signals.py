"""The completion hook: the one explicit place other apps learn that an enrolment completed.

``enrolment_completed`` is sent by ``programmes.services.enrolment_complete`` inside the
transaction that marks the enrolment completed, so a receiver's writes (the certificates app
creates a pending certificate) commit or roll back with it. Receivers get ``enrolment``.
"""

from django.dispatch import Signal

enrolment_completed = Signal()
