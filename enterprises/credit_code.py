"""Unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters from a 31-character alphabet (digits and capitals without I, O, Z, S, V).
Position 18 is a check character: weights 3^(i-1) mod 31 over positions 1-17, then
C18 = 31 - (sum mod 31), where 31 maps to 0.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]
LENGTH = 18


def check_character(base17: str) -> str:
    """The check character for the first 17 characters of a code."""
    total = sum(VALUES[ch] * w for ch, w in zip(base17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalize(code: str) -> str:
    """What people type: surrounding spaces and lower case are forgiven."""
    return (code or "").strip().upper()


def validate_credit_code(code: str) -> None:
    if len(code) != LENGTH:
        raise ValidationError(
            _("A credit code has 18 characters; this one has %(n)d."),
            code="length",
            params={"n": len(code)},
        )
    bad = sorted({ch for ch in code if ch not in VALUES})
    if bad:
        raise ValidationError(
            _("A credit code may not contain %(chars)s (I, O, Z, S and V are never used)."),
            code="alphabet",
            params={"chars": "、".join(bad)},
        )
    if not code[2:8].isdigit():
        raise ValidationError(
            _("Characters 3 to 8 of a credit code are the 6-digit administrative area code."),
            code="area",
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("The check character (the 18th) should be %(expected)s, not %(got)s: please check the code."),
            code="check",
            params={"expected": expected, "got": code[17]},
        )
