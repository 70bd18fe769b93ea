"""Late payment penalties owed to professionals for electronic feuilles under tiers payant
(rules.md A.10; CSS art. D161-13-3: paid within 7 jours ouvrés of reception; D161-13-4: 1 € when
paid on the 8th or 9th jour ouvré, 10 % of the part obligatoire from the 10th, paid during the
following semester)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from caisse.accounts.models import Role
from caisse.claims import delays, services
from caisse.claims.models import Feuille, FeuilleStatus, FeuilleType
from caisse.claims.tests.helpers import EXAMPLE, import_folder
from caisse.core.money import euros
from caisse.rules.calendar import is_working_day, working_days_after
from caisse.rules.parameters import load_parameters

D = dt.date


def _items(*rows: tuple[str, dt.date, dt.date, int]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=delays.PENALTY_ITEMS, orient="row")


def test_working_days_skip_weekends_and_public_holidays() -> None:
    # Received on Friday 2 May 2025; Thursday 8 May (Victoire 1945) is a public holiday.
    start = np.array([D(2025, 5, 2)] * 4, dtype="datetime64[D]")
    end = np.array([D(2025, 5, 2), D(2025, 5, 5), D(2025, 5, 9), D(2025, 5, 13)], dtype="datetime64[D]")
    assert working_days_after(start, end).tolist() == [0, 1, 4, 6]
    # Across the new year (1 January) and before the reception (nothing).
    assert working_days_after(np.array([D(2025, 12, 31)], dtype="datetime64[D]"),
                              np.array([D(2026, 1, 2)], dtype="datetime64[D]")).tolist() == [1]
    assert working_days_after(np.array([D(2025, 5, 9)], dtype="datetime64[D]"),
                              np.array([D(2025, 5, 2)], dtype="datetime64[D]")).tolist() == [0]


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=D(2016, 1, 1), max_value=D(2030, 12, 31)), st.integers(min_value=0, max_value=60))
def test_working_days_match_a_day_by_day_count(start: dt.date, span: int) -> None:
    end = start + dt.timedelta(days=span)
    expected = sum(is_working_day(start + dt.timedelta(days=k)) for k in range(1, span + 1))
    got = working_days_after(np.array([start], dtype="datetime64[D]"), np.array([end], dtype="datetime64[D]"))
    assert got.tolist() == [expected]


def test_penalty_by_working_day_of_payment() -> None:
    """Received Friday 2 May 2025: 7th jour ouvré Wednesday 14 May, 8th Thursday 15, 9th Friday 16,
    10th Monday 19 May."""
    got = delays.late_payment_penalties(_items(
        ("PS1", D(2025, 5, 2), D(2025, 5, 14), 2100),
        ("PS1", D(2025, 5, 2), D(2025, 5, 15), 2100),
        ("PS2", D(2025, 5, 2), D(2025, 5, 16), 2100),
        ("PS2", D(2025, 5, 2), D(2025, 5, 19), 2105),
        ("PS3", D(2025, 5, 2), D(2025, 7, 1), 999),
    ))
    assert got.get_column("jours_ouvres").to_list() == [7, 8, 9, 10, 39]
    assert got.get_column("retard").to_list() == ["none", "forfait", "forfait", "proportionnelle", "proportionnelle"]
    # 1 € flat; 10 % of 21,05 € = 2,105 € -> 2,11 € (half up); 10 % of 9,99 € -> 1,00 €.
    assert got.get_column("penalite_cts").to_list() == [0, 100, 100, 211, 100]
    assert got.get_column("semestre_paiement").to_list() == ["2025-S1"] * 4 + ["2025-S2"]
    semesters = delays.penalties_by_semester(got)
    assert semesters == [
        {"semestre_paiement": "2025-S1", "nb": 4, "nb_forfait": 2, "nb_proportionnelle": 1, "nb_professionnels": 2,
         "penalites_cts": 411, "semestre_versement": "2025-S2"},
        {"semestre_paiement": "2025-S2", "nb": 1, "nb_forfait": 0, "nb_proportionnelle": 1, "nb_professionnels": 1,
         "penalites_cts": 100, "semestre_versement": "2026-S1"},
    ]
    by_ps = delays.penalties_by_professional(got)
    assert [(r["semestre_paiement"], r["executant"], r["nb_retards"], r["penalites_cts"]) for r in by_ps] == [
        ("2025-S1", "PS2", 2, 311), ("2025-S1", "PS1", 1, 100), ("2025-S2", "PS3", 1, 100)]
    assert len(delays.penalties_by_professional(got, limit=1)) == 2


def test_no_penalty_before_the_decree_and_dated_values() -> None:
    """Invoices received before 1 July 2016 owe nothing; a local dated value changes the limit."""
    items = _items(("PS1", D(2016, 6, 30), D(2016, 9, 1), 5000), ("PS1", D(2016, 7, 1), D(2016, 9, 1), 5000))
    assert delays.late_payment_penalties(items).get_column("penalite_cts").to_list() == [0, 500]
    local = load_parameters({"sante.delais.tiers_payant_jours_ouvres": {D(2025, 1, 1): 10},
                             "sante.delais.penalite_jour_proportionnelle": {D(2025, 1, 1): 12}})
    got = delays.late_payment_penalties(_items(("PS1", D(2025, 5, 2), D(2025, 5, 16), 2100),
                                               ("PS1", D(2025, 5, 2), D(2025, 5, 19), 2100)), local)
    assert got.get_column("penalite_cts").to_list() == [0, 0]
    assert delays.penalties_by_semester(delays.late_payment_penalties(_items())) == []


@pytest.mark.django_db
@pytest.mark.skipif(not EXAMPLE.exists(), reason="example folder not available")
def test_penalties_of_the_daily_run_on_the_delays_page(make_user: Any) -> None:
    """The example's electronic feuilles under tiers payant, paid months after their reception: each
    owes 10 % of its AMO reimbursement; the delays page shows the semester and the professionals."""
    from caisse.claims.tests.helpers import TODAY

    import_folder(EXAMPLE / "referentiel")
    services.receive_flow(EXAMPLE / "feuilles.ndjson", quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    paid_to_ps = [f for f in Feuille.objects.filter(statut=FeuilleStatus.LIQUIDEE, type=FeuilleType.FSE)
                  if f.decompte["destinataire"] == "ps"]
    assert paid_to_ps
    expected = sum((f.decompte["montant_rembourse_cts"] * 10 + 50) // 100 for f in paid_to_ps)
    penalties = services.late_payment_penalties()
    assert penalties.height == len(paid_to_ps) and penalties.get_column("penalite_cts").sum() == expected > 0
    assert set(penalties.get_column("retard")) == {"proportionnelle"}

    client = Client()
    client.force_login(make_user(Role.MANAGER))
    html = client.get(reverse("claims:delays")).content.decode()
    from caisse.web.tests.test_accessibility import check_page

    check_page(html)
    assert "Pénalités de retard de paiement en tiers payant" in html and "D161-13-4" in html
    assert '<th scope="row">2e semestre 2026</th>' in html and "1er semestre 2027" in html
    assert euros(expected) in html, euros(expected)
    top = max(delays.penalties_by_professional(penalties), key=lambda r: r["penalites_cts"])
    assert reverse("claims:professional", args=[top["executant"]]) in html
    assert services.late_payment_penalties(debut=D(2027, 1, 1)).height == 0
    # The professional's return (back-office page and online space) shows what it is owed.
    page = client.get(reverse("claims:professional", args=[top["executant"]])).content.decode()
    assert "Pénalités de retard de paiement" in page and euros(top["penalites_cts"]) in page
    check_page(page)


@pytest.mark.django_db
@pytest.mark.skipif(not EXAMPLE.exists(), reason="example folder not available")
def test_a_professionals_return_over_a_period(make_user: Any) -> None:
    """The return (back-office page and the professional's own space) keeps what was paid or
    notified in the period asked: transfers by payment date, rejections by the run's day,
    penalties by the late feuille's payment."""
    from caisse.claims.tests.helpers import TODAY
    from caisse.professionals.models import HealthProfessional
    from caisse.web.tests.test_accessibility import check_page

    import_folder(EXAMPLE / "referentiel")
    services.receive_flow(EXAMPLE / "feuilles.ndjson", quiet=True)
    services.daily_run(None, today=TODAY, quiet=True)
    top = max(delays.penalties_by_professional(services.late_payment_penalties()), key=lambda r: r["penalites_cts"])
    paid_on = Feuille.objects.filter(executant=top["executant"], date_paiement__isnull=False).first().date_paiement
    agent = Client()
    agent.force_login(make_user(Role.LIQUIDATEUR))
    url = reverse("claims:professional", args=[top["executant"]])

    inside = agent.get(url, {"du": f"{paid_on:%d/%m/%Y}", "au": f"{paid_on:%d/%m/%Y}"})
    html = inside.content.decode()
    assert inside.status_code == 200 and f"Paiements reçus du {paid_on:%d/%m/%Y} au {paid_on:%d/%m/%Y}" in html
    assert euros(top["penalites_cts"]) in html and "Toute la période" in html
    check_page(html)

    after = paid_on + dt.timedelta(days=1)
    later = agent.get(url, {"du": f"{after:%d/%m/%Y}"})
    html = later.content.decode()
    assert later.status_code == 200 and f"Aucun paiement depuis le {after:%d/%m/%Y}." in html
    assert "Pénalités de retard de paiement" not in html and f"Aucune feuille rejetée depuis le {after:%d/%m/%Y}." in html

    wrong = agent.get(url, {"du": f"{after:%d/%m/%Y}", "au": f"{paid_on:%d/%m/%Y}"})
    assert wrong.status_code == 400 and "La fin de la période précède son début." in wrong.content.decode()
    assert wrong.content.decode().count("<title>Erreur : ") == 1
    check_page(wrong.content.decode())
    assert agent.get(reverse("claims:professional", args=["00000000000"]), {"du": "01/01/2020"}).status_code == 404

    # The professional's own space: the same period, without touching the patient rights form.
    ps = HealthProfessional.objects.get(identifiant=top["executant"])
    own = Client()
    own.force_login(make_user(Role.PROFESSIONNEL, professional=ps))
    page = own.get(reverse("espace_ps:accueil"), {"du": f"{after:%d/%m/%Y}"})
    html = page.content.decode()
    assert page.status_code == 200 and f"Aucun paiement depuis le {after:%d/%m/%Y}." in html
    assert "La consultation est impossible" not in html
    everything = own.get(reverse("espace_ps:accueil")).content.decode()
    assert euros(top["penalites_cts"]) in everything and "Aucun paiement." not in everything
