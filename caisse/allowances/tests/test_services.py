"""IJ files through the services: reception, certificate, computation, payment, queue, delays."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from caisse.allowances import services
from caisse.allowances.models import (
    Arret,
    Destinataire,
    DossierIJ,
    PaiementIJ,
    PeriodeIJ,
    Piece,
    StatutDossier,
    StatutPeriode,
)
from caisse.allowances.tests.helpers import arret, certificate, employer, make_siret
from caisse.beneficiaries.tests.factories import BeneficiaryFactory
from caisse.core.models import AuditEvent
from caisse.rules.allowances import compute_arret
from caisse.rules.identifiers import check_siret

pytestmark = pytest.mark.django_db

D = dt.date


def test_make_siret_is_valid() -> None:
    assert check_siret(make_siret(42))


def test_an_arret_without_certificate_waits_in_the_queue() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20), date_reception=D(2025, 3, 4))
    dossier = a.dossier
    dossier.refresh_from_db()
    assert dossier.statut == StatutDossier.ATTENTE_PIECES
    assert dossier.pieces_manquantes == [Piece.ATTESTATION_SALAIRE]
    queue = services.file_attente(today=D(2025, 3, 14))
    assert [(e.dossier.pk, e.age_jours) for e in queue] == [(dossier.pk, 10)]
    assert queue[0].pieces == ["Attestation de salaire de l'employeur"]
    assert not PeriodeIJ.objects.exists()


def test_receiving_the_same_arret_twice_is_idempotent() -> None:
    person = BeneficiaryFactory()
    first = arret(person, debut=D(2025, 3, 3), fin=D(2025, 3, 20), identifiant_externe="E-AAT-1")
    again = arret(person, debut=D(2025, 3, 3), fin=D(2025, 3, 20), identifiant_externe="E-AAT-1")
    assert first.pk == again.pk
    assert Arret.objects.count() == 1 and DossierIJ.objects.count() == 1


def test_the_certificate_completes_the_file_and_the_engine_computes_it() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    certificate(a, received=D(2025, 3, 10), brut_cts=250_000)
    dossier = DossierIJ.objects.get(pk=a.dossier_id)
    assert dossier.statut == StatutDossier.CALCULE
    assert dossier.date_complet == D(2025, 3, 10)
    assert dossier.jours_carence == 3
    expected = compute_arret({
        "id": "x", "risque": "maladie", "date_debut": "2025-03-03", "date_fin": "2025-03-20",
        "salaires": [{"mois": m, "brut_cts": 250_000} for m in ("2025-02", "2025-01", "2024-12")],
        "heures_travaillees_3_mois": 455,
    })
    periods = list(dossier.periodes.all())
    assert [(p.debut, p.fin, p.ij_journaliere_cts) for p in periods] == [
        (D(2025, 3, 6), D(2025, 3, 20), expected["periodes"][0]["ij_journaliere_cts"])
    ]
    assert sum(p.montant_cts for p in periods) == expected["montant_total_cts"]
    assert periods[0].destinataire == Destinataire.ASSURE


def test_a_prolongation_joins_the_file_without_a_new_carence() -> None:
    person = BeneficiaryFactory()
    initial = arret(person, debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    certificate(initial)
    prolongation = arret(person, debut=D(2025, 3, 21), fin=D(2025, 4, 10), prolongation=True)
    assert prolongation.arret_initial_id == initial.pk and prolongation.dossier_id == initial.dossier_id
    dossier = DossierIJ.objects.get(pk=initial.dossier_id)
    assert dossier.jours_carence == 3
    days = sum(p.jours for p in dossier.periodes.all())
    assert days == (D(2025, 4, 10) - D(2025, 3, 6)).days + 1  # one carence for the whole chain
    assert {p.arret_id for p in dossier.periodes.all()} == {initial.pk, prolongation.pk}


def test_a_prolongation_after_a_short_resumption_is_found_and_the_gap_is_not_paid() -> None:
    person = BeneficiaryFactory()
    initial = arret(person, debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    certificate(initial)
    later = arret(person, debut=D(2025, 3, 23), fin=D(2025, 3, 31), prolongation=True)  # 48 h of work
    assert later.arret_initial_id == initial.pk
    paid_days = {p.debut + dt.timedelta(days=i) for p in PeriodeIJ.objects.all() for i in range(p.jours)}
    assert D(2025, 3, 21) not in paid_days and D(2025, 3, 22) not in paid_days
    assert D(2025, 3, 23) in paid_days


def test_a_prolongation_of_another_person_is_refused() -> None:
    initial = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    with pytest.raises(ValidationError, match="même personne"):
        arret(BeneficiaryFactory(), debut=D(2025, 3, 21), fin=D(2025, 3, 30), arret_initial=initial)


def test_subrogation_pays_the_employer_inside_its_window_and_the_assure_after() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 4, 30))
    boss = employer("Boulangerie Dupain")
    certificate(a, employer=boss, subrogation=True, subrogation_debut=D(2025, 3, 1), subrogation_fin=D(2025, 3, 31))
    periods = list(PeriodeIJ.objects.order_by("debut"))
    assert [(p.debut, p.fin, p.destinataire, p.employeur_id) for p in periods] == [
        (D(2025, 3, 6), D(2025, 3, 31), Destinataire.EMPLOYEUR, boss.pk),
        (D(2025, 4, 1), D(2025, 4, 30), Destinataire.ASSURE, None),
    ]
    payments = services.payer(jusqu_au=D(2025, 4, 30), date_paiement=D(2025, 5, 2))
    assert {(p.destinataire, p.employeur_id) for p in payments} == {
        (Destinataire.EMPLOYEUR, boss.pk), (Destinataire.ASSURE, None)
    }


def test_partial_maintenance_below_the_ij_leaves_the_assure_paid() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    certificate(a, subrogation=True, subrogation_debut=D(2025, 3, 1), subrogation_fin=D(2025, 3, 31),
                salaire_maintenu_journalier_cts=100)
    assert set(PeriodeIJ.objects.values_list("destinataire", flat=True)) == {Destinataire.ASSURE}


def test_payment_is_idempotent_and_splits_at_the_cut_off() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 4, 10))
    certificate(a)
    total = sum(PeriodeIJ.objects.values_list("montant_cts", flat=True))
    first = services.payer(jusqu_au=D(2025, 3, 31), date_paiement=D(2025, 4, 1))
    assert len(first) == 1 and (first[0].debut, first[0].fin) == (D(2025, 3, 6), D(2025, 3, 31))
    assert services.payer(jusqu_au=D(2025, 3, 31), date_paiement=D(2025, 4, 1)) == []
    dossier = DossierIJ.objects.get(pk=a.dossier_id)
    assert dossier.statut == StatutDossier.EN_PAIEMENT
    assert dossier.date_premier_paiement == D(2025, 4, 1)
    second = services.payer(jusqu_au=D(2025, 4, 30), date_paiement=D(2025, 5, 1))
    assert (second[0].debut, second[0].fin) == (D(2025, 4, 1), D(2025, 4, 10))
    assert sum(PaiementIJ.objects.values_list("montant_cts", flat=True)) == total
    assert services.payer(jusqu_au=D(2025, 4, 30), date_paiement=D(2025, 5, 1)) == []
    dossier.refresh_from_db()
    assert dossier.statut == StatutDossier.SOLDE
    assert not PeriodeIJ.objects.filter(statut=StatutPeriode.CALCULEE).exists()


def test_recomputing_never_pays_a_day_twice_and_shows_the_difference() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 31))
    boss = employer()
    certificate(a, employer=boss, brut_cts=200_000)
    services.payer(jusqu_au=D(2025, 3, 31), date_paiement=D(2025, 4, 1))
    paid = PaiementIJ.objects.get()
    # Rectified certificate: higher salaries → the paid days are not paid again, the gap is shown.
    certificate(a, employer=boss, brut_cts=230_000)
    dossier = DossierIJ.objects.get(pk=a.dossier_id)
    assert dossier.ecart_deja_paye_cts > 0
    assert not PeriodeIJ.objects.filter(statut=StatutPeriode.CALCULEE).exists()
    assert services.payer(jusqu_au=D(2025, 3, 31), date_paiement=D(2025, 4, 2)) == []
    assert PaiementIJ.objects.get() == paid


def test_cannot_pay_days_after_the_payment_date() -> None:
    with pytest.raises(ValidationError, match="terme échu"):
        services.payer(jusqu_au=D(2025, 4, 30), date_paiement=D(2025, 4, 1))


def test_the_same_certificate_twice_changes_nothing() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    boss = employer()
    certificate(a, employer=boss)
    before = AuditEvent.objects.count()
    _, created = services.recevoir_attestation_salaire(
        arret=a, employeur=boss, date_reception=D(2025, 3, 8),
        lignes=[services.Salaire(li.mois, li.brut_cts, li.heures) for li in a.attestations.get().lignes.all()],
    )
    assert created is False and AuditEvent.objects.count() == before


def test_a_bad_certificate_is_refused_in_french() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    with pytest.raises(ValidationError, match="AAAA-MM"):
        services.recevoir_attestation_salaire(arret=a, employeur=employer(), date_reception=D(2025, 3, 8),
                                              lignes=[services.Salaire("2025-13", 100)])


def test_an_ineligible_person_gets_no_periods() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    certificate(a, lignes=[services.Salaire("2025-02", 10_000, 20)])
    dossier = DossierIJ.objects.get(pk=a.dossier_id)
    assert dossier.statut == StatutDossier.NON_ELIGIBLE
    assert "Conditions d'ouverture" in dossier.motif
    assert not dossier.periodes.exists()


def test_every_write_is_in_the_persons_history() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    certificate(a)
    services.payer(jusqu_au=D(2025, 3, 20), date_paiement=D(2025, 3, 25))
    summaries = list(AuditEvent.objects.filter(beneficiary=a.beneficiaire).values_list("summary", flat=True))
    assert any("avis d'arrêt" in s for s in summaries)
    assert any("attestation de salaire" in s.lower() for s in summaries)
    assert any(s.startswith("Calcul des IJ") for s in summaries)
    assert any(s.startswith("Paiement des IJ") for s in summaries)


def test_first_payment_delays_per_month_and_risk_against_the_targets() -> None:
    delays = []
    for i, (complete, paid) in enumerate([(D(2025, 3, 10), D(2025, 4, 1)), (D(2025, 3, 12), D(2025, 4, 20)),
                                          (D(2025, 3, 14), D(2025, 4, 15))]):
        a = arret(debut=D(2025, 3, 3) + dt.timedelta(days=i), fin=D(2025, 3, 31))
        certificate(a, received=complete)
        services.payer(jusqu_au=D(2025, 3, 31), date_paiement=paid, dossier=a.dossier)
        delays.append((paid - complete).days)
    lines = services.delais_premier_paiement(D(2025, 4, 1), D(2025, 4, 30))
    assert len(lines) == 1
    line = lines[0]
    assert (line.mois, line.risque, line.destinataire, line.nombre) == ("2025-04", "maladie", "assure", 3)
    assert line.moyenne_jours == round(sum(delays) / 3, 1)
    assert line.d9_jours == max(delays)
    assert line.cible_moyenne_jours == 27
    assert line.moyenne_atteinte is (line.moyenne_jours <= 27)


def test_ninth_decile_is_the_nearest_rank() -> None:
    assert services.neuvieme_decile(list(range(1, 11))) == 9
    assert services.neuvieme_decile([5]) == 5
    assert services.neuvieme_decile(list(range(1, 21))) == 18


def test_the_delay_can_start_at_the_first_day_of_the_arret(monkeypatch: pytest.MonkeyPatch) -> None:
    from caisse.rules import parameters as p

    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 31))
    certificate(a, received=D(2025, 3, 10))
    services.payer(jusqu_au=D(2025, 3, 31), date_paiement=D(2025, 4, 1))
    base = p.load_parameters()
    custom = base.overlay({"ij.delais.premier_paiement_point_depart": {D(2025, 1, 1): "debut_arret"}})
    monkeypatch.setattr(p, "_DEFAULT", custom)
    (line,) = services.delais_premier_paiement(D(2025, 4, 1), D(2025, 4, 30))
    assert line.delais == [(D(2025, 4, 1) - D(2025, 3, 3)).days]


def test_a_prolongation_after_a_payment_adds_only_its_own_days() -> None:
    person = BeneficiaryFactory()
    initial = arret(person, debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    certificate(initial)
    services.payer(jusqu_au=D(2025, 3, 20), date_paiement=D(2025, 3, 21))
    arret(person, debut=D(2025, 3, 21), fin=D(2025, 3, 31), prolongation=True)
    dossier = DossierIJ.objects.get(pk=initial.dossier_id)
    assert dossier.statut == StatutDossier.EN_PAIEMENT and dossier.ecart_deja_paye_cts == 0
    todo = list(dossier.periodes.filter(statut=StatutPeriode.CALCULEE))
    assert [(p.debut, p.fin) for p in todo] == [(D(2025, 3, 21), D(2025, 3, 31))]


def test_salaries_of_two_employers_add_up() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    certificate(a, brut_cts=100_000)
    alone = DossierIJ.objects.get(pk=a.dossier_id).salaire_journalier_base_cts
    certificate(a, brut_cts=100_000)
    both = DossierIJ.objects.get(pk=a.dossier_id).salaire_journalier_base_cts
    assert alone and both and both > alone


def test_a_flow_avis_is_received_by_nir_and_linked_to_its_initial() -> None:
    person = BeneficiaryFactory()
    first, created = services.recevoir_avis({"identifiant": "EAAT-1", "nir": person.nir, "risque": "maladie",
                                             "date_debut": "2025-03-03", "date_fin": "2025-03-20"})
    assert created and first.canal == "electronique" and first.date_reception == D(2025, 3, 3)
    second, _ = services.recevoir_avis({"id": "EAAT-2", "nir": person.nir, "risque": "maladie",
                                        "date_debut": "2025-03-21", "date_fin": "2025-03-30",
                                        "arret_initial": "EAAT-1", "date_reception": "2025-03-21"})
    assert second.arret_initial_id == first.pk and second.prolongation
    assert services.recevoir_avis({"id": "EAAT-2", "nir": "inconnu"}) == (second, False)
    with pytest.raises(ValidationError, match="Bénéficiaire inconnu"):
        services.recevoir_avis({"id": "EAAT-3", "nir": "1" * 15, "risque": "maladie",
                                "date_debut": "2025-03-21", "date_fin": "2025-03-30"})
    with pytest.raises(ValidationError, match="invalide"):
        services.recevoir_avis({"id": "EAAT-4", "nir": person.nir, "risque": "maladie",
                                "date_debut": "2025-02-30", "date_fin": "2025-03-30"})


def test_overlapping_arrets_of_a_person_are_refused_in_french() -> None:
    person = BeneficiaryFactory()
    arret(person, debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    with pytest.raises(ValidationError, match="chevauche"):
        arret(person, debut=D(2025, 3, 10), fin=D(2025, 3, 25))
