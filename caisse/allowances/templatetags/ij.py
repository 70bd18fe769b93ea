"""Display helpers of the IJ screens and documents."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def euros(cents: Any) -> str:
    """``4147`` → ``41,47 €`` (non-breaking spaces between thousands and before the sign)."""
    if cents in (None, ""):
        return "—"
    value = int(cents)
    sign = "−" if value < 0 else ""
    whole, part = divmod(abs(value), 100)
    grouped = f"{whole:,}".replace(",", "\u202f")
    return f"{sign}{grouped},{part:02d}\u00a0€"
