"""Capital décès (L361-1 s.) and AT/MP permanent incapacity (L434-1, L434-2, R434-2)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from caisse.rules.allowances.capital_deces import (
    Beneficiaire,
    beneficiaires_servis,
    capital_deces_montant,
    demande_dans_les_delais,
    repartition_capital_deces,
)
from caisse.rules.allowances.incapacite import indemnisation_ip, salaire_utile, taux_utile

DEATH = dt.date(2025, 6, 1)


def test_capital_deces_amount_at_the_date_of_death() -> None:
    assert capital_deces_montant(dt.date(2025, 3, 31)) == 390_994
    assert capital_deces_montant(dt.date(2025, 4, 1)) == 397_700
    assert capital_deces_montant(dt.date(2015, 6, 1)) == 340_000


def test_dependent_spouse_claiming_in_time_has_priority_over_children() -> None:
    people = [
        Beneficiaire("enfant", "enfant"),
        Beneficiaire("conjoint", "conjoint", a_charge=True, date_demande_priorite=dt.date(2025, 6, 20)),
    ]
    assert beneficiaires_servis(DEATH, people) == ("prioritaires", [people[1]])


def test_late_priority_claim_falls_back_to_non_prioritaires() -> None:
    people = [
        Beneficiaire("parent", "ascendant", a_charge=True, date_demande_priorite=dt.date(2025, 7, 15)),
        Beneficiaire("e1", "enfant"),
        Beneficiaire("e2", "enfant"),
        Beneficiaire("ex", "conjoint", separe=True),
    ]
    kind, rank = beneficiaires_servis(DEATH, people)
    assert kind == "non_prioritaires" and [b.id for b in rank] == ["e1", "e2"]
    assert repartition_capital_deces(DEATH, people) == [("e1", 198_850), ("e2", 198_850)]


def test_request_within_2_years() -> None:
    assert demande_dans_les_delais(DEATH, dt.date(2027, 6, 1))
    assert not demande_dans_les_delais(DEATH, dt.date(2027, 6, 2))


def test_ip_below_10_percent_gives_the_capital_of_the_table() -> None:
    result = indemnisation_ip(5, dt.date(2025, 6, 1), 3_000_000)
    assert (result.type, result.capital_cts) == ("capital", 223_950)


def test_ip_rente_useful_rate_and_salary() -> None:
    when = dt.date(2025, 6, 1)
    assert taux_utile(30, when) == Decimal("0.15")
    assert taux_utile(60, when) == Decimal("0.40")
    assert salaire_utile(1_000_000, when) == 2_154_785  # floored at the salaire minimum
    assert salaire_utile(6_000_000, when) == 4_873_047  # 2 Smin + (S − 2 Smin) / 3
    assert salaire_utile(50_000_000, when) == 8_619_140  # capped at 8 Smin: 2 Smin + 6 Smin / 3
    result = indemnisation_ip(60, when, 6_000_000)
    assert (result.type, result.rente_annuelle_cts) == ("rente", 1_949_219)
