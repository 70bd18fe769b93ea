"""Money as people type and read it: euros in French on screen, integer cents everywhere else."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

_AMOUNT = re.compile(r"^(\d{1,9})(?:[.,](\d{1,2}))?$")
BAD_AMOUNT = "Saisissez un montant en euros, par exemple 1 234,56."


def euros(cents: Any) -> str:
    """``4147`` → ``41,47 €`` (narrow spaces between thousands, non-breaking before the sign)."""
    if cents in (None, ""):
        return "—"
    value = int(cents)
    sign = "−" if value < 0 else ""
    whole, part = divmod(abs(value), 100)
    grouped = f"{whole:,}".replace(",", "\u202f")
    return f"{sign}{grouped},{part:02d}\u00a0€"


def euros_to_cents(value: str, *, bad_amount: str = BAD_AMOUNT) -> int:
    """``"1 234,56"`` → ``123456``, exactly (no float); French messages for what is not an amount."""
    text = re.sub(r"[\s\u00a0\u202f]", "", value or "").removesuffix("€")
    if text.startswith("-"):
        raise ValidationError("Le montant ne peut pas être négatif.", code="negative")
    match = _AMOUNT.match(text)
    if match is None:
        if re.match(r"^\d+[.,]\d{3,}$", text):
            raise ValidationError(
                "Un montant a au plus deux décimales : indiquez au plus deux chiffres après la virgule (les centimes).",
                code="decimals",
            )
        raise ValidationError(bad_amount, code="invalid")
    whole, cents = match.groups()
    return int(whole) * 100 + int((cents or "0").ljust(2, "0"))
