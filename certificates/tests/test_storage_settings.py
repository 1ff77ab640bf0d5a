"""``academy.storage.storage_default``: the environment chooses the local folder or S3."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from academy.storage import FILESYSTEM_BACKEND, S3_BACKEND, storage_default


def test_nothing_set_is_the_local_folder():
    assert storage_default() == {"BACKEND": FILESYSTEM_BACKEND}
    assert storage_default(backend="filesystem", bucket="ignored") == {"BACKEND": FILESYSTEM_BACKEND}


def test_a_bucket_alone_turns_object_storage_on_with_private_objects():
    default = storage_default(bucket="academy-files", endpoint_url="http://minio:9000", addressing_style="Path")
    options = default["OPTIONS"]
    assert default["BACKEND"] == S3_BACKEND
    assert options["bucket_name"] == "academy-files" and options["endpoint_url"] == "http://minio:9000"
    assert options["default_acl"] is None and options["querystring_auth"] is True
    assert options["querystring_expire"] == 300 and options["file_overwrite"] is False
    assert options["client_config"].s3 == {"addressing_style": "path"}
    assert options["access_key"] is None and options["secret_key"] is None  # boto3 finds a role


def test_s3_without_a_bucket_is_refused_with_the_variable_to_set():
    with pytest.raises(ImproperlyConfigured, match="AWS_STORAGE_BUCKET_NAME"):
        storage_default(backend="s3")


def test_an_unknown_addressing_style_is_refused():
    with pytest.raises(ImproperlyConfigured, match="AWS_S3_ADDRESSING_STYLE"):
        storage_default(backend="s3", bucket="b", addressing_style="sideways")


def test_another_storage_class_is_kept_as_it_is():
    assert storage_default(backend="myapp.storage.Special") == {"BACKEND": "myapp.storage.Special"}
