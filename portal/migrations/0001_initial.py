# EnrolmentUpload comes from the partners app (partners/migrations/0003): the portal takes it into
# its state over the existing table, partners_enrolmentupload; nothing in the database changes.

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('partners', '0003_enrolmentupload_moves_to_portal'),
        ('programmes', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='EnrolmentUpload',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('filename', models.CharField(max_length=255, verbose_name='file name')),
                        ('rows', models.JSONField(default=list, help_text='Each row: its number in the file, email, full name and errors.', verbose_name='rows')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='uploaded')),
                        ('expires_at', models.DateTimeField(db_index=True, verbose_name='expires')),
                        ('cohort', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='programmes.cohort', verbose_name='cohort')),
                        ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='partners.partnerorganisation', verbose_name='organisation')),
                        ('uploaded_by', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='uploaded by')),
                    ],
                    options={
                        'verbose_name': 'enrolment upload',
                        'verbose_name_plural': 'enrolment uploads',
                        'ordering': ['-created_at'],
                        'db_table': 'partners_enrolmentupload',
                    },
                ),
            ],
        ),
    ]
