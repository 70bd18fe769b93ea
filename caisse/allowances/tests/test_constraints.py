"""Each invariant of the IJ files is held by the database itself (one test per named constraint)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from caisse.allowances import services
from caisse.allowances.models import (
    Arret,
    AttestationSalaire,
    DemandeCapitalDeces,
    DossierIJ,
    LigneSalaire,
    PaiementIJ,
    PeriodeIJ,
)
from caisse.allowances.tests.helpers import arret, certificate, employer
from caisse.beneficiaries.tests.factories import BeneficiaryFactory

pytestmark = pytest.mark.django_db

D = dt.date


def _raises(name: str, sqlite_unique: str = ""):  # type: ignore[no-untyped-def]
    """PostgreSQL names the violated constraint; SQLite names the columns of a unique index."""
    pattern = name if not sqlite_unique else f"{name}|UNIQUE constraint failed: {sqlite_unique}"
    return pytest.raises(IntegrityError, match=pattern)


def _bare_arret(person, dossier, ident, debut, fin, **kwargs):  # type: ignore[no-untyped-def]
    return Arret.objects.create(identifiant_externe=ident, beneficiaire=person, dossier=dossier, canal="papier",
                                risque="maladie", date_debut=debut, date_fin=fin, date_reception=debut, **kwargs)


def test_one_certificate_per_arret_and_employer() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    boss = employer()
    certificate(a, employer=boss)
    with _raises("unique_attestationsalaire_arret_employeur",
                 "allowances_attestationsalaire.arret_id, allowances_attestationsalaire.employeur_id"), \
            transaction.atomic():
        AttestationSalaire.objects.create(arret=a, employeur=boss, date_reception=D(2025, 3, 9))


def test_an_external_identifier_is_received_once() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    with _raises("unique_arret_identifiant_externe", "allowances_arret.identifiant_externe"), transaction.atomic():
        _bare_arret(BeneficiaryFactory(), a.dossier, a.identifiant_externe, D(2025, 5, 1), D(2025, 5, 2))


def test_paid_ij_periods_of_a_person_never_overlap() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    certificate(a)
    services.payer(jusqu_au=D(2025, 3, 20), date_paiement=D(2025, 3, 21))
    paid = PeriodeIJ.objects.get()
    payment = PaiementIJ.objects.get()
    with _raises("exclude_periodeij_payee_chevauchement"), transaction.atomic():
        PeriodeIJ.objects.create(dossier=a.dossier, arret=a, beneficiaire=a.beneficiaire, debut=paid.fin,
                                 fin=paid.fin, ij_journaliere_cts=100, jours=1, montant_cts=100,
                                 destinataire="assure", statut="payee", paiement=payment)
    # A computed (unpaid) period may overlap: it is replaced at each computation.
    PeriodeIJ.objects.create(dossier=a.dossier, arret=a, beneficiaire=a.beneficiaire, debut=paid.fin,
                             fin=paid.fin, ij_journaliere_cts=100, jours=1, montant_cts=100, destinataire="assure")


def test_a_prolongation_points_to_an_initial_arret_of_the_same_person() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    other = BeneficiaryFactory()
    dossier = DossierIJ.objects.create(beneficiaire=other, risque="maladie", date_ouverture=D(2025, 3, 21))
    with _raises("check_arret_prolongation_meme_personne"), transaction.atomic():
        _bare_arret(other, dossier, "X-1", D(2025, 3, 21), D(2025, 3, 30), prolongation=True, arret_initial=a)
    _bare_arret(a.beneficiaire, a.dossier, "X-2", D(2025, 3, 21), D(2025, 3, 30), prolongation=True,
                arret_initial=a)


def test_only_a_prolongation_has_an_initial_arret() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    with _raises("check_arret_initial_si_prolongation"), transaction.atomic():
        _bare_arret(a.beneficiaire, a.dossier, "X-3", D(2025, 3, 21), D(2025, 3, 30), arret_initial=a)


def test_arrets_of_a_person_do_not_overlap_and_end_after_they_start() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    with _raises("exclude_arret_chevauchement"), transaction.atomic():
        _bare_arret(a.beneficiaire, a.dossier, "X-4", D(2025, 3, 20), D(2025, 3, 30))
    with _raises("check_arret_dates_ordonnees"), transaction.atomic():
        _bare_arret(a.beneficiaire, a.dossier, "X-5", D(2025, 5, 20), D(2025, 5, 1))


def test_periods_amount_is_days_times_the_daily_ij_and_a_paid_one_has_its_payment() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    common = {"dossier": a.dossier, "arret": a, "beneficiaire": a.beneficiaire, "debut": D(2025, 3, 6),
              "fin": D(2025, 3, 7), "ij_journaliere_cts": 100, "jours": 2, "destinataire": "assure"}
    with _raises("check_periodeij_montant_jours"), transaction.atomic():
        PeriodeIJ.objects.create(montant_cts=150, **common)
    with _raises("check_periodeij_paiement_si_payee"), transaction.atomic():
        PeriodeIJ.objects.create(montant_cts=200, statut="payee", **common)
    with _raises("check_periodeij_employeur_si_subrogation"), transaction.atomic():
        PeriodeIJ.objects.create(montant_cts=200, **{**common, "destinataire": "employeur"})


def test_a_payment_key_is_used_once_and_an_employer_payment_names_the_employer() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    common = {"dossier": a.dossier, "beneficiaire": a.beneficiaire, "date_paiement": D(2025, 4, 1),
              "debut": D(2025, 3, 6), "fin": D(2025, 3, 20), "montant_cts": 1000}
    PaiementIJ.objects.create(destinataire="assure", cle="k1", **common)
    with _raises("unique_paiementij_cle", "allowances_paiementij.cle"), transaction.atomic():
        PaiementIJ.objects.create(destinataire="assure", cle="k1", **common)
    with _raises("check_paiementij_employeur_si_subrogation"), transaction.atomic():
        PaiementIJ.objects.create(destinataire="employeur", cle="k2", **common)


def test_salary_lines_are_well_formed_and_unique_per_month() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    att = certificate(a)
    with _raises("unique_lignesalaire_mois", "allowances_lignesalaire.attestation_id, allowances_lignesalaire.mois"), \
            transaction.atomic():
        LigneSalaire.objects.create(attestation=att, mois=att.lignes.first().mois, brut_cts=1)
    with _raises("check_lignesalaire_mois_format"), transaction.atomic():
        LigneSalaire.objects.create(attestation=att, mois="2025-13", brut_cts=1)
    with _raises("check_lignesalaire_positif"), transaction.atomic():
        LigneSalaire.objects.create(attestation=att, mois="2020-01", brut_cts=-1)


def test_subrogation_needs_its_window() -> None:
    a = arret(debut=D(2025, 3, 3), fin=D(2025, 3, 20))
    with _raises("check_attestationsalaire_subrogation_periode"), transaction.atomic():
        AttestationSalaire.objects.create(arret=a, employeur=employer(), date_reception=D(2025, 3, 9), subrogation=True)


def test_a_complete_file_has_its_completion_date() -> None:
    person = BeneficiaryFactory()
    with _raises("check_dossierij_complet_date"), transaction.atomic():
        DossierIJ.objects.create(beneficiaire=person, risque="maladie", date_ouverture=D(2025, 3, 3), statut="calcule")


def test_one_open_capital_deces_claim_per_deceased() -> None:
    person = BeneficiaryFactory(date_deces=D(2025, 6, 1))
    DemandeCapitalDeces.objects.create(defunt=person, date_deces=D(2025, 6, 1), date_demande=D(2025, 6, 20),
                                       condition_activite=True)
    with _raises("unique_capitaldeces_defunt", "allowances_demandecapitaldeces.defunt_id"), transaction.atomic():
        DemandeCapitalDeces.objects.create(defunt=person, date_deces=D(2025, 6, 1), date_demande=D(2025, 6, 21),
                                           condition_activite=True)
