# EnrolmentUpload now belongs to the portal app (portal/migrations/0001_initial.py): it leaves the
# partners app's state only; its table, partners_enrolmentupload, and its rows stay where they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('partners', '0002_enrolment_upload'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='EnrolmentUpload')],
            database_operations=[],
        ),
    ]
