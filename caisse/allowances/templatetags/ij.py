"""Display helpers of the IJ screens and documents."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from caisse.allowances import french
from caisse.core import money

register = template.Library()

register.filter("euros", money.euros)


@register.filter(needs_autoescape=True)
def de(value: Any, autoescape: bool = True) -> SafeString:
    """``{{ b.prenom|de }}``: « de Léa », « d'Aïcha » (elided before a vowel or a mute h)."""
    text = str(value or "").strip()
    word = conditional_escape(text) if autoescape else text
    return mark_safe(f"d'{word}" if french.elides(text) else f"de {word}")


@register.simple_tag
def de_personne(person: Any) -> SafeString:
    """« de Léa Durand », « d'Aïcha Benali »: the person's first name (or name) after an elided « de »."""
    return de(" ".join(part for part in (person.prenom, person.nom_affiche) if part))
