"""The rule of names (``academy.names.name_clean``): examples, then properties (Hypothesis)."""

import unicodedata

import pytest
from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st

from academy.names import BIDI_CONTROLS, BLANK_CHARACTERS, is_disallowed, name_clean

ZWNJ, ZWJ = "\u200c", "\u200d"
PERSIAN = f"فرزانه{ZWNJ}ی رضایی"  # ZWNJ between two letters, as Persian writes it
BENGALI = f"র{ZWJ}্যাব হোসেন"  # ZWJ between a letter and the virama that follows it

# Each hostile name and the code of its refusal.
HOSTILE = [
    ("\u202e\u200b", "direction"),  # only a right-to-left override and a zero-width space
    ("\u202eevil", "direction"),  # prints "live"
    ("Sara\u200fKhan", "direction"),
    ("Sara \u2066Khan\u2069", "direction"),
    ("\u061cAli", "direction"),
    ("Zoë\u200b", "invisible"),  # zero-width space
    ("\ufeffZoë", "invisible"),  # byte-order mark
    ("Zo\u00adë", "invisible"),  # soft hyphen
    ("\u3164", "invisible"),  # Hangul filler, a blank "letter"
    ("\u115f\u1160", "invisible"),
    ("\uffa0 Kim", "invisible"),
    ("\u2800", "invisible"),  # blank braille pattern
    ("Ana\ue000", "invisible"),  # private use
    ("Ana\x07", "invisible"),  # a control character
    ("Ana\u2028Lopez", "invisible"),  # line separator
    ("Ana\u2029", "invisible"),  # paragraph separator
    (ZWJ, "joiner"),
    (ZWNJ, "joiner"),
    (f"{ZWNJ}فرزانه", "joiner"),
    (f"فرزانه{ZWNJ}", "joiner"),
    (f"فرزانه {ZWNJ}ی", "joiner"),  # next to a space, not between letters
    (f"Ana{ZWJ}-Lopez", "joiner"),
    ("123", "no_letter"),
    ("-- !!", "no_letter"),
    ("", "required"),
    ("   \t ", "required"),
]


@pytest.mark.parametrize("name, code", HOSTILE)
def test_hostile_names_are_refused_with_a_reason(name, code):
    with pytest.raises(ValidationError) as refused:
        name_clean(name)
    assert refused.value.code == code
    message = " ".join(refused.value.messages)
    assert message and "\u202e" not in message  # the message never repeats a control character


def test_the_message_names_the_character_and_says_what_to_do():
    with pytest.raises(ValidationError) as refused:
        name_clean("\u202eevil")
    (message,) = refused.value.messages
    assert "changes the direction of text" in message
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in message
    assert "Type the name again" in message


@pytest.mark.parametrize(
    "name",
    [
        PERSIAN,
        BENGALI,
        "क्\u200dष सिंह",  # Devanagari: virama, ZWJ, letter
        "Zoë Ó'Brien-Łukasz",
        "محمد علی",
        "Sara سارا Khan",
        "王芳",
        "Nguyễn Thị Ánh",
        "Jean-Luc d'Arcy III",
    ],
)
def test_real_names_are_kept(name):
    assert name_clean(name) == name


def test_a_decomposed_letter_is_stored_composed_and_whitespace_collapsed():
    assert name_clean("  Rene\u0301e \t\n Dupont\u00a0 ") == "Renée Dupont"
    assert name_clean("e\u0301") == "é"


# --- Properties ------------------------------------------------------------------------------

names = st.one_of(
    st.text(),  # anything at all
    # mostly real letters, with joiners, controls, invisible characters and marks mixed in
    st.text(
        alphabet=st.one_of(
            st.sampled_from("aéZ فرزانهی র্যাবক्ष\u0301\u064e-' "),
            st.sampled_from(
                [ZWJ, ZWNJ, "\u200b", "\u202e", "\u2066", "\u2069", "\u3164", "\u2800", "\u2028", "\t", "\u00a0"]
            ),
        ),
        max_size=30,
    ),
)


@given(names)
@example("\u202e\u200b")
@example(f"ی{ZWNJ}")
@example("e\u0301")
def test_a_clean_name_is_nfc_has_a_letter_hides_nothing_and_cleans_to_itself(text):
    try:
        name = name_clean(text)
    except ValidationError as refused:
        assert refused.messages
        return
    assert unicodedata.is_normalized("NFC", name)
    assert name == " ".join(name.split())
    assert any(unicodedata.category(c).startswith("L") for c in name)
    assert not any(ord(c) in BIDI_CONTROLS or ord(c) in BLANK_CHARACTERS for c in name)
    assert not any(is_disallowed(name, i) for i in range(len(name)))
    for i, char in enumerate(name):
        if unicodedata.category(char) in {"Cf", "Cc", "Co", "Cs", "Cn", "Zl", "Zp"}:
            assert char in (ZWJ, ZWNJ)
            assert unicodedata.category(name[i - 1])[0] in "LM" and unicodedata.category(name[i + 1])[0] in "LM"
    assert name_clean(name) == name
