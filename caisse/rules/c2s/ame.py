"""AME (aide médicale de l'État) eligibility, CASF L251-1 and L252-3.

- resources over the same window as the C2S, compared with the C2S sans participation ceiling of
  the household (same table, same zone);
- uninterrupted residence in France for more than 3 months at the date of the request, except
  for minors, who get the AME without condition of residence or resources;
- validity: 1 year from the date of the request.
"""

from __future__ import annotations

import datetime as dt

from caisse.rules.c2s.engine import c2s_ceiling, euros, forfait_logement, resource_window, retained_resources
from caisse.rules.c2s.models import AMEDecision, AMERequest
from caisse.rules.parameters import Parameters, load_parameters


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` civil months, clamped to the end of the month (31 Jan + 1 → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def is_minor(birth: dt.date, when: dt.date, majority: int) -> bool:
    """Under ``majority`` years old on ``when``."""
    return add_months(birth, 12 * majority) > when


def decide_ame(request: AMERequest, params: Parameters | None = None) -> AMEDecision:
    """Decide an AME request for the household; minors are eligible whatever the outcome for adults."""
    p = params if params is not None else load_parameters()
    when, size = request.date_demande, len(request.membres)
    majority = int(p.value("ame.age_majorite", when))
    minors = tuple(is_minor(m.date_naissance, when, majority) for m in request.membres)
    first, last = resource_window(when, p)
    resources = retained_resources(request.ressources, first, last) + forfait_logement(
        request.logement, size, when, p
    )
    ceiling = c2s_ceiling(size, request.zone, when, False, p)
    residence_months = int(p.value("ame.residence_minimale", when))
    resident = (
        request.date_debut_residence is not None
        and add_months(request.date_debut_residence, residence_months) < when
    )
    reasons = []
    if resources > ceiling:
        reasons.append(
            f"ressources de {first} à {last} ({euros(resources)}) supérieures au plafond de {euros(ceiling)}"
        )
    if not resident:
        reasons.append(f"résidence ininterrompue en France de plus de {residence_months} mois non établie")
    adults_ok = not reasons
    eligible_members = tuple(adults_ok or minor for minor in minors)
    end = add_months(when, 12 * int(p.value("ame.duree_validite", when))) - dt.timedelta(days=1)
    if adults_ok:
        motif = (
            f"AME accordée du {when.isoformat()} au {end.isoformat()} : ressources de {first} à {last} "
            f"({euros(resources)}) inférieures ou égales au plafond de {euros(ceiling)} et résidence de plus "
            f"de {residence_months} mois (L251-1 et L252-3 CASF)."
        )
    elif any(minors):
        motif = (
            f"AME accordée aux seuls mineurs du foyer du {when.isoformat()} au {end.isoformat()}, sans condition "
            f"(L251-1 CASF) ; refusée aux majeurs : {' ; '.join(reasons)}."
        )
    else:
        motif = f"AME refusée : {' ; '.join(reasons)} (L251-1 CASF)."
    granted = any(eligible_members)
    return AMEDecision(
        id=request.id,
        eligible=granted,
        plafond_cts=ceiling,
        ressources_retenues_cts=resources,
        debut=when if granted else None,
        fin=end if granted else None,
        motif=motif,
        membres_eligibles=eligible_members,
    )
