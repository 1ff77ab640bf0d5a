"""Baked badges (``certificates.baking``): the credential in a PNG's iTXt chunk, read back by
this module and by Pillow's own PNG reader."""

import io
import json

import pytest
from PIL import Image

from certificates.baking import BakingError, badge_png_bake, badge_png_credential

CREDENTIAL = json.dumps({"type": ["VerifiableCredential", "OpenBadgeCredential"], "name": "Zoë"}).encode()


@pytest.fixture(scope="module")
def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 94, 184)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_baked_png_carries_the_credential_and_stays_an_image(png):
    baked = badge_png_bake(png, CREDENTIAL)
    assert badge_png_credential(baked) == CREDENTIAL
    image = Image.open(io.BytesIO(baked))
    image.load()
    assert image.size == (8, 8)
    assert image.text["openbadgecredential"] == CREDENTIAL.decode()  # Pillow reads the iTXt chunk


def test_baking_again_replaces_the_credential(png):
    other = json.dumps({"name": "other"}).encode()
    twice = badge_png_bake(badge_png_bake(png, CREDENTIAL), other)
    assert badge_png_credential(twice) == other


def test_an_unbaked_png_carries_none(png):
    assert badge_png_credential(png) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[:-20],  # cut short
        lambda b: b[:40] + bytes([b[40] ^ 0xFF]) + b[41:],  # a checksum no longer matches
        lambda b: b"GIF89a" + b[6:],  # not a PNG
        lambda b: b"",
    ],
)
def test_a_damaged_image_gives_no_credential_and_no_error(png, damage):
    assert badge_png_credential(damage(badge_png_bake(png, CREDENTIAL))) is None


def test_only_json_bytes_are_baked(png):
    with pytest.raises(BakingError):
        badge_png_bake(png, "text")
    with pytest.raises(BakingError):
        badge_png_bake(b"not a png", CREDENTIAL)
