"""IJ (indemnités journalières) of arrêts de travail, vectorised with Polars, money in cents.

Rules (rules.md B.1-B.3), every value from the dated parameters at the first day of the arrêt:

- eligibility (R313-3), per risk:

  - maladie, first 6 months: ≥ 150 h of work in the 3 months before the arrêt, or salaries ≥
    1 015 × SMIC horaire over the 6 civil months before (B.1); beyond 6 months of continuous
    arrêt, salaries ≥ 2 030 × SMIC horaire over the 12 civil months before as well, else payment
    stops at the end of the 6th month;
  - maternité, paternité: the same conditions, any of them opening the right from the first day
    (B.2): 150 h over 3 months, or 1 015 × SMIC horaire over 6 months, or 2 030 × SMIC horaire
    over the 12 civil months before the congé;
  - AT/MP: no condition (B.3).

  Not tested, the input has no field for them: the 600 h over 12 months alternative (only
  ``heures_travaillees_3_mois`` is given), the 12 months of affiliation beyond 6 months of
  maladie, the 6 months of immatriculation and the 8 weeks of stopped work of maternity.
  Thresholds are the dated parameters ``ij.eligibilite.*`` at the first day of the arrêt or
  congé, with the SMIC horaire of that day;
- salaire journalier de base (SJB): maladie, the 3 civil months before the month of the arrêt,
  each capped at k × SMIC mensuel in force the last day of the month before (R323-4), / 91,25;
  maternité/paternité, the same months capped at the PMSS; AT/MP, the last month / 30,42 capped
  at 0,834 % PASS (R433-4). Salaries of the month of the arrêt or later are ignored;
- IJ: 50 % of the SJB (maladie), SJB − 21 % (maternité/paternité), 60 % then 80 % from day 29
  (AT/MP); each daily IJ is rounded half up to the cent from the unrounded SJB;
- carence (L323-1, R323-1): 3 days for maladie, none for a prolongation, for a later ALD arrêt
  within 3 years, for AT/MP, maternité, paternité;
- durations: maternity by rank and multiple birth, paternity 25/32 days (L1225-17 s. Code du
  travail); 360 IJ over 3 years and 3 years per ALD (see :mod:`caisse.rules.allowances.limits`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from caisse.batch_io import contract_month
from caisse.rules.allowances.legal import legal_frame, paternity_by_birth
from caisse.rules.allowances.limits import ald_start, limit_360, offset_by
from caisse.rules.allowances.schema import frame_from_records, typed
from caisse.rules.parameters import Parameters, load_parameters

RISKS = ("maladie", "maternite", "paternite", "atmp")
OUTPUT_COLUMNS = (
    "id",
    "eligible",
    "motif",
    "salaire_journalier_base_cts",
    "jours_carence",
    "jours_indemnises",
    "periodes",
    "montant_total_cts",
    "erreur",
)
_EPSILON = 1e-7  # float noise guard for the half-up rounding (data granularity is far coarser)


def round_half_up(amount: pl.Expr) -> pl.Expr:
    """Round a non-negative amount of cents half up to a whole cent."""
    return (amount + 0.5 + _EPSILON).floor().cast(pl.Int64)


def euros(cents: pl.Expr) -> pl.Expr:
    """French display of an integer amount of cents: ``41,47 €``."""
    return pl.format("{},{} €", cents // 100, (cents % 100).cast(pl.String).str.zfill(2))


def _days(n: pl.Expr) -> pl.Expr:
    return pl.duration(days=n)


def _reference_months(frame: pl.DataFrame) -> int:
    """The largest number of salary months any arrêt of the frame needs (at least 1)."""
    largest: Any = frame.select(pl.col("_mois_ref").max()).item()
    return max(int(largest or 0), 1)


MAX_BRUT_CTS = 10**13
"""A monthly gross salary above 100 milliards d'euros is a malformed amount, not a pay: the sums
of a record's salaries then always fit in 64-bit integers."""


def _salary_lists(frame: pl.DataFrame) -> pl.DataFrame:
    """Add per arrêt the gross salaries (``_brut``), how many months before the arrêt each is
    (``_avant``, 1 = the month before) and whether a salary line is malformed (``_sal_bad``)."""
    salaries = pl.col("salaires")
    month = contract_month(pl.element().struct.field("mois"))  # null if malformed
    arret_month = pl.col("date_debut").dt.year() * 12 + pl.col("date_debut").dt.month()
    frame = frame.with_columns(
        _brut=salaries.list.eval(pl.element().struct.field("brut_cts")),
        _mois_num=salaries.list.eval(month.dt.year() * 12 + month.dt.month()),
    )
    malformed = (
        pl.col("_mois_num").list.eval(pl.element().is_null()).list.any()
        | pl.col("_brut").list.eval(pl.element().is_null() | (pl.element() < 0) | (pl.element() > MAX_BRUT_CTS)).list.any()
    )
    return frame.with_columns(
        _avant=arret_month - pl.col("_mois_num"),
        _sal_bad=malformed.fill_null(False),
    )


def _with_last_pay(frame: pl.DataFrame) -> pl.DataFrame:
    """``_dernier_salaire``: the AT/MP base, the last pay before the arrêt (R433-4 CSS: « la
    dernière paie antérieure à la date de l'interruption du travail »), that is the salaries of
    the latest month before the arrêt's month that has one (several lines of that month add up)."""
    last = (
        frame.lazy()
        .filter(pl.col("risque") == "atmp")
        .select("_row", "_brut", "_avant")
        .explode("_brut", "_avant")
        .filter(pl.col("_avant") >= 1)
        .filter(pl.col("_avant") == pl.col("_avant").min().over("_row"))
        .group_by("_row")
        .agg(pl.col("_brut").sum().alias("_dernier_salaire"))
        .collect()
    )
    return frame.join(last, on="_row", how="left", maintain_order="left")


def _salary_sums(reference_months: int) -> dict[str, pl.Expr]:
    """Salary of each reference month before the arrêt (``_m1`` = the month before), 6 and
    12-month sums. Salaries of the month of the arrêt or later are ignored; several lines for the
    same month (several employers) add up before any cap. Works on the lists themselves (no
    explode, no join): the rows stay aligned with the arrêts.
    """

    def total(keep: pl.Expr) -> pl.Expr:
        return (pl.col("_brut") * pl.col("_avant").list.eval(keep.cast(pl.Int64))).list.sum().fill_null(0)

    return {
        "_s6": total(pl.element().is_between(1, 6)),
        "_s12": total(pl.element().is_between(1, 12)),
        **{f"_m{j}": total(pl.element() == j) for j in range(1, reference_months + 1)},
    }


def _capped_sum(reference_months: int, cap: str) -> pl.Expr:
    """Sum of the reference months' salaries, each capped at column ``cap``."""
    terms = [
        pl.when(pl.col("_mois_ref") >= j).then(pl.min_horizontal(pl.col(f"_m{j}"), pl.col(cap))).otherwise(0)
        for j in range(1, reference_months + 1)
    ]
    return pl.sum_horizontal(terms) if terms else pl.lit(0.0)


def _validation(frame: pl.DataFrame) -> pl.DataFrame:
    """``erreur`` / ``motif_erreur`` for records that cannot be computed, and ``_valide``."""
    risk = pl.col("risque")
    checks: list[tuple[pl.Expr, str, pl.Expr]] = [
        (pl.col("id").is_null(), "DONNEE_INVALIDE", pl.lit("L'identifiant de l'arrêt (« id ») est absent.")),
        (
            risk.is_null(),
            "DONNEE_INVALIDE",
            pl.lit("Le risque de l'arrêt (« risque ») est absent : maladie, maternite, paternite ou atmp attendu."),
        ),
        (
            ~risk.is_in(RISKS),
            "DONNEE_INVALIDE",
            pl.format("Le risque « {} » est inconnu (maladie, maternite, paternite ou atmp).", risk),
        ),
        (
            pl.col("date_debut").is_null(),
            "DONNEE_INVALIDE",
            pl.lit("La date de début de l'arrêt est absente ou invalide (AAAA-MM-JJ)."),
        ),
        (
            pl.col("_bad_date_fin") | (pl.col("date_fin").is_null() & risk.is_in(("maladie", "atmp"))),
            "DONNEE_INVALIDE",
            pl.lit("La date de fin de l'arrêt est absente ou invalide (AAAA-MM-JJ)."),
        ),
        (
            pl.col("date_fin") < pl.col("date_debut"),
            "DONNEE_INVALIDE",
            pl.lit("La date de fin de l'arrêt précède sa date de début."),
        ),
        (
            pl.col("_bad_date_accouchement") | pl.col("_bad_date_premier_arret_ald"),
            "DONNEE_INVALIDE",
            pl.lit("Une date de l'arrêt est invalide (AAAA-MM-JJ)."),
        ),
        (
            (pl.col("heures_travaillees_3_mois") < 0)
            | (pl.col("enfants_a_charge") < 0)
            | (pl.col("naissance_multiple") < 1),
            "DONNEE_INVALIDE",
            pl.lit("Heures travaillées, enfants à charge ou naissance multiple hors des valeurs possibles."),
        ),
        (
            pl.col("_sal_bad").fill_null(False),
            "DONNEE_INVALIDE",
            pl.lit("Un salaire est mal formé (mois AAAA-MM et montant entier positif en centimes, "
                   "inférieur à 100 milliards d'euros, attendus)."),
        ),
        (pl.col("_param_erreur").is_not_null(), "PARAMETRE_INDISPONIBLE", pl.col("_param_erreur")),
    ]
    code: pl.Expr = pl.col("erreur")
    message: pl.Expr = pl.col("motif_erreur")
    for condition, error, text in reversed(checks):
        hit = condition.fill_null(False)
        code = pl.when(pl.col("erreur").is_null() & hit).then(pl.lit(error)).otherwise(code)
        message = pl.when(pl.col("erreur").is_null() & hit).then(text).otherwise(message)
    # ``reversed`` + overwrite keeps the first failing check, as a reader would list them.
    return frame.with_columns(erreur=code, motif_erreur=message).with_columns(
        _valide=pl.col("erreur").is_null()
    )


def _base_and_rates(frame: pl.DataFrame) -> pl.DataFrame:
    """Eligibility, unrounded SJB and the daily IJ (1st and, for AT/MP, 2nd rate)."""
    risk = pl.col("risque")
    hours = pl.col("heures_travaillees_3_mois").fill_null(0)
    sjb = (
        pl.when(risk == "maladie")
        .then(pl.col("_s3_maladie") / pl.col("_div_maladie"))
        .when(risk == "atmp")
        .then(pl.min_horizontal(pl.col("_dernier_salaire").fill_null(0) / pl.col("_div_atmp"), pl.col("_cap_sjb_atmp")))
        .otherwise(pl.col("_s3_pmss") / pl.col("_div_maladie"))
    )
    condition_12_months = pl.col("_s12") >= pl.col("_seuil_12m")
    frame = frame.with_columns(
        eligible=pl.col("_valide")
        & (
            (risk == "atmp")
            | (hours >= pl.col("_heures_3m"))
            | (pl.col("_s6") >= pl.col("_seuil_6m"))
            # R313-3 and rules.md B.2: for maternité/paternité the 12-month condition is a fourth
            # way of opening the right; for maladie it only extends it beyond 6 months.
            | (risk.is_in(("maternite", "paternite")) & condition_12_months)
        ),
        _condition_longue=condition_12_months,
        _sjb=sjb,
    )
    net = round_half_up(pl.col("_sjb") * (100 - pl.col("_deduction_gain_net")) / 100)
    atmp_1 = round_half_up(pl.col("_sjb") * pl.col("_taux_atmp_1") / 100)
    atmp_2 = round_half_up(pl.col("_sjb") * pl.col("_taux_atmp_2") / 100)
    capped = pl.col("_gain_net").fill_null(False)
    # Before its abolition (arrêts from 2 June 2020), the IJ maladie of an assuré with 3 children or
    # more is raised to a fraction of the SJB from a day of the arrêt (the 31st).
    frame = frame.with_columns(
        _majoree=((risk == "maladie") & (pl.col("enfants_a_charge").fill_null(0) >= pl.col("_maj_enfants")))
        .fill_null(False)
    )
    majoree = round_half_up(pl.col("_sjb") * pl.col("_maj_num") / pl.col("_maj_den"))
    return frame.with_columns(
        _ij1=pl.when(risk == "maladie")
        .then(round_half_up(pl.col("_sjb") * pl.col("_taux_maladie") / 100))
        .when(risk == "atmp")
        .then(pl.when(capped).then(pl.min_horizontal(atmp_1, net)).otherwise(atmp_1))
        .otherwise(
            pl.max_horizontal(
                round_half_up(pl.col("_sjb") * (100 - pl.col("_deduction_mat")) / 100), pl.col("_ij_min_mat")
            )
        ),
        _ij2=pl.when(pl.col("_majoree"))
        .then(majoree)
        .when(risk == "atmp")
        .then(pl.when(capped).then(pl.min_horizontal(atmp_2, net)).otherwise(atmp_2)),
    )


def _entitlement(frame: pl.DataFrame) -> pl.DataFrame:
    """Carence, first and last indemnified day before the cross-arrêt limits."""
    risk = pl.col("risque")
    multiple = pl.col("naissance_multiple").fill_null(1)

    def by_case(suffix: str) -> pl.Expr:
        return (
            pl.when(multiple >= 3)
            .then(pl.col(f"_mat_triples{suffix}"))
            .when(multiple == 2)
            .then(pl.col(f"_mat_jumeaux{suffix}"))
            .when(pl.col("enfants_a_charge").fill_null(0) >= pl.col("_rang_3_enfants"))
            .then(pl.col(f"_mat_3{suffix}"))
            .otherwise(pl.col(f"_mat_1_2{suffix}"))
        )

    # A birth later than the prénatal's end extends the prénatal up to the birth, the postnatal
    # keeps its length (Code du travail L1225-21; rules.md B.2); an earlier one lengthens the
    # postnatal by as much (the total stays).
    until_birth_then_postnatal = (pl.col("date_accouchement") - pl.col("date_debut")).dt.total_days() + by_case("_post")
    late_birth = (risk == "maternite") & (until_birth_then_postnatal > by_case(""))
    maternity_days = pl.when(late_birth).then(until_birth_then_postnatal).otherwise(by_case(""))
    # Paternity: the duration of the child's date of birth when given (rules.md B.2).
    paternity_simple = pl.coalesce("_pat_simple_naissance", "_pat_simple")
    paternity_multiple = pl.coalesce("_pat_multiple_naissance", "_pat_multiple")
    legal_days = (
        pl.when(risk == "maternite")
        .then(maternity_days)
        .when(risk == "paternite")
        .then(pl.when(multiple >= 2).then(paternity_multiple).otherwise(paternity_simple))
    )
    frame = frame.with_columns(
        ald=pl.col("ald").fill_null(False),
        prolongation=pl.col("prolongation").fill_null(False),
        _duree_legale=legal_days,
        _naissance_tardive=late_birth.fill_null(False),
    )
    frame = ald_start(frame)
    legal_end = pl.col("date_debut") + _days(pl.col("_duree_legale") - 1)
    end = (
        pl.when(risk.is_in(("maternite", "paternite")))
        .then(pl.min_horizontal(pl.col("date_fin"), legal_end))
        .otherwise(pl.col("date_fin"))
    )
    arret_days = (pl.col("date_fin").fill_null(legal_end) - pl.col("date_debut")).dt.total_days() + 1
    later_ald = pl.col("ald") & (pl.col("date_debut") > pl.col("_ald_debut"))
    with_carence = (risk == "maladie") & ~pl.col("prolongation") & ~later_ald.fill_null(False)
    six_months_end = offset_by(frame, pl.col("date_debut"), "_mois_condition_longue", "mo") - _days(pl.lit(1))
    ald_end = offset_by(frame, pl.col("_ald_debut"), "_annees_ald", "y") - _days(pl.lit(1))
    frame = frame.with_columns(
        jours_carence=pl.when(pl.col("eligible") & with_carence)
        .then(pl.min_horizontal(pl.col("_carence"), arret_days))
        .otherwise(0),
        _fin=end,
        _coupe_6_mois=(risk == "maladie")
        & ~pl.col("_condition_longue")
        & (pl.col("date_fin") > six_months_end),
        _six_mois_fin=six_months_end,
        _coupe_legale=risk.is_in(("maternite", "paternite")) & (pl.col("date_fin") > legal_end),
    ).with_columns(_debut=pl.col("date_debut") + _days(pl.col("jours_carence")))
    frame = frame.with_columns(
        _fin=pl.when(pl.col("_coupe_6_mois")).then(pl.col("_six_mois_fin")).otherwise(pl.col("_fin")),
        _coupe_ald=pl.col("ald") & (risk == "maladie") & (pl.col("_fin") > ald_end).fill_null(False),
        # Paternity: only the days within the window after the birth (D1225-8 Code du travail).
        _coupe_delai=((risk == "paternite") & (pl.col("_fin") > pl.col("_pat_fin_delai"))).fill_null(False),
    ).with_columns(
        _fin=pl.when(pl.col("_coupe_ald"))
        .then(ald_end)
        .when(pl.col("_coupe_delai"))
        .then(pl.col("_pat_fin_delai"))
        .otherwise(pl.col("_fin")),
    )
    return limit_360(frame)


_LAST_DAY = pl.lit(dt.date(9999, 12, 31))


def _beyond_calendar(frame: pl.DataFrame) -> pl.DataFrame:
    """A paid period ending after 31/12/9999 (a congé starting in December 9999, or a birth dated in
    year 9999 that stretches the prénatal) has no ``AAAA-MM-JJ`` end date: the record is refused
    rather than written with a date outside the contract's form."""
    beyond = (pl.col("_valide") & (pl.col("_fin") > _LAST_DAY)).fill_null(False)
    if not frame.select(beyond.any()).item():
        return frame
    return frame.with_columns(
        erreur=pl.when(beyond).then(pl.lit("DONNEE_INVALIDE")).otherwise(pl.col("erreur")),
        motif_erreur=pl.when(beyond)
        .then(pl.lit("La période indemnisée irait au-delà du 31/12/9999 : dates de l'arrêt invalides."))
        .otherwise(pl.col("motif_erreur")),
        _valide=pl.col("_valide") & ~beyond,
        eligible=pl.col("eligible") & ~beyond,
        jours_carence=pl.when(beyond).then(0).otherwise(pl.col("jours_carence")),
    )


def _periods(frame: pl.DataFrame) -> pl.DataFrame:
    """The paid periods (one, or two for AT/MP around day 29 and for the IJ maladie majorée from
    day 31), days and total."""
    paid = pl.col("eligible") & (pl.col("_fin") >= pl.col("_debut"))
    is_atmp = (pl.col("risque") == "atmp") | pl.col("_majoree")
    second_day = pl.when(pl.col("_majoree")).then(pl.col("_maj_jour")).otherwise(pl.col("_jour_atmp_2"))
    boundary = pl.col("date_debut") + _days(second_day - 1)
    end_1 = (
        pl.when(is_atmp)
        .then(pl.min_horizontal(pl.col("_fin"), boundary - _days(pl.lit(1))))
        .otherwise(pl.col("_fin"))
    )
    start_2 = pl.max_horizontal(pl.col("_debut"), boundary)
    frame = frame.with_columns(
        _p1_fin=end_1,
        _p1_jours=pl.when(paid).then(
            pl.max_horizontal((end_1 - pl.col("_debut")).dt.total_days() + 1, pl.lit(0))
        ),
        _p2_debut=start_2,
        _p2_jours=pl.when(paid & is_atmp).then(
            pl.max_horizontal((pl.col("_fin") - start_2).dt.total_days() + 1, pl.lit(0))
        ),
    ).with_columns(pl.col("_p1_jours", "_p2_jours").fill_null(0))
    first = frame.filter(pl.col("_p1_jours") > 0).select(
        "_row", _ordre=pl.lit(1), p=pl.struct(debut="_debut", fin="_p1_fin", ij_journaliere_cts="_ij1")
    )
    second = frame.filter(pl.col("_p2_jours") > 0).select(
        "_row", _ordre=pl.lit(2), p=pl.struct(debut="_p2_debut", fin="_fin", ij_journaliere_cts="_ij2")
    )
    # Built long then gathered: much faster in Polars than a list of conditional structs.
    periods = (
        pl.concat([first, second])
        .sort("_row", "_ordre")
        .group_by("_row", maintain_order=True)
        .agg(periodes=pl.col("p"))
    )
    return frame.join(periods, on="_row", how="left", maintain_order="left").with_columns(
        periodes=pl.col("periodes").fill_null(pl.lit([], dtype=periods.schema["periodes"])),
        jours_indemnises=(pl.col("_p1_jours") + pl.col("_p2_jours")).cast(pl.Int64),
        montant_total_cts=(
            pl.col("_p1_jours") * pl.col("_ij1").fill_null(0)
            + pl.col("_p2_jours") * pl.col("_ij2").fill_null(0)
        ).cast(pl.Int64),
    )


def _motif() -> pl.Expr:
    """French explanation of a computed arrêt (or the error), one clause per rule applied.

    The clauses that only depend on the legal values of the day come ready-made from the legal
    frame (``_txt_*``); only the amounts are formatted per row. Ineligible arrêts are explained
    by :func:`_motif_not_eligible`, on their rows only.
    """
    risk = pl.col("risque")
    nothing = pl.lit("")
    base = (
        pl.when(risk == "maladie")
        .then(pl.col("_txt_maladie"))
        .when(risk == "atmp")
        .then(pl.col("_txt_atmp"))
        .when(risk == "maternite")
        .then(pl.col("_txt_maternite"))
        .otherwise(pl.col("_txt_paternite"))
    )
    birth = pl.col("date_accouchement").dt.strftime("%d/%m/%Y")
    birth_clause = (
        pl.when(pl.col("_naissance_tardive"))
        .then(pl.concat_str(pl.lit(", prénatal prolongé jusqu'à la naissance du "), birth, pl.lit(" (L1225-21)")))
        .when((risk == "paternite") & birth.is_not_null())
        .then(pl.concat_str(pl.lit(", pour une naissance le "), birth))
        .otherwise(nothing)
    )
    duration = pl.concat_str(
        pl.lit(" ; durée légale du congé "),
        pl.col("_duree_legale").cast(pl.String),
        pl.lit(" jours (L1225-17 s. du Code du travail)"),
        birth_clause,
    ).fill_null(nothing)
    carence = (
        pl.when(pl.col("jours_carence") > 0)
        .then(
            pl.concat_str(
                pl.lit(" ; "),
                pl.col("jours_carence").cast(pl.String),
                pl.lit(" jour(s) de carence (L323-1 et R323-1 CSS)"),
            )
        )
        .when((risk == "maladie") & pl.col("prolongation"))
        .then(pl.lit(" ; pas de carence : prolongation (L323-1 CSS)"))
        .when((risk == "maladie") & pl.col("ald"))
        .then(pl.lit(" ; pas de carence : arrêt de la même période de 3 ans de l'ALD (R323-1 CSS)"))
        .otherwise(nothing)
    )
    cuts = pl.concat_str(
        pl.when(pl.col("_majoree") & (pl.col("_p2_jours") > 0))
        .then(pl.format(
            " ; IJ portée à {}/{} du salaire journalier de base à partir du {}e jour, soit {} par jour (au moins {} "
            "enfants à charge ; R323-5 CSS, supprimé pour les arrêts prescrits à partir du 1er juillet 2020)",
            "_maj_num", "_maj_den", "_maj_jour", euros(pl.col("_ij2")), "_maj_enfants",
        ))
        .otherwise(nothing),
        pl.when(pl.col("_coupe_legale"))
        .then(pl.lit(" ; limité à la durée légale du congé"))
        .otherwise(nothing),
        pl.when(pl.col("_coupe_6_mois"))
        .then(pl.lit(" ; au-delà de 6 mois d'arrêt, conditions des 12 mois non remplies (R313-3 CSS)"))
        .otherwise(nothing),
        pl.when(pl.col("_coupe_ald"))
        .then(pl.lit(" ; ALD indemnisée 3 ans au plus (L323-1 CSS)"))
        .otherwise(nothing),
        pl.when(pl.col("_coupe_delai"))
        .then(pl.concat_str(
            pl.lit(" ; seuls les jours pris jusqu'au "), pl.col("_pat_fin_delai").dt.strftime("%d/%m/%Y"),
            pl.lit(", dans le délai de prise du congé après la naissance, sont indemnisés (D1225-8 du Code du travail)"),
        ))
        .otherwise(nothing),
        pl.when(pl.col("_coupe_360")).then(pl.col("_txt_360")).otherwise(nothing),
    )
    eligible = pl.concat_str(
        base,
        euros(pl.col("salaire_journalier_base_cts")),
        duration,
        carence,
        cuts,
        pl.lit(" : "),
        pl.col("jours_indemnises").cast(pl.String),
        pl.lit(" jour(s) indemnisé(s), "),
        euros(pl.col("montant_total_cts")),
        pl.lit(" au total."),
    )
    return pl.when(~pl.col("_valide")).then(pl.col("motif_erreur")).when(pl.col("eligible")).then(eligible)


def _motif_not_eligible() -> pl.Expr:
    """Why the opening conditions (R313-3) are not met: the conditions of the risk, each with what
    the arrêt has and the minimum."""
    hours = pl.col("heures_travaillees_3_mois").fill_null(0).round(2).cast(pl.String).str.replace(r"\.0$", "")
    maladie = pl.format(
        "Conditions d'ouverture des droits non remplies (R313-3 CSS) : {} heures de travail sur les 3 mois "
        "avant l'arrêt (minimum {}) et {} de salaires sur les 6 mois avant l'arrêt (minimum {}).",
        hours,
        pl.col("_heures_3m").cast(pl.Int64),
        euros(pl.col("_s6").cast(pl.Int64)),
        euros(pl.col("_seuil_6m").round(0).cast(pl.Int64)),
    )
    family = pl.format(
        "Conditions d'ouverture des droits non remplies (R313-3 CSS) : {} heures de travail sur les 3 mois "
        "avant le congé (minimum {}), {} de salaires sur les 6 mois avant le congé (minimum {}) et {} sur "
        "les 12 mois avant le congé (minimum {}).",
        hours,
        pl.col("_heures_3m").cast(pl.Int64),
        euros(pl.col("_s6").cast(pl.Int64)),
        euros(pl.col("_seuil_6m").round(0).cast(pl.Int64)),
        euros(pl.col("_s12").cast(pl.Int64)),
        euros(pl.col("_seuil_12m").round(0).cast(pl.Int64)),
    )
    return pl.when(pl.col("risque").is_in(("maternite", "paternite"))).then(family).otherwise(maladie)


def compute_ij(arrets: pl.DataFrame, params: Parameters | None = None) -> pl.DataFrame:
    """Contract §4 output frame, one row per input row and in the same order.

    ``arrets`` has the contract §4 input columns (dates as ``YYYY-MM-DD`` strings or Polars dates;
    missing optional columns are added). The output columns are :data:`OUTPUT_COLUMNS`.
    """
    p = params if params is not None else load_parameters()
    frame = typed(arrets)
    legal = legal_frame(frame["date_debut"], p)
    reference_months = _reference_months(legal)
    # The nested salaries are dropped once summed: every later join stays cheap.
    frame = (
        _with_last_pay(_salary_lists(frame))
        .with_columns(**_salary_sums(reference_months))
        .drop("salaires", "_brut", "_mois_num", "_avant")
        .join(legal, on="date_debut", how="left", maintain_order="left")
        .join(
            paternity_by_birth(frame.filter(pl.col("risque") == "paternite")["date_accouchement"], p),
            on="date_accouchement",
            how="left",
            maintain_order="left",
        )
        .with_columns(
            _s3_maladie=_capped_sum(reference_months, "_cap_maladie"),
            _s3_pmss=_capped_sum(reference_months, "_pmss"),
        )
    )
    frame = _validation(frame)
    frame = _base_and_rates(frame)
    frame = _beyond_calendar(_entitlement(frame))
    frame = _periods(frame)
    frame = frame.with_columns(
        salaire_journalier_base_cts=pl.when(pl.col("eligible"))
        .then(round_half_up(pl.col("_sjb")))
        .otherwise(0),
    )
    frame = frame.with_columns(motif=_motif())
    not_eligible = frame.filter(pl.col("motif").is_null()).select("_row", _motif_ne=_motif_not_eligible())
    if not_eligible.height:
        frame = frame.join(not_eligible, on="_row", how="left", maintain_order="left").with_columns(
            motif=pl.coalesce("motif", "_motif_ne")
        )
    # Every join keeps the left order: the rows are still in input order.
    return frame.select(
        pl.col("id"),
        pl.col("eligible").fill_null(False),
        "motif",
        "salaire_journalier_base_cts",
        pl.col("jours_carence").fill_null(0).cast(pl.Int64),
        "jours_indemnises",
        "periodes",
        "montant_total_cts",
        "erreur",
    )


def compute_arret(record: dict[str, Any], params: Parameters | None = None) -> dict[str, Any]:
    """One arrêt (a contract §4 input dict) → its contract §4 output dict (dates as ISO strings).

    The arrêt is computed alone: the 360-IJ and ALD limits only see what the record carries
    (``date_premier_arret_ald``); use :func:`compute_ij` with the person's other arrêts otherwise.
    """
    row = compute_ij(frame_from_records([record]), params).row(0, named=True)
    row["periodes"] = [
        {
            "debut": p["debut"].isoformat(),
            "fin": p["fin"].isoformat(),
            "ij_journaliere_cts": p["ij_journaliere_cts"],
        }
        for p in row["periodes"]
    ]
    return row
