"""The issuer's well-known documents, mounted at /.well-known/ (the DID document of did:web)."""

from django.urls import path

from . import views

urlpatterns = [
    path("did.json", views.did_document, name="did_document"),
]
