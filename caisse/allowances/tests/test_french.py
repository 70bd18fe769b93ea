"""« de » or « d' »: the elision of the IJ screens and documents (months, names)."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from caisse.allowances.forms import AttestationSalaireForm
from caisse.allowances.french import de, elides


@pytest.mark.parametrize(("word", "expected"), [
    ("août 2024", "d'août 2024"),
    ("avril 2024", "d'avril 2024"),
    ("octobre 2024", "d'octobre 2024"),
    ("septembre 2024", "de septembre 2024"),
    ("janvier 2025", "de janvier 2025"),
    ("Aïcha Benali", "d'Aïcha Benali"),
    ("Élise Martin", "d'Élise Martin"),
    ("ÉMILE", "d'ÉMILE"),
    ("Œdipe", "d'Œdipe"),
    ("Ulysse", "d'Ulysse"),
    ("Hélène Roux", "d'Hélène Roux"),
    ("Hugo Bernard", "d'Hugo Bernard"),
    ("Hollande", "de Hollande"),
    ("Yves Le Goff", "d'Yves Le Goff"),
    ("Yasmine Haddad", "de Yasmine Haddad"),
    ("Léa Durand", "de Léa Durand"),
    ("  Inès ", "d'Inès"),
])
def test_de_elides_before_a_vowel_or_a_mute_h(word: str, expected: str) -> None:
    assert de(word) == expected


def test_an_empty_word_does_not_elide() -> None:
    assert not elides("") and not elides("   ")


def test_the_salary_certificate_labels_elide_the_months() -> None:
    form = AttestationSalaireForm(months=["2024-08", "2024-04", "2024-10", "2024-09"])
    labels = [form.fields[f"brut_{k}"].label for k in range(4)]
    assert labels == [
        "Salaire brut d'août 2024, en euros", "Salaire brut d'avril 2024, en euros",
        "Salaire brut d'octobre 2024, en euros", "Salaire brut de septembre 2024, en euros",
    ]


class _Person:
    def __init__(self, prenom: str, nom: str) -> None:
        self.prenom, self.nom_affiche = prenom, nom


def test_the_template_helpers_elide_and_escape() -> None:
    template = Template("{% load ij %}{% de_personne p %}|{{ word|de }}")
    assert template.render(Context({"p": _Person("Aïcha", "Benali"), "word": "avril"})) == "d'Aïcha Benali|d'avril"
    assert template.render(Context({"p": _Person("", "Orsini"), "word": "mai"})) == "d'Orsini|de mai"
    assert template.render(Context({"p": _Person("Léa", "<b>Durand</b>"), "word": "<i>"})) == (
        "de Léa &lt;b&gt;Durand&lt;/b&gt;|de &lt;i&gt;")
