"""C2S decision: resources over the legal window, ceilings by household, participation by age.

Pure functions (no Django, no I/O). Every legal value comes from the dated parameters
(:mod:`caisse.rules.parameters`) looked up at the date of the request:

- resources: the 12 civil months M-13 to M-2 before the month of the request (R861-8), plus the
  forfait logement for households with housing aid, owners and people lodged for free (R861-5);
- ceilings: the published table per household size and zone (L861-1, R861-3, D861-1); where no
  table is published for the date, the ceiling is derived from the one-person ceiling and the
  household coefficients (métropole, truncated to the euro as rules.md D.2 says of the published
  values), and the DOM one from the métropole one (+ c2s.majoration_dom, rounded to the nearest euro);
- decision (L861-1 1° and 2°): sans participation when the resources are *below* ("inférieures à")
  the ceiling, avec participation when they lie *between* that ceiling and the higher one (1,35 ×),
  both included ("comprises entre"), refus above; RSA beneficiaries get the C2S sans
  participation (L861-2);
- participation: a monthly amount per member by age on 1 January of the year of attribution
  (L861-11).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from caisse.rules.c2s.models import C2SDecision, C2SRequest, MonthlyResource
from caisse.rules.parameters import Parameters, load_parameters

FORFAIT_LOGEMENT_MAX_SIZE = 3  # the published forfait has a "3 persons and more" column


def _params(params: Parameters | None) -> Parameters:
    return params if params is not None else load_parameters()


def euros(cents: int) -> str:
    """French display of an amount in cents: ``14 578,44 €``."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", " ") + f",{frac:02d} €"


def month_index(month: str) -> int:
    """``"YYYY-MM"`` as a number of months since year 0 (for window arithmetic)."""
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def resource_window(when: dt.date, params: Parameters | None = None) -> tuple[str, str]:
    """First and last month (``YYYY-MM``) of the resources counted for a request made on ``when``."""
    window = _params(params).value("c2s.fenetre_ressources", when)
    current = when.year * 12 + when.month - 1
    return month_label(current - int(window["debut"])), month_label(current - int(window["fin"]))


def household_coefficient(size: int, when: dt.date, params: Parameters | None = None) -> Decimal:
    """Sum of the R861-3 coefficients for a household of ``size`` persons (1; 1,5; 1,8; 2,1; +0,4)."""
    coefs = _params(params).value("c2s.coefficients_foyer", when)
    total = Decimal(0)
    for rank in range(1, size + 1):
        total += Decimal(coefs.get(str(rank), coefs["supplementaire"]))
    return total


def _from_table(table: dict[str, int], size: int) -> int:
    sizes = sorted(int(k) for k in table if k.isdigit())
    largest = sizes[-1]
    if size <= largest:
        return table[str(size)]
    return table[str(largest)] + (size - largest) * table["supplementaire"]


def _to_euro(amount_cts: Decimal, rounding: str) -> int:
    return int((amount_cts / 100).quantize(Decimal(1), rounding=rounding)) * 100


def dom_ceiling(metropole_cts: int, when: dt.date, params: Parameters | None = None) -> int:
    """DOM ceiling (cents) derived from the métropole one: + c2s.majoration_dom (D861-1, 11,3 %),
    rounded to the nearest euro, half up.

    rules.md D.2 gives the DOM increase (+11,3 %) and the DOM table of 1 April 2024 but no rounding
    rule for the DOM. Rounding to the nearest euro reproduces all eight household-size values
    (1 to 4 persons, sans and avec participation) of that published table; truncating would give
    four of them one euro too low (e.g. 3 persons sans participation: 18 298 × 1,113 = 20 365,674,
    published 20 366). It is also L861-1's rounding of the ceiling ("arrondi à l'euro le plus proche,
    la fraction d'euro égale à 0,50 étant comptée pour 1").
    """
    rate = Decimal(1) + _params(params).value("c2s.majoration_dom", when)
    return _to_euro(metropole_cts * rate, ROUND_HALF_UP)


def c2s_ceiling(
    household_size: int,
    zone: str,
    when: dt.date,
    with_participation: bool,
    params: Parameters | None = None,
) -> int:
    """Annual resource ceiling in cents for a household on the date of the request.

    The published table is used as published. Without a table in force, the métropole ceiling
    is the one-person ceiling × household coefficient (× 1,35 with participation), truncated to
    the euro (rules.md D.2: published values are truncated), and the DOM ceiling is the métropole
    one increased by the DOM rate and rounded to the nearest euro (:func:`dom_ceiling`).
    """
    if household_size < 1:
        raise ValueError("Un foyer compte au moins une personne.")
    p = _params(params)
    suffix = "avec_participation" if with_participation else "sans_participation"
    table = p.parameter(f"c2s.plafond_{zone}_{suffix}")
    if table.defined_at(when):
        return _from_table(table.at(when), household_size)
    if zone != "metropole":
        return dom_ceiling(c2s_ceiling(household_size, "metropole", when, with_participation, p), when, p)
    base = Decimal(p.value("c2s.plafond_une_personne", when)) * household_coefficient(household_size, when, p)
    if with_participation:
        base *= p.value("c2s.coefficient_avec_participation", when)
    return _to_euro(base, ROUND_FLOOR)


def forfait_logement(
    logement: str, household_size: int, when: dt.date, params: Parameters | None = None
) -> int:
    """Annual forfait logement (cents) added to the resources, 0 where it does not apply (R861-5)."""
    p = _params(params)
    if logement not in str(p.value("c2s.logements_avec_forfait", when)).split(","):
        return 0
    monthly = p.value("c2s.forfait_logement", when)
    return 12 * int(monthly[str(min(household_size, FORFAIT_LOGEMENT_MAX_SIZE))])


def retained_resources(resources: tuple[MonthlyResource, ...], first: str, last: str) -> int:
    """Sum of the monthly resources inside the window (months outside it are ignored)."""
    lo, hi = month_index(first), month_index(last)
    return sum(r.montant_cts for r in resources if lo <= month_index(r.mois) <= hi)


def age_on_1_january(birth: dt.date, year: int) -> int:
    """Age in whole years on 1 January of ``year`` (0 for a child not yet born then)."""
    age = year - birth.year - (0 if (birth.month, birth.day) == (1, 1) else 1)
    return max(age, 0)


def participation_for_age(age: int, when: dt.date, params: Parameters | None = None) -> int:
    """Monthly participation (cents) of one member of ``age`` on 1 January (L861-11)."""
    bands = _params(params).value("c2s.participation_mensuelle", when)
    start = max((int(k) for k in bands if int(k) <= age), default=min(int(k) for k in bands))
    return int(bands[str(start)])


def participations(request: C2SRequest, params: Parameters | None = None) -> tuple[int, ...]:
    """Monthly participation per member, in input order, by age on 1 January of the year of attribution."""
    year = request.date_demande.year
    return tuple(
        participation_for_age(age_on_1_january(m.date_naissance, year), request.date_demande, params)
        for m in request.membres
    )


def decide_c2s(request: C2SRequest, params: Parameters | None = None) -> C2SDecision:
    """Decide a C2S request: c2s_gratuite, c2s_participation or refus, with a French motif."""
    p = _params(params)
    when, size = request.date_demande, len(request.membres)
    first, last = resource_window(when, p)
    forfait = forfait_logement(request.logement, size, when, p)
    resources = retained_resources(request.ressources, first, last) + forfait
    free_ceiling = c2s_ceiling(size, request.zone, when, False, p)
    paying_ceiling = c2s_ceiling(size, request.zone, when, True, p)
    zone = "métropole" if request.zone == "metropole" else "outre-mer"
    foyer = f"un foyer de {size} personne{'s' if size > 1 else ''} ({zone}, barème en vigueur le {when.isoformat()})"
    counted = f"Ressources retenues de {first} à {last} (M-13 à M-2, R861-8 CSS) : {euros(resources)}"
    if forfait:
        counted += f", dont forfait logement {euros(forfait)} (R861-5 CSS)"
    common: dict[str, Any] = {
        "id": request.id,
        "ressources_retenues_cts": resources,
        "plafond_sans_participation_cts": free_ceiling,
        "plafond_avec_participation_cts": paying_ceiling,
        "forfait_logement_cts": forfait,
        "periode_ressources": (first, last),
        "duree_droit_mois": int(p.value("c2s.duree_droit", when)),
    }
    nobody = tuple(0 for _ in request.membres)
    if request.rsa and p.value("c2s.rsa_sans_participation", when):
        motif = (
            "Bénéficiaire du RSA : C2S sans participation attribuée sans condition de ressources "
            f"(L861-2 CSS). {counted}."
        )
        return C2SDecision(
            decision="c2s_gratuite",
            plafond_cts=free_ceiling,
            participation_mensuelle_cts=0,
            participations=nobody,
            motif=motif,
            **common,
        )
    # L861-1 1° : « ressources ... inférieures à un plafond » — strictly below (rules.md D.2 "below
    # ceiling P"); resources equal to the ceiling fall under the 2° (participation).
    if resources < free_ceiling:
        motif = (
            f"{counted}, inférieures au plafond sans participation de {euros(free_ceiling)} "
            f"pour {foyer} (L861-1 1°, R861-3 CSS) : C2S sans participation."
        )
        return C2SDecision(
            decision="c2s_gratuite",
            plafond_cts=free_ceiling,
            participation_mensuelle_cts=0,
            participations=nobody,
            motif=motif,
            **common,
        )
    # L861-1 2° : « comprises entre le plafond mentionné au 1° et ce même plafond majoré de 35 % »,
    # both bounds included; above the higher ceiling, refus.
    if resources <= paying_ceiling:
        amounts = participations(request, p)
        motif = (
            f"{counted}, comprises entre le plafond sans participation de {euros(free_ceiling)} et le "
            f"plafond avec participation de {euros(paying_ceiling)} pour {foyer} (L861-1 2° CSS) : "
            f"C2S avec participation de {euros(sum(amounts))} par mois, selon l'âge de chacun au 1er janvier "
            f"{when.year} (L861-11 CSS)."
        )
        return C2SDecision(
            decision="c2s_participation",
            plafond_cts=paying_ceiling,
            participation_mensuelle_cts=sum(amounts),
            participations=amounts,
            motif=motif,
            **common,
        )
    motif = (
        f"{counted}, supérieures au plafond avec participation de {euros(paying_ceiling)} pour {foyer} "
        "(L861-1 CSS) : refus."
    )
    return C2SDecision(
        decision="refus",
        plafond_cts=paying_ceiling,
        participation_mensuelle_cts=0,
        participations=nobody,
        motif=motif,
        **common,
    )
