"""People's names, as they are printed on certificates: one rule for every way a name comes in.

``name_clean`` is used by the learner's profile form, the partner portal's forms and uploads (through
``programmes.selectors.enrolment_rows_check``, which ``programmes.services.learners_enrol`` applies
too), the staff invitation form and the admin. It is not a model validator: the rule applies to what
people type from now on, and names already stored stay readable.

A name is NFC-normalised (a decomposed "e" + U+0301 is stored as "é"), its runs of whitespace
become one space, and it is refused when

- it contains a character that changes the direction of text (the bidirectional controls U+200E,
  U+200F, U+061C, U+202A to U+202E and U+2066 to U+2069): U+202E alone prints "evil" as "live";
- it contains a character that prints as nothing (format, control, private-use, surrogate or
  unassigned code points, line and paragraph separators, and the "letters" that are blank by
  design such as U+3164 HANGUL FILLER or U+2800 BRAILLE PATTERN BLANK), so that a name can never
  be certified as a blank line. The zero-width non-joiner (U+200C) and joiner (U+200D) are the
  exception when they stand between two letters (or a letter and its marks): Persian, Bengali,
  Devanagari and other scripts need them inside real names;
- it has no letter at all.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

BIDI_CONTROLS = frozenset({0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)})
JOINERS = frozenset({0x200C, 0x200D})
# Letters and symbols that print as blank space by design.
BLANK_CHARACTERS = frozenset({0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0})
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


def _described(chars: list[str]) -> str:
    """ "U+202E RIGHT-TO-LEFT OVERRIDE" for each character, at most three."""
    names = [f"U+{ord(c):04X} {unicodedata.name(c, '')}".strip() for c in dict.fromkeys(chars)]
    return ", ".join(names[:3]) + (", …" if len(names) > 3 else "")


def _is_letter_or_mark(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM" and ord(char) not in BLANK_CHARACTERS


def is_disallowed(name: str, index: int) -> bool:
    """Whether the character at ``index`` of ``name`` (already NFC and with its whitespace
    collapsed) may not be part of a name: a bidirectional control, or a character that prints as
    nothing (a joiner only when it is not between two letters or marks)."""
    char = name[index]
    point = ord(char)
    if point in BIDI_CONTROLS or point in BLANK_CHARACTERS:
        return True
    if point in JOINERS:
        between = 0 < index < len(name) - 1
        return not (between and _is_letter_or_mark(name[index - 1]) and _is_letter_or_mark(name[index + 1]))
    return unicodedata.category(char) in INVISIBLE_CATEGORIES


def name_clean(value) -> str:
    """The name as it will be stored and printed, or ValidationError saying what is wrong with it
    in plain words (codes ``required``, ``direction``, ``joiner``, ``invisible``, ``no_letter``)."""
    name = unicodedata.normalize("NFC", str(value or ""))
    separators = [c for c in name if unicodedata.category(c) in {"Zl", "Zp"}]
    name = unicodedata.normalize("NFC", " ".join(name.split()))
    if separators:  # str.split() counts them as whitespace: refuse them before they are collapsed
        raise ValidationError(
            _(
                "The name contains a hidden line break (%(characters)s). Type the name again on one line "
                "rather than copying it from another document."
            )
            % {"characters": _described(separators)},
            code="invisible",
        )
    if not name:
        raise ValidationError(_("Enter the name."), code="required")
    direction = [c for c in name if ord(c) in BIDI_CONTROLS]
    if direction:
        raise ValidationError(
            _(
                "The name contains a hidden character that changes the direction of text (%(characters)s), "
                "so it would not print as typed. Type the name again rather than copying it from another "
                "document."
            )
            % {"characters": _described(direction)},
            code="direction",
        )
    bad = [i for i in range(len(name)) if is_disallowed(name, i)]
    joiners = [name[i] for i in bad if ord(name[i]) in JOINERS]
    hidden = [name[i] for i in bad if ord(name[i]) not in JOINERS]
    if hidden:
        raise ValidationError(
            _(
                "The name contains a hidden character that does not print (%(characters)s). Type the name "
                "again rather than copying it from another document."
            )
            % {"characters": _described(hidden)},
            code="invisible",
        )
    if joiners:
        raise ValidationError(
            _(
                "The name contains a zero-width joining character (%(characters)s) that is not between two "
                "letters. It belongs only inside a word: remove it, or type the name again."
            )
            % {"characters": _described(joiners)},
            code="joiner",
        )
    if not any(_is_letter_or_mark(c) and unicodedata.category(c)[0] == "L" for c in name):
        raise ValidationError(
            _("A name needs at least one letter. Check that it is not only numbers, punctuation or symbols."),
            code="no_letter",
        )
    return name
