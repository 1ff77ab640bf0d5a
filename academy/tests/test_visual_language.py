"""One visual language (issue 16, item 7): the colours in static/css/academy.css's custom
properties meet WCAG 2.2 AA. Focus indicators (1.4.11, 2.4.13) and progress bars reach 3:1
against every background they sit on; text reaches 4.5:1. The navigation bar's focus was 1.7:1."""

import re
from pathlib import Path

import pytest
from django.conf import settings

CSS = Path(settings.BASE_DIR) / "static" / "css" / "academy.css"

LIGHT_BACKGROUNDS = [
    "--academy-bg",
    "--academy-bg-muted",
    "--academy-bg-card",
    "--academy-bg-done",
    "--academy-bg-domain",
    "--academy-bg-danger",
    "--academy-bg-info",
    "--academy-bg-success",
    "--academy-bg-warning",
    "--academy-brand-light",
]


def _properties() -> dict[str, str]:
    text = CSS.read_text()
    root = re.search(r":root\s*\{(.*?)\}", text, re.S).group(1)
    root = re.sub(r"/\*.*?\*/", "", root, flags=re.S)
    return {name: value.strip() for name, value in re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", root)}


def _luminance(colour: str) -> float:
    hex_digits = colour.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    channels = [int(hex_digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_helper_matches_known_ratios():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#1d70b8", "#0b4f6c") == pytest.approx(1.73, abs=0.01)  # the old nav focus


PROPS = _properties()


@pytest.mark.parametrize("background", LIGHT_BACKGROUNDS)
def test_focus_indicator_3_to_1_on_light_backgrounds(background):
    assert contrast(PROPS["--academy-focus"], PROPS[background]) >= 3


def test_focus_indicator_3_to_1_on_the_navigation_bar():
    assert contrast(PROPS["--academy-focus-on-dark"], PROPS["--academy-nav-bg"]) >= 3
    # and the rule that applies it on the bar is there
    assert re.search(r"\.academy-nav :focus-visible \{ outline-color: var\(--academy-focus-on-dark\)", CSS.read_text())


@pytest.mark.parametrize("background", [*LIGHT_BACKGROUNDS])
def test_links_and_brand_text_4_5_to_1(background):
    assert contrast(PROPS["--academy-brand"], PROPS[background]) >= 4.5


def test_text_on_brand_buttons_badges_and_navigation():
    assert contrast(PROPS["--academy-on-brand"], PROPS["--academy-brand"]) >= 4.5
    assert contrast(PROPS["--academy-on-brand"], PROPS["--academy-brand-dark"]) >= 4.5
    assert contrast(PROPS["--academy-on-brand"], PROPS["--academy-nav-bg"]) >= 4.5


def test_progress_bars_3_to_1_against_their_track():
    assert contrast(PROPS["--academy-progress-fill"], PROPS["--academy-progress-track"]) >= 3


def test_bootstrap_primary_is_the_brand():
    assert PROPS["--bs-primary"] == PROPS["--academy-brand"] == PROPS["--bs-link-color"]
