"""The dated legal values an arrêt needs, as one row per distinct start date.

Arrêts of a batch start on a few hundred distinct days at most: the parameters are looked up in
Python once per day (at the event date, and for the IJ maladie cap at the last day of the month
before the arrêt, R323-4) and joined to the arrêts. A day with a missing parameter gets a French
message in ``_param_erreur`` instead of values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from dateutil.relativedelta import relativedelta

from caisse.rules.parameters import ParameterError, Parameters

LEGAL_SCHEMA: dict[str, pl.DataType] = {
    "date_debut": pl.Date(),
    "_param_erreur": pl.String(),
    "_cap_maladie": pl.Float64(),  # cents per month: k × SMIC mensuel of the month before
    "_coef_smic": pl.Float64(),
    "_pmss": pl.Float64(),
    "_cap_sjb_atmp": pl.Float64(),  # cents per day: 0,834 % PASS
    "_div_maladie": pl.Float64(),
    "_div_atmp": pl.Float64(),
    "_mois_ref": pl.Int64(),
    "_taux_maladie": pl.Int64(),
    "_deduction_mat": pl.Int64(),
    "_ij_min_mat": pl.Int64(),
    "_taux_atmp_1": pl.Int64(),
    "_taux_atmp_2": pl.Int64(),
    "_jour_atmp_2": pl.Int64(),
    "_gain_net": pl.Boolean(),
    "_deduction_gain_net": pl.Int64(),
    "_carence": pl.Int64(),
    "_heures_3m": pl.Float64(),
    "_seuil_6m": pl.Float64(),  # cents: 1 015 × SMIC horaire
    "_seuil_12m": pl.Float64(),  # cents: 2 030 × SMIC horaire
    "_mois_condition_longue": pl.Int64(),
    "_mat_1_2": pl.Int64(),
    "_mat_3": pl.Int64(),
    "_mat_jumeaux": pl.Int64(),
    "_mat_triples": pl.Int64(),
    # Postnatal days of each case: a late birth extends the prénatal, never shortens these.
    "_mat_1_2_post": pl.Int64(),
    "_mat_3_post": pl.Int64(),
    "_mat_jumeaux_post": pl.Int64(),
    "_mat_triples_post": pl.Int64(),
    "_rang_3_enfants": pl.Int64(),
    "_pat_simple": pl.Int64(),
    "_pat_multiple": pl.Int64(),
    "_max_ij": pl.Int64(),
    "_annees_max_ij": pl.Int64(),
    "_annees_ald": pl.Int64(),
    "_annees_carence_ald": pl.Int64(),
    "_annees_reprise_ald": pl.Int64(),
    # IJ maladie majorée for 3 children or more (abolished in 2020): null where not in force.
    "_maj_enfants": pl.Int64(),
    "_maj_jour": pl.Int64(),
    "_maj_num": pl.Int64(),
    "_maj_den": pl.Int64(),
    # French clauses of the motif that only depend on the legal values of the day.
    "_txt_maladie": pl.String(),
    "_txt_atmp": pl.String(),
    "_txt_maternite": pl.String(),
    "_txt_paternite": pl.String(),
    "_txt_360": pl.String(),
}


def _total(duration: dict[str, Any]) -> int:
    return int(duration["prenatal"]) + int(duration["postnatal"])


def _fr(number: Any) -> str:
    """``91.25`` → ``91,25`` and ``1.40`` → ``1,4`` (French decimal display)."""
    text = format(number, "f").rstrip("0").rstrip(".") if "." in str(number) else str(number)
    return text.replace(".", ",")


def _texts(values: dict[str, Any]) -> dict[str, str]:
    months, divisor = values["_mois_ref"], _fr(values["_div_maladie_txt"])
    family = (
        "sans carence : salaire journalier de base diminué de {ded} % (R331-5 CSS ; salaires des {m} mois avant "
        "le congé, chacun plafonné au PMSS, divisés par {d}) de "
    ).format(ded=values["_deduction_mat"], m=months, d=divisor)
    return {
        "_txt_maladie": (
            f"IJ maladie de {values['_taux_maladie']} % du salaire journalier de base (salaires des {months} mois "
            f"civils avant l'arrêt, chacun plafonné à {_fr(values['_coef_smic_txt'])} SMIC mensuel, divisés par "
            f"{divisor} ; R323-4 et R323-5 CSS) de "
        ),
        "_txt_atmp": (
            f"IJ AT/MP sans carence, {values['_taux_atmp_1']} % jusqu'au {values['_jour_atmp_2'] - 1}e jour puis "
            f"{values['_taux_atmp_2']} % (R433-3 CSS) du salaire journalier de base (dernier salaire mensuel / "
            f"{_fr(values['_div_atmp_txt'])}, plafonné à 0,834 % du PASS ; R433-4 CSS) de "
        ),
        "_txt_maternite": "IJ maternité " + family,
        "_txt_paternite": "IJ paternité " + family,
        "_txt_360": f" ; limité à {values['_max_ij']} IJ sur {values['_annees_max_ij']} ans (R323-1 CSS)",
    }


def _majoration(params: Parameters, day: dt.date) -> dict[str, Any]:
    """The IJ maladie majorée for 3 children or more of an arrêt starting on ``day`` (all None once
    abolished)."""
    name = "ij.maladie.majoration_trois_enfants"
    if not params.parameter(name).defined_at(day):
        return {"_maj_enfants": None, "_maj_jour": None, "_maj_num": None, "_maj_den": None}
    m = params.value(name, day)
    return {"_maj_enfants": m["enfants_a_charge"], "_maj_jour": m["a_partir_du_jour"],
            "_maj_num": m["numerateur"], "_maj_den": m["denominateur"]}


def legal_values(params: Parameters, day: dt.date) -> dict[str, Any]:
    """Every value an arrêt starting on ``day`` needs (see :data:`LEGAL_SCHEMA`)."""
    v = params.value
    month_before = day.replace(day=1) - dt.timedelta(days=1)
    coef = v("ij.maladie.coefficient_plafond_smic", day)
    smic_h = v("reference.smic_horaire", day)
    maternity = v("ij.maternite.duree", day)
    paternity = v("ij.paternite.duree", day)
    rates = v("atmp.ij.taux", day)
    values = {
        "date_debut": day,
        "_param_erreur": None,
        "_cap_maladie": float(coef * v("reference.smic_mensuel", month_before)),
        "_coef_smic": float(coef),
        "_pmss": float(v("reference.pmss", day)),
        "_cap_sjb_atmp": float(v("atmp.ij.plafond_ratio_pass", day) * v("reference.pass", day)),
        "_div_maladie": float(v("ij.maladie.diviseur_salaire_journalier", day)),
        "_div_atmp": float(v("atmp.ij.diviseur_salaire_journalier", day)),
        "_mois_ref": v("ij.maladie.mois_reference", day),
        "_taux_maladie": v("ij.maladie.taux", day),
        "_deduction_mat": v("ij.maternite.taux_deduction_forfaitaire", day),
        "_ij_min_mat": v("ij.maternite.ij_minimum", day),
        "_taux_atmp_1": rates["initial"],
        "_taux_atmp_2": rates["majore"],
        "_jour_atmp_2": v("atmp.ij.jour_taux_majore", day),
        "_gain_net": v("atmp.ij.plafond_gain_journalier_net", day),
        "_deduction_gain_net": v("atmp.ij.taux_deduction_gain_net", day),
        "_carence": v("ij.maladie.jours_carence", day),
        "_heures_3m": float(v("ij.eligibilite.heures_3_mois", day)),
        "_seuil_6m": float(v("ij.eligibilite.smic_horaire_6_mois", day) * smic_h),
        "_seuil_12m": float(v("ij.eligibilite.smic_horaire_12_mois", day) * smic_h),
        "_mois_condition_longue": v("ij.eligibilite.duree_arret_condition_longue", day),
        "_mat_1_2": _total(maternity["rang_1_2"]),
        "_mat_3": _total(maternity["rang_3_plus"]),
        "_mat_jumeaux": _total(maternity["jumeaux"]),
        "_mat_triples": _total(maternity["triples_ou_plus"]),
        "_mat_1_2_post": int(maternity["rang_1_2"]["postnatal"]),
        "_mat_3_post": int(maternity["rang_3_plus"]["postnatal"]),
        "_mat_jumeaux_post": int(maternity["jumeaux"]["postnatal"]),
        "_mat_triples_post": int(maternity["triples_ou_plus"]["postnatal"]),
        "_rang_3_enfants": v("ij.maternite.enfants_a_charge_rang_3", day),
        "_pat_simple": paternity["simple"],
        "_pat_multiple": paternity["multiple"],
        "_max_ij": v("ij.maladie.max_ij_periode", day),
        "_annees_max_ij": v("ij.maladie.periode_max_ij", day),
        "_annees_ald": v("ij.maladie.ald_duree_max", day),
        "_annees_carence_ald": v("ij.maladie.ald_periode_carence_unique", day),
        "_annees_reprise_ald": v("ij.maladie.ald_reprise_nouvelle_periode", day),
        **_majoration(params, day),
        "_coef_smic_txt": coef,
        "_div_maladie_txt": v("ij.maladie.diviseur_salaire_journalier", day),
        "_div_atmp_txt": v("atmp.ij.diviseur_salaire_journalier", day),
    }
    values.update(_texts(values))
    for name in ("_coef_smic_txt", "_div_maladie_txt", "_div_atmp_txt"):
        del values[name]
    return values


PATERNITY_BY_BIRTH_SCHEMA: dict[str, pl.DataType] = {
    "date_accouchement": pl.Date(),
    "_pat_simple_naissance": pl.Int64(),
    "_pat_multiple_naissance": pl.Int64(),
    # Last day of the window the leave is taken in (D1225-8 Code du travail), None when not checked.
    "_pat_fin_delai": pl.Date(),
}


def _months_after(day: dt.date, months: int) -> dt.date:
    """Same day ``months`` later, end of month clamped (31 August + 6 months → 28/29 February);
    31/12/9999 beyond the calendar."""
    try:
        later: dt.date = day + relativedelta(months=months)
    except (OverflowError, ValueError):
        return dt.date.max
    return later


def paternity_by_birth(births: pl.Series, params: Parameters) -> pl.DataFrame:
    """The paternity leave's durations by date of birth (rules.md B.2: the 25 days apply to births
    from 1 July 2021, whatever the leave's first day), and the last day of the window the leave is
    taken in (6 months from the birth); a date the parameter does not cover is left out (the
    leave's first day decides)."""
    rows = []
    window = params.parameter("ij.paternite.delai_prise")
    for day in births.drop_nulls().unique().to_list():
        try:
            duration = params.value("ij.paternite.duree", day)
        except ParameterError:
            continue
        end = None
        if window.defined_at(day):
            after = _months_after(day, int(window.at(day)))
            end = after if after == dt.date.max else after - dt.timedelta(days=1)
        rows.append((day, int(duration["simple"]), int(duration["multiple"]), end))
    return pl.DataFrame(rows, schema=PATERNITY_BY_BIRTH_SCHEMA, orient="row")


def legal_frame(days: pl.Series, params: Parameters) -> pl.DataFrame:
    """One row of legal values per distinct start date in ``days`` (nulls dropped)."""
    rows = []
    for day in days.drop_nulls().unique().to_list():
        try:
            rows.append(legal_values(params, day))
        except (ParameterError, OverflowError) as exc:
            # OverflowError: an arrêt of January of year 1 has no month before (R323-4 SMIC).
            message = (
                str(exc)
                if isinstance(exc, ParameterError)
                else f"Aucune valeur légale en vigueur pour un arrêt commençant le {day.isoformat()}."
            )
            row: dict[str, Any] = dict.fromkeys(LEGAL_SCHEMA)
            row["date_debut"], row["_param_erreur"] = day, message
            rows.append(row)
    return (
        pl.DataFrame(rows, schema=LEGAL_SCHEMA, orient="row") if rows else pl.DataFrame(schema=LEGAL_SCHEMA)
    )
