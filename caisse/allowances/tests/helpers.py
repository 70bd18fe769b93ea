"""Builders shared by the allowances tests: a person, an employer, an arrêt with its certificate."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from stdnum import luhn

from caisse.allowances import services
from caisse.allowances.models import Arret, AttestationSalaire
from caisse.beneficiaries.tests.factories import BeneficiaryFactory
from caisse.professionals.models import Employer

D = dt.date


def months_before(start: dt.date, count: int = 12) -> list[str]:
    """The ``count`` civil months before the month of ``start``, most recent first."""
    index = start.year * 12 + start.month - 1
    out = []
    for k in range(1, count + 1):
        year, month = divmod(index - k, 12)
        out.append(f"{year:04d}-{month + 1:02d}")
    return out


def salaries(start: dt.date, brut_cts: int = 250_000, hours_first: Decimal = Decimal(455)) -> list[services.Salaire]:
    """12 equal months before the arrêt; the hours of the 3-month window on the last month."""
    return [
        services.Salaire(mois, brut_cts, hours_first if k == 0 else Decimal(0))
        for k, mois in enumerate(months_before(start))
    ]


_counter = iter(range(1, 10**9))


def make_siret(n: int) -> str:
    """A valid SIRET (Luhn on the SIREN and on the whole number)."""
    siren = f"4{n:07d}"
    siren += luhn.calc_check_digit(siren)
    body = siren + "0001"
    return body + luhn.calc_check_digit(body)


def employer(name: str = "") -> Employer:
    n = next(_counter)
    return Employer.objects.create(siret=make_siret(n), raison_sociale=name or f"Entreprise {n}")


def arret(person: Any = None, *, debut: dt.date, fin: dt.date, risque: str = "maladie", **kwargs: Any) -> Arret:
    person = person or BeneficiaryFactory()
    kwargs.setdefault("identifiant_externe", f"AAT-{next(_counter):06d}")
    kwargs.setdefault("date_reception", debut)
    created, _ = services.recevoir_arret(beneficiaire=person, risque=risque, date_debut=debut, date_fin=fin, **kwargs)
    return created


def certificate(a: Arret, *, employer: Any = None, received: dt.date | None = None, brut_cts: int = 250_000,
                **kwargs: Any) -> AttestationSalaire:
    employer = employer or globals()['employer']()
    att, _ = services.recevoir_attestation_salaire(
        arret=a, employeur=employer, date_reception=received or a.date_debut + dt.timedelta(days=5),
        lignes=kwargs.pop("lignes", None) or salaries(a.date_debut, brut_cts), **kwargs,
    )
    return att
