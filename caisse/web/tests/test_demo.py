"""The demo a new user gets from `make demo`: built once, every role has something to see."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from django.db.models import Avg, DurationField, ExpressionWrapper, F

from caisse.accounts.models import Role, User
from caisse.allowances.models import DossierIJ
from caisse.beneficiaries.models import Beneficiary
from caisse.claims.capture import captured_pending
from caisse.claims.models import Feuille, FeuilleStatus, FeuilleType, Payment
from caisse.claims.services import late_payment_penalties
from caisse.web.demo import build_demo
from caisse.work_accidents.models import Case

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_small_demo_has_accounts_people_and_work_for_every_team(capsys: pytest.CaptureFixture[str]) -> None:
    build_demo(300, today=dt.date(2026, 11, 22))
    printed = capsys.readouterr().out
    assert "caisse-demo-2026" in printed
    for role in (Role.ACCUEIL, Role.GESTIONNAIRE_DROITS, Role.LIQUIDATEUR, Role.GESTIONNAIRE_IJ,
                 Role.GESTIONNAIRE_ATMP, Role.MEDECIN_CONSEIL, Role.MANAGER, Role.ADMIN, Role.ASSURE):
        assert User.objects.filter(role=role).exists(), role
    assert Beneficiary.objects.count() >= 300
    assert DossierIJ.objects.exists() and Case.objects.exists() and Payment.objects.exists()
    # Paper is paid later than electronic (capture first), and the capture queue has work waiting.
    paid = Feuille.objects.filter(statut=FeuilleStatus.LIQUIDEE, date_paiement__isnull=False)
    delay = ExpressionWrapper(F("date_paiement") - F("date_reception"), output_field=DurationField())
    mean = {kind: paid.filter(type=kind).aggregate(d=Avg(delay))["d"] for kind in (FeuilleType.FSE, FeuilleType.FSP)}
    assert mean[FeuilleType.FSE] is not None and mean[FeuilleType.FSP] is not None
    assert mean[FeuilleType.FSE] < dt.timedelta(days=5) < dt.timedelta(days=10) < mean[FeuilleType.FSP]
    assert not paid.filter(date_paiement__lt=F("date_reception")).exists()  # never paid before received
    assert captured_pending().count() == 6
    # The October incident (no run for two weeks) leaves FSE paid late, with their penalties.
    penalties = late_payment_penalties()
    assert penalties.filter(pl.col("retard") == "forfait").height and penalties.filter(pl.col("retard") == "proportionnelle").height
    assert set(penalties.filter(pl.col("penalite_cts") > 0).get_column("date_reception").dt.month()) == {10}
    # The assuré's and the professional's online spaces have reimbursements and payments to show.
    member = User.objects.get(username="assure").beneficiary
    assert Feuille.objects.filter(nir=member.nir, statut=FeuilleStatus.LIQUIDEE, date_paiement__isnull=False).exists()
    doctor = User.objects.get(username="professionnel").professional
    assert Payment.objects.filter(identifiant_beneficiaire=doctor.identifiant).exists()
    build_demo(300, today=dt.date(2026, 11, 22))  # a second run keeps the database
    assert "déjà construite" in capsys.readouterr().err
