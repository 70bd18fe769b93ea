"""The C2S/AME, IJ, AT/MP, capital décès and reference parameters load and say what they are."""

from __future__ import annotations

import datetime as dt

from caisse.rules.c2s import c2s_ceiling
from caisse.rules.parameters import load_parameters

OURS = ("reference.", "c2s.", "ame.", "ij.", "atmp.", "capital_deces.")


def test_every_parameter_has_a_description_a_reference_and_values() -> None:
    ours = [p for p in load_parameters() if p.name.startswith(OURS)]
    assert len(ours) > 40
    for parameter in ours:
        assert parameter.description and parameter.references and parameter.starts, parameter.name


def test_unconfirmed_items_of_rules_md_are_flagged() -> None:
    params = load_parameters()
    for name in (
        "c2s.forfait_logement",
        "c2s.plafond_dom_sans_participation",
        "atmp.ip.capital",
        "atmp.rente.salaire_minimum",
        "capital_deces.montant",
        "atmp.ij.plafond_gain_journalier_net",
    ):
        assert params.parameter(name).unconfirmed, name


def test_ij_cap_changes_on_1_april_2025_by_a_dated_value() -> None:
    coef = load_parameters().parameter("ij.maladie.coefficient_plafond_smic")
    assert str(coef.at(dt.date(2025, 3, 31))) == "1.8" and str(coef.at(dt.date(2025, 4, 1))) == "1.4"


def test_published_tables_are_used_as_published() -> None:
    when = dt.date(2025, 6, 1)
    assert [c2s_ceiling(n, "metropole", when, False) for n in (1, 2, 3, 4, 5)] == [
        1_033_900,
        1_550_800,
        1_860_900,
        2_171_100,
        2_584_600,
    ]
    assert [c2s_ceiling(n, "metropole", when, True) for n in (1, 2, 3, 4, 5)] == [
        1_395_700,
        2_093_600,
        2_512_300,
        2_931_100,
        3_489_400,
    ]
