"""WSGI entry point (gunicorn academy.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings")

application = get_wsgi_application()
