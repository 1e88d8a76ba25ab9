"""Official code systems: the unified social credit code and GB/T 4754 industry codes."""

from __future__ import annotations

import re

from stdnum.cn import uscc as stdnum_uscc

from planner.messages import Message, msg

#: GB 32100-2015 character set (digits and capitals without I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_SHAPE = re.compile(rf"[{USCC_ALPHABET}]{{2}}[0-9]{{6}}[{USCC_ALPHABET}]{{10}}")


def uscc_problem(code: str) -> Message | None:
    """Why ``code`` (already trimmed and upper-cased) is not a valid USCC, or None if it is.

    The check digit is computed by python-stdnum. Its ``validate`` also demands that the first
    eight characters be digits, which rejects real codes issued by non-industry registrars
    (N… 农业农村部门 for collective economic organisations, Y… and others), so the shape is
    checked here per GB 32100-2015: registrar and entity type from the code alphabet, a
    six-digit administrative division, then nine organisation characters and the check digit.
    """
    if len(code) != 18:
        return msg("input.uscc.length", n=len(code))
    if not _USCC_SHAPE.fullmatch(code):
        return msg("input.uscc.shape")
    expected = stdnum_uscc.calc_check_digit(code[:17])
    if code[17] != expected:
        return msg("input.uscc.check_digit", expected=repr(expected))
    return None


def uscc_with_check_digit(first17: str) -> str:
    """The full 18-character code for 17 leading characters (used to make sample data)."""
    return first17 + stdnum_uscc.calc_check_digit(first17)


#: GB/T 4754-2017: the two-digit divisions of each section letter.
INDUSTRY_SECTIONS: dict[str, range] = {
    "A": range(1, 6),
    "B": range(6, 13),
    "C": range(13, 44),
    "D": range(44, 47),
    "E": range(47, 51),
    "F": range(51, 53),
    "G": range(53, 61),
    "H": range(61, 63),
    "I": range(63, 66),
    "J": range(66, 70),
    "K": range(70, 71),
    "L": range(71, 73),
    "M": range(73, 76),
    "N": range(76, 80),
    "O": range(80, 83),
    "P": range(83, 84),
    "Q": range(84, 86),
    "R": range(86, 91),
    "S": range(91, 98),
    "T": range(98, 99),
}
_INDUSTRY_SHAPE = re.compile(r"([A-T]?)([0-9]{2,4})")


def normalise_industry(code: str) -> tuple[str | None, Message | None]:
    """(digits, None) for a valid GB/T 4754 code, else (None, reason).

    The section letter is optional (``C3011`` ≡ ``3011``); when given it must be the section
    of the division, since a mismatch means one of the two was mistyped.
    """
    match = _INDUSTRY_SHAPE.fullmatch(code.upper())
    if not match:
        return None, msg("input.industry.shape")
    letter, digits = match.groups()
    division = int(digits[:2])
    section = next((s for s, divisions in INDUSTRY_SECTIONS.items() if division in divisions), None)
    if section is None:
        return None, msg("input.industry.no_division", division=digits[:2])
    if letter and letter != section:
        return None, msg("input.industry.wrong_section", division=digits[:2], section=section, letter=letter)
    return digits, None
