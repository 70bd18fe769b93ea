"""AT/MP permanent incapacity (IP) at consolidation: indemnité en capital or rente (rules.md B.7).

- IP below 10 % (L434-1, D434-1): a flat capital by rate, from the published table;
- IP of 10 % or more (L434-2, R434-1 s.): a life annuity ``salaire utile × taux utile`` where
  ``taux utile = min(IP, 50 %)/2 + max(IP − 50 %, 0) × 1,5`` and the salaire utile is the salary of
  the 12 months before the arrêt, floored at the salaire minimum (Smin), counted in full up to
  2 Smin and for a third between 2 and 8 Smin.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from caisse.rules.parameters import Parameters, load_parameters


@dataclass(frozen=True)
class IndemnisationIP:
    """``capital`` (IP < 10 %) or ``rente`` (annual amount) with what it was computed from."""

    type: str  # "capital" | "rente"
    capital_cts: int
    rente_annuelle_cts: int
    taux_utile: Decimal  # fraction (0,25 for 25 %)
    salaire_utile_cts: int
    motif: str


def taux_utile(taux_ip: int, when: dt.date, params: Parameters | None = None) -> Decimal:
    """Useful rate of the rente, as a fraction, for an IP rate in percent."""
    p = params if params is not None else load_parameters()
    rule = p.value("atmp.rente.taux_utile", when)
    ip = Decimal(taux_ip) / 100
    threshold = Decimal(rule["seuil"])
    below = min(ip, threshold) * Decimal(rule["coefficient_avant_seuil"])
    return below + max(ip - threshold, Decimal(0)) * Decimal(rule["coefficient_apres_seuil"])


def salaire_utile(salaire_annuel_cts: int, when: dt.date, params: Parameters | None = None) -> int:
    """Useful salary (cents) from the salary of the 12 months before the arrêt (R434-28)."""
    p = params if params is not None else load_parameters()
    rule = p.value("atmp.rente.salaire_utile", when)
    minimum = Decimal(p.value("atmp.rente.salaire_minimum", when))
    salary = max(Decimal(salaire_annuel_cts), minimum)
    full = minimum * rule["tranche_entiere"]
    if salary <= full:
        return int(salary)
    top = min(salary, minimum * rule["tranche_plafond"])
    useful = full + (top - full) / rule["diviseur_2e_tranche"]
    return int(useful.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def indemnisation_ip(
    taux_ip: int, date_consolidation: dt.date, salaire_annuel_cts: int, params: Parameters | None = None
) -> IndemnisationIP:
    """Capital or rente for an IP rate (percent) fixed at ``date_consolidation``."""
    if not 1 <= taux_ip <= 100:
        raise ValueError("Le taux d'incapacité permanente doit être compris entre 1 et 100 %.")
    p = params if params is not None else load_parameters()
    when = date_consolidation
    if taux_ip < int(p.value("atmp.ip.taux_seuil_rente", when)):
        capital = int(p.value("atmp.ip.capital", when)[str(taux_ip)])
        motif = f"IP de {taux_ip} % : indemnité en capital selon le barème (L434-1 et D434-1 CSS)."
        return IndemnisationIP("capital", capital, 0, Decimal(0), 0, motif)
    rate = taux_utile(taux_ip, when, p)
    useful = salaire_utile(salaire_annuel_cts, when, p)
    rente = int((Decimal(useful) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    motif = (
        f"IP de {taux_ip} % : rente annuelle = salaire utile × taux utile de {rate * 100:.2f} % "
        "(L434-2, R434-2 et R434-28 CSS)."
    )
    return IndemnisationIP("rente", 0, rente, rate, useful, motif)
