"""The claims liquidation engine: feuilles de soins in, décomptes out, vectorised with Polars.

One engine serves the batch command (``caisse liquider``), the persistent daily run and the
real-time single-FSE path. It is a pure function of its inputs (no Django, no I/O)::

    decomptes, lignes, counters = liquidate(referentiel, feuilles_df, lignes_df, counters, today)

Money is integer cents (Int64) everywhere; rates are integer percents; a product ``BR × taux`` is
rounded half up to the cent (``(BR × taux + 50) // 100``). Every rule is a named step below
(``_step_*``) and leaves on each line the columns that :mod:`caisse.rules.claims.explain` turns
into one French sentence per rule applied, with its parameter value and legal reference.

Order of the steps (CSS articles in brackets):

1. controls (:mod:`~caisse.rules.claims.controls`), feuille then line;
2. base de remboursement: tariff of the code on the date of care × quantité × coefficient,
   within the amount billed; the excess is the dépassement, never reimbursed [L162-1-7];
3. taux by category [R160-5], lowered to the hors-parcours rate for physicians' acts outside the
   parcours de soins [L162-5-3], raised to 100 % by an exoneration: ALD care [L160-14 3°],
   maternity (6th month to delivery + 12 days, or risque maternité) [L160-14, R160-18], AT/MP
   [L431-1], invalidity [L160-14 10°], AME [CASF L251-2]; hospital stays at 80 %, 100 % from the
   31st day [L160-14 9°];
4. forfait actes lourds: 24 € instead of the ticket modérateur for acts ≥ 120 € or coefficient
   ≥ 60 (summed per professional and day) [R160-16];
5. participation forfaitaire [L160-13 II] and franchises [L160-13 III] with their exemptions,
   daily caps then annual caps, consumed in the order (date_reception, id) (:mod:`caps`);
6. payment: tiers payant (the professional gets the AMO part, PF and franchises become the
   assuré's debt) or reimbursement of the assuré (PF and franchises deducted, then the debt left
   by earlier feuilles recovered: a Lindley recursion per person); C2S pays the ticket
   modérateur [L861-3].
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import polars as pl

from caisse.rules.claims import caps, controls, explain
from caisse.rules.claims.counters import Counters
from caisse.rules.claims.frames import (
    attach,
    attach_rows,
    collect,
    contiguous_start,
    drop,
    is_small,
    sort_key,
)
from caisse.rules.claims.legal import PERIOD, LineParameters, SanteParameters, at, line_parameters, load
from caisse.rules.claims.nomenclature import FAR_FUTURE
from caisse.rules.claims.referentiel import Referentiel

FEUILLE_COLUMNS: dict[str, pl.DataType] = {
    "_pos": pl.Int64(),
    "id": pl.String(),
    "type": pl.String(),
    "date_reception": pl.Date(),
    "nir": pl.String(),
    "executant": pl.String(),
    "prescripteur": pl.String(),
    "tiers_payant": pl.Boolean(),
    "risque": pl.String(),
    "parcours": pl.String(),
    "en_rapport_ald": pl.Boolean(),
    "carte_vitale": pl.String(),
    "_invalide": pl.Boolean(),
    # The id's value when it was given as an integer (a JSON integer, an integer Parquet column),
    # else null: such ids are ordered as numbers (9 before 10), see :func:`processing_keys`.
    "_id_entier": pl.Int64(),
}
LIGNE_COLUMNS: dict[str, pl.DataType] = {
    "_fpos": pl.Int64(),
    "_lpos": pl.Int64(),
    "code": pl.String(),
    "date_soins": pl.Date(),
    "quantite": pl.Int64(),
    "coefficient": pl.Float64(),
    "montant_facture_cts": pl.Int64(),
    "_invalide": pl.Boolean(),
}

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)
"""The steps made of column expressions only take either: the engine chains them lazily and
collects once (:func:`chain`)."""

STREAMING_ROWS = 50_000
"""From this many lines, a chain of steps runs lazily on Polars' streaming engine (morsels that
stay in cache, every core); below, the steps run directly, one call each (no planning)."""


class _Stages:
    """Stands for a frame while column-only steps run on it: records their ``with_columns`` calls
    (the expressions they build), to be replayed on any frame."""

    def __init__(self) -> None:
        self.stages: list[list[Any]] = []

    def with_columns(self, *exprs: Any) -> _Stages:
        flat: list[Any] = []
        for e in exprs:
            flat.extend(e if isinstance(e, list | tuple) or (hasattr(e, "__next__")) else [e])
        self.stages.append(flat)
        return self

    def replay(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        for exprs in self.stages:
            frame = frame.with_columns(exprs)
        return frame


_RECORDED: dict[tuple[Any, ...], _Stages] = {}
_BUILT: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def built_once(key: tuple[Any, ...], anchor: Any, build: Callable[[], Any]) -> Any:
    """What ``build`` returns, built once per ``key`` and ``anchor`` object (a parameter tree, a
    :class:`LineParameters`; kept alive with it, so that its identity is never reused): the
    expressions a small batch's plans replay, which read no data."""
    found = _BUILT.get((*key, id(anchor)))
    if found is not None and found[0] is anchor:
        return found[1]
    if len(_BUILT) >= 64:
        _BUILT.clear()
    value = build()
    _BUILT[(*key, id(anchor))] = (anchor, value)
    return value


def chain(base: pl.DataFrame, steps: Callable[[Any], Any], key: tuple[Any, ...] | None = None) -> pl.DataFrame:
    """``base`` with the columns that ``steps`` adds: ``steps`` applies column-only steps (which
    only add columns; a step that changes an existing column, as the forfait actes lourds does for
    ``taux``, runs on its own) to a ``DataFrame`` or a ``LazyFrame``. A small batch runs them as
    one plan, unoptimised (optimising would cost more than running; one plan costs less than a
    call per step). A middle-sized one runs them directly, one call each. A large one chains
    them lazily on Polars' streaming engine, computing only the new columns; they come out in
    morsels and are made contiguous (later sorts and gathers read them), while ``base``'s own
    columns stay as they are.

    ``key`` names what the steps' expressions depend on (the step and its parameter table): a
    small batch then replays the expressions recorded the first time (:class:`_Stages`) rather
    than build them again, which costs a real-time call as much as running them."""
    if is_small(base.height):  # one plan, run as written
        if key is None:
            return collect(steps(base.lazy()), base.height)
        recorded = _RECORDED.get(key)
        if recorded is None:  # the steps' expressions, built once for this key
            if len(_RECORDED) >= 64:
                _RECORDED.clear()
            recorded = _RECORDED[key] = steps(_Stages())
        return collect(recorded.replay(base.lazy()), base.height)
    if base.height < STREAMING_ROWS:
        result: pl.DataFrame = steps(base)
        return result
    lazy: pl.LazyFrame = steps(base.lazy())
    new = [n for n in lazy.collect_schema().names() if n not in base.columns]
    return base.hstack(lazy.select(new).collect(engine="streaming").rechunk().get_columns())


MONEY_OUT = (
    "base_remboursement_cts",
    "montant_amo_cts",
    "participation_forfaitaire_cts",
    "franchise_cts",
    "forfait_actes_lourds_cts",
    "forfait_journalier_cts",
    "depassement_cts",
    "montant_rembourse_cts",
    "part_c2s_cts",
)


def _conform(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Add missing columns as nulls and cast to the engine's types (bad values become nulls).
    A frame whose columns are all there with their types is only projected (nothing to run)."""
    have = df.schema
    if all(have.get(name) == dtype for name, dtype in schema.items()):
        return df[list(schema)]
    return df.select(
        pl.col(name).cast(dtype, strict=False) if name in have else pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in schema.items()
    )


@dataclass(frozen=True)
class _Priced:
    """What the engine derives from a nomenclature and a parameter tree (see :func:`_priced_nomenclature`)."""

    nomenclature: pl.DataFrame
    tree: Any
    lp: LineParameters
    nomen: pl.DataFrame
    overlaps: bool
    texts: dict[tuple[object, ...], str] = field(default_factory=dict)


_NOMENCLATURES: dict[tuple[int, int], _Priced] = {}


def _priced_nomenclature(nomenclature: pl.DataFrame, params: SanteParameters) -> _Priced:
    """The nomenclature as the pricing join reads it (category index, code id, psychiatry flag),
    its :class:`LineParameters`, whether two of its rows overlap, and the line texts already
    written with them (:func:`explain.explain_lines`): built once per nomenclature and parameter
    tree (the real-time path calls the engine many times with the same ones)."""
    key = (id(nomenclature), id(params.tree))
    found = _NOMENCLATURES.get(key)
    if found is not None and found.nomenclature is nomenclature and found.tree is params.tree:
        return found
    lp = line_parameters(params, nomenclature.get_column("categorie"))
    nomen = nomenclature.with_row_index("_nomen_row").select(
        pl.col("_nomen_row").cast(pl.Int64),
        lp.category_index(pl.col("categorie")).alias("_cat"),
        pl.col("code").rank("dense").cast(pl.Int64).alias("_code_id"),
        "code",
        "categorie",
        "tarif_cts",
        "debut",
        "fin",
        pl.col("libelle").str.to_lowercase().str.contains("psychiatrie").alias("_psychiatrie"),
    )
    if len(_NOMENCLATURES) >= 8:
        _NOMENCLATURES.clear()
    priced = _NOMENCLATURES[key] = _Priced(nomenclature, params.tree, lp, nomen, _has_overlaps(nomen))
    return priced


def _lines_with_feuilles(lines: pl.DataFrame, fcols: pl.DataFrame) -> pl.DataFrame:
    """Each line with its feuille's columns, in processing order (``_ordre`` then ``_lpos``);
    lines of no feuille are dropped. A flow already in processing order, its lines grouped in
    feuille order (a reception file is), takes the feuille columns by row number: no join, no
    sort."""
    start = contiguous_start(fcols.get_column("_fpos"))
    ordered = start is not None and contiguous_start(fcols.get_column("_ordre")) == 0
    if ordered and lines.height and lines.get_column("_lpos").max() < (1 << 20):  # type: ignore[operator]
        rank = lines.select(pl.col("_fpos") * (1 << 20) + pl.col("_lpos")).to_series()
        index = lines.get_column("_fpos") - start
        if rank.is_sorted() and int(index.min()) >= 0 and int(index.max()) < fcols.height:  # type: ignore[arg-type]
            return lines.hstack(drop(fcols, "_fpos")[index].get_columns())
    return lines.join(fcols, on="_fpos", how="inner").sort("_ordre", "_lpos")


def processing_keys(integer_ids: bool) -> tuple[list[pl.Expr], list[bool]]:
    """The contract's processing order (``date_reception``, ``id``, then input position) as sort
    keys and their ``nulls_last`` flags. With ``integer_ids`` (some ids were given as integers,
    ``_id_entier``) those ids come first among a day's feuilles, in numeric order (9 before 10,
    as the integers compare), then the text ids in byte order; a missing id or date sorts as an
    empty id, resp. after every date."""
    keys = [pl.col("date_reception").fill_null(FAR_FUTURE)]
    if integer_ids:
        keys.append(pl.col("_id_entier"))
    keys += [pl.col("id").fill_null(""), pl.col("_pos")]
    return keys, [False, *([True] if integer_ids else []), False, False]


def has_integer_ids(f: pl.DataFrame) -> bool:
    """Whether some feuille's id was given as an integer (see :func:`processing_keys`)."""
    return "_id_entier" in f.columns and f.get_column("_id_entier").null_count() < f.height


@functools.cache
def _processing_rank_expr(integer_ids: bool) -> pl.Expr:
    """Each feuille's rank in the contract's order, as an expression (built once)."""
    keys, nulls_last = processing_keys(integer_ids)
    return pl.arg_sort_by(keys, nulls_last=nulls_last).arg_sort().cast(pl.Int64)


def _processing_rank(f: pl.DataFrame) -> pl.Series:
    """Each feuille's rank in the contract's order (:func:`processing_keys`); a flow already in
    that order (a reception file) is ranked without sorting."""
    integer_ids = has_integer_ids(f)
    d = f.get_column("date_reception")
    ids = f.get_column("_id_entier" if integer_ids else "id")
    if f.height and not d.null_count() and not ids.null_count():
        earlier_d, later_d = d.slice(0, f.height - 1), d.slice(1)
        earlier_i, later_i = ids.slice(0, f.height - 1), ids.slice(1)
        in_order = ((earlier_d < later_d) | ((earlier_d == later_d) & (earlier_i <= later_i))).all()
        if in_order and f.get_column("_pos").is_sorted():
            return pl.int_range(f.height, dtype=pl.Int64, eager=True)
    return f.select(_processing_rank_expr(integer_ids)).to_series()


def _ymd(date: pl.Expr) -> pl.Expr:
    """A date as the integer YYYYMMDD."""
    return date.dt.year().cast(pl.Int64) * 10000 + date.dt.month().cast(pl.Int64) * 100 + date.dt.day().cast(pl.Int64)


def _tariffs(lines: Frame, nomen: Frame, overlaps: bool) -> Frame:
    """The nomenclature row of each line's code on its date of care (``_lid`` and the row's
    columns; lines of an unknown code, or on a date no row covers, are absent)."""
    priced = (
        lines.select("_lid", "code", "date_soins")
        .filter(pl.col("date_soins").is_not_null())
        .join(nomen, on="code", how="inner", maintain_order="left")  # in line order: attached without a gather
        .filter((pl.col("debut") <= pl.col("date_soins")) & (pl.col("date_soins") <= pl.col("fin")))
    )
    if overlaps:  # the last-loaded row wins where a référentiel overlaps a code's dates
        priced = priced.unique("_lid", keep="last", maintain_order=True)
    return priced.select(
        "_lid", "_nomen_row", "_cat", "_code_id", pl.col("categorie").cast(pl.Categorical), "tarif_cts",
        pl.col("debut").alias("_tarif_debut"), "_psychiatrie",
    )


def _has_overlaps(nomenclature: pl.DataFrame) -> bool:
    """Whether two rows of a code cover a same day (then a date of care could match both)."""
    ordered = nomenclature.sort("code", "debut")
    overlap = (pl.col("code") == pl.col("code").shift(-1)) & (pl.col("fin") >= pl.col("debut").shift(-1))
    return bool(ordered.select(overlap.fill_null(False).any()).item())


def _half_up(numerator: pl.Expr, denominator: int) -> pl.Expr:
    return (numerator + denominator // 2) // denominator


# --------------------------------------------------------------------------------------------
# 1. Controls
# --------------------------------------------------------------------------------------------


def _step_feuille_controls(
    f: pl.DataFrame, lines: pl.DataFrame, ref: Referentiel, counters: Counters
) -> pl.DataFrame:
    """Feuille-level controls: adds ``_ordre`` (processing rank) and ``_rejet_f`` (code or null)."""
    if is_small(f.height):
        return _feuille_controls_small(f, lines, ref, counters)
    f = f.with_columns(_processing_rank(f).alias("_ordre"))
    if lines.get_column("_fpos").is_sorted():  # lines grouped by feuille: counted by run lengths
        runs = lines.select(pl.col("_fpos").rle()).unnest("_fpos")
        nb_lines = runs.select(pl.col("value").alias("_pos"), pl.col("len").alias("_nb_lignes"))
    else:
        nb_lines = lines.group_by("_fpos").agg(pl.len().alias("_nb_lignes")).rename({"_fpos": "_pos"})
    f = attach(f, nb_lines, "_pos")
    benef, ps = _person_index(ref.beneficiaires), _professional_index(ref.professionnels)
    # The keys joined, the values scattered beside the feuilles' own columns.
    f = attach(f, drop(f.select("_pos", "nir").join(benef, on="nir", how="inner"), "nir"), "_pos")
    f = attach(f, drop(f.select("_pos", "executant").join(ps, on="executant", how="inner"), "executant"), "_pos")
    f = attach(f, _opposed_cards(f, lines, ref), "_pos")
    # A repeated id: the occurrences after the first in processing order (the window runs only
    # over the ids that repeat, usually none).
    ids = f.get_column("id")
    increasing = ids.null_count() == 0 and bool((ids.slice(1) > ids.slice(0, max(ids.len() - 1, 0))).all())
    repeated = (f.clear() if increasing else f.filter(pl.col("id").is_duplicated())).select(
        "_pos", (pl.col("_ordre") > pl.col("_ordre").min().over("id")).alias("_repete")
    )
    f = attach(f, repeated, "_pos")
    # The NIR key is checked once per person of the référentiel, and on the flow only for the
    # NIRs the référentiel does not hold.
    unknown = f.filter(pl.col("_nir_idx").is_null()).select("_pos", controls.nir_valid(pl.col("nir")).alias("_nir_ok_inconnu"))
    f = attach(f, unknown, "_pos")
    nir_ok = (
        pl.when(pl.col("_nir_idx").is_null())
        .then(pl.col("_nir_ok_inconnu"))
        .otherwise(pl.lit(ref.nir_valid()).gather(pl.col("_nir_idx")))
    )
    f = f.with_columns(
        _feuille_rejection(
            pl.col("_nb_lignes").fill_null(0).gt(0),
            pl.col("_repete").fill_null(False),
            nir_ok,
            (pl.col("_opposition") <= pl.col("_premier_soin")).fill_null(False),
            counters,
        )
    )
    return drop(f, "_opposition", "_premier_soin")


def _feuille_controls_small(f: pl.DataFrame, lines: pl.DataFrame, ref: Referentiel, counters: Counters) -> pl.DataFrame:
    """:func:`_step_feuille_controls` for a small batch: every control an expression over its few
    feuilles (the NIR key, a repeated id, the lines present), two joins, one plan. Whether a
    feuille has lines is read here (a few values), so that the expressions read no data: built
    once (but with ids already seen, which the real-time path never carries)."""
    fpos = set(lines.get_column("_fpos").to_list())
    has_lines = pl.Series("_a_lignes", [None if p is None else p in fpos for p in f.get_column("_pos").to_list()],
                          dtype=pl.Boolean)
    opposed = ref.cartes.get_column("opposition").null_count() < ref.cartes.height  # usually no card is
    plan = (
        f.hstack([has_lines])
        .lazy()
        .with_columns(_processing_rank_expr(has_integer_ids(f)).alias("_ordre"))
        .join(_person_index(ref.beneficiaires.lazy()), on="nir", how="left", maintain_order="left")
        .join(_professional_index(ref.professionnels.lazy()), on="executant", how="left", maintain_order="left")
    )
    if opposed:
        ranked = collect(plan, f.height)
        plan = attach(ranked, _opposed_cards(ranked, lines, ref), "_pos").lazy()
    ids = f.get_column("id").to_list()
    distinct = None not in ids and len(set(ids)) == len(ids)  # always, in real time: no window over the ids
    rejection = (
        _small_feuille_rejection(opposed, distinct, counters) if counters.seen_ids.height
        else _cached_feuille_rejection(opposed, distinct)
    )
    return drop(collect(plan.with_columns(rejection), f.height), "_opposition", "_premier_soin", "_a_lignes")


def _small_feuille_rejection(opposed: bool, distinct: bool, counters: Counters) -> pl.Expr:
    """``_rejet_f`` of a small batch (:func:`_feuille_controls_small`), from ``_a_lignes``; with
    ``distinct`` ids (none null), no feuille repeats an earlier one's."""
    return _feuille_rejection(
        pl.col("_a_lignes"),
        pl.lit(False) if distinct else (pl.col("_ordre") > pl.col("_ordre").min().over("id")).fill_null(False),
        controls.nir_valid(pl.col("nir")),
        (pl.col("_opposition") <= pl.col("_premier_soin")).fill_null(False) if opposed else pl.lit(False),
        counters,
    )


@functools.cache
def _cached_feuille_rejection(opposed: bool, distinct: bool) -> pl.Expr:
    """:func:`_small_feuille_rejection` with no id already seen (it then reads no data)."""
    return _small_feuille_rejection(opposed, distinct, Counters())


@functools.cache
def _person_columns() -> list[pl.Expr]:
    """What :func:`_person_index` selects (expressions built once: a real-time call reuses them)."""
    return [
        pl.col("nir"), pl.col("_nir_idx").cast(pl.Int64), pl.col("date_naissance"),
        _ymd(pl.col("date_naissance")).alias("_naissance_ymd"), pl.col("deces"),
    ]


@functools.cache
def _professional_columns() -> list[pl.Expr]:
    """What :func:`_professional_index` selects (built once)."""
    non_conventionne = ((pl.col("conventionne") == False) | (pl.col("secteur") == 3)).fill_null(False)  # noqa: E712
    generaliste = (pl.col("profession") == "medecin") & (pl.col("specialite") == "medecine_generale")
    return [
        pl.col("id").alias("executant"), pl.col("_ps_idx").cast(pl.Int64),
        # Paid on the tarif d'autorité (CSS art. L162-5-10): 0 conventionné, 1 non-conventionné
        # general practitioner, 2 another non-conventionné professional.
        pl.when(non_conventionne).then(pl.when(generaliste.fill_null(False)).then(1).otherwise(2)).otherwise(0)
        .cast(pl.Int8).alias(AUTORITE),
    ]


PersonTable = TypeVar("PersonTable", pl.DataFrame, pl.LazyFrame)


def _person_index(beneficiaires: PersonTable) -> PersonTable:
    """The beneficiaries' row numbers (``_nir_idx``) and what the lines read of them."""
    return beneficiaires.with_row_index("_nir_idx").select(_person_columns())


def _professional_index(professionnels: PersonTable) -> PersonTable:
    """The professionals' row numbers (``_ps_idx``) by id."""
    return professionnels.with_row_index("_ps_idx").select(_professional_columns())


def _opposed_cards(f: pl.DataFrame, lines: pl.DataFrame, ref: Referentiel) -> pl.DataFrame:
    """The feuilles read with a carte Vitale in opposition: the opposition date and the first
    date of care (``_pos``, ``_opposition``, ``_premier_soin``)."""
    cards = ref.cartes.filter(pl.col("opposition").is_not_null()).group_by("nir", "numero").agg(
        pl.col("opposition").min().alias("_opposition")
    )
    opposed = pl.DataFrame(schema={"_pos": pl.Int64(), "_opposition": pl.Date(), "_premier_soin": pl.Date()})
    if cards.height:  # usually no card of the batch's persons is in opposition
        with_card = f.filter(pl.col("carte_vitale").is_not_null()).select("_pos", "nir", "carte_vitale")
        opposed = with_card.join(cards, left_on=["nir", "carte_vitale"], right_on=["nir", "numero"], how="inner").select(
            "_pos", "_opposition"
        )
        # The first date of care, needed only for the feuilles read with a card in opposition.
        first_care = (
            lines.join(opposed.select(pl.col("_pos").alias("_fpos")), on="_fpos", how="semi")
            .group_by("_fpos")
            .agg(pl.col("date_soins").min().alias("_premier_soin"))
            .rename({"_fpos": "_pos"})
        )
        opposed = opposed.join(first_care, on="_pos", how="left")
    return opposed


def _feuille_rejection(has_lines: pl.Expr, repeated: pl.Expr, nir_ok: pl.Expr, opposed: pl.Expr, counters: Counters) -> pl.Expr:
    """``_rejet_f``: the first feuille control that fails, in the contract's order."""
    doublon = repeated
    if counters.seen_ids.height:
        doublon = doublon | pl.col("id").is_in(counters.seen_ids.get_column("id").implode())
    invalid = (
        pl.col("_invalide").fill_null(False)
        | pl.col("id").is_null()
        | pl.col("date_reception").is_null()
        | pl.col("nir").is_null()
        | pl.col("executant").is_null()
        | pl.col("tiers_payant").is_null()
        | ~pl.col("risque").is_in(controls.RISQUES).fill_null(False)
        | ~pl.col("parcours").is_in(controls.PARCOURS).fill_null(False)
        | ~has_lines
    )
    return controls.first_code(
        [
            ("DONNEE_INVALIDE", invalid),
            ("DOUBLON", doublon.fill_null(False)),
            ("NIR_INVALIDE", ~nir_ok),
            ("BENEFICIAIRE_INCONNU", pl.col("_nir_idx").is_null()),
            ("PS_INCONNU", pl.col("_ps_idx").is_null()),
            ("CARTE_EN_OPPOSITION", opposed),
        ]
    ).alias("_rejet_f")


def _maternity_end(params: SanteParameters) -> pl.Expr:
    """A period's end, a maternity's lengthened by the days after delivery. A pregnancy still going
    on (no delivery date) ends at its presumed term (``droits.maternite.mois_du_6e_mois_au_terme``
    after the 6th month's first day), as the persistent file counts it on the presumed date."""
    term = params.tree.parameter("droits.maternite.mois_du_6e_mois_au_terme")
    months = {value for _, value in term.breakpoints() if value is not None}
    presumed = (
        pl.col("debut").dt.offset_by(f"{months.pop()}mo")
        if len(months) == 1
        else pl.col("debut").dt.offset_by(pl.format("{}mo", at(term, pl.col("debut"), pl.Int64())))
    )
    birth = pl.coalesce(pl.col("fin"), presumed)
    return (
        pl.when(pl.col("kind") == "maternite")
        .then(birth + pl.duration(days=at(params.p("maternite.jours_apres_accouchement"), birth, pl.Int64())))
        .otherwise(pl.col("fin"))
        .alias("fin")
    )


def _period_flags(lines: pl.DataFrame, ref: Referentiel, params: SanteParameters) -> pl.DataFrame:
    """Per line, which of the person's dated situations is open on the date of care."""
    kinds = ("droits", "ald", "c2s", "ame", "invalidite", "maternite")
    if is_small(lines.height):  # one plan: each line with its person's periods, one grouping in line order
        end, flags = built_once(("periods",), params.tree, lambda: _small_period_exprs(_maternity_end(params), kinds))
        found = collect(
            lines.lazy()
            .select("_lid", "nir", "date_soins", "_nir_idx")
            .join(ref.periods.lazy().with_columns(end), on="nir", how="left", maintain_order="left")
            .group_by("_lid", maintain_order=True)
            .agg(flags),
            lines.height,
        )
        return lines.hstack(drop(found, "_lid").get_columns())
    periods = ref.periods.with_columns(_maternity_end(params))
    index = ref.beneficiaires.with_row_index("_nir_idx").select("nir", pl.col("_nir_idx").cast(pl.Int64))
    periods = drop(periods.join(index, on="nir", how="inner"), "nir")
    keys = lines.select("_lid", "_nir_idx", "date_soins").filter(
        pl.col("date_soins").is_not_null() & pl.col("_nir_idx").is_not_null()
    )
    hits = (
        keys.join(periods.with_columns(pl.col("kind").cast(pl.Categorical)), on="_nir_idx", how="inner")
        .filter((pl.col("debut") <= pl.col("date_soins")) & (pl.col("date_soins") <= pl.col("fin")))
        .select("_lid", "kind")
    )
    # One flag per kind: true at the lines with an open period of that kind (a scatter, no
    # grouping by line).
    flags = []
    for k in kinds:
        rows = hits.filter(pl.col("kind") == k).get_column("_lid")
        flag = pl.repeat(False, lines.height, dtype=pl.Boolean, eager=True).alias(f"_{k}")
        flags.append(flag.scatter(rows, True) if rows.len() else flag)
    return lines.hstack(flags)


def _direct_access_without_mt(lines: pl.DataFrame, ref: Referentiel) -> pl.DataFrame:
    """``_acces_direct_sans_mt``: the line's feuille claims an accès direct spécifique
    (gynécologue, ophtalmologue...) while the person has no médecin traitant declared on the date
    of care — the access is then hors parcours (rules.md A.8). Only the few such lines are looked
    up."""
    wanted = pl.col("_parcours_acces_direct").fill_null(False)
    if not lines.select(wanted.any()).item():
        return lines.with_columns(pl.lit(False).alias("_acces_direct_sans_mt"))
    declared = ref.medecins_traitants.lazy()
    covered = collect(
        lines.lazy()
        .filter(wanted)
        .select("_lid", "nir", "date_soins")
        .join(declared, on="nir", how="inner")
        .filter((pl.col("debut") <= pl.col("date_soins")) & (pl.col("date_soins") <= pl.col("fin").fill_null(FAR_FUTURE)))
        .select("_lid")
        .unique(),
        lines.height,
    ).get_column("_lid")
    return lines.with_columns((wanted & ~pl.col("_lid").is_in(covered.implode())).alias("_acces_direct_sans_mt"))


def _small_period_exprs(maternity_end: pl.Expr, kinds: tuple[str, ...]) -> tuple[pl.Expr, list[pl.Expr]]:
    """The expressions of :func:`_period_flags` for a small batch (the periods' ends, the flags)."""
    open_on_care = (pl.col("debut") <= pl.col("date_soins")) & (pl.col("date_soins") <= pl.col("fin"))
    known = pl.col("_nir_idx").is_not_null()
    return maternity_end, [
        ((pl.col("kind") == k) & open_on_care & known).fill_null(False).any().alias(f"_{k}") for k in kinds
    ]


def _line_rejections(lines: Frame, params: SanteParameters, today: dt.date | None) -> Frame:
    """``_soins_ymd`` and the first line control that fails (``_rejet_l``), duplicates aside.

    Prescription (CSS L332-1, rules.md A.10): the assuré's action lasts N years from the first day
    of the quarter after the care (``prescription.depart_trimestre_suivant``), from the act itself
    for AT/MP care (L431-2); a feuille received on the first day after them is prescribed. Dates
    as YYYYMMDD integers: adding N × 10000 is the calendar shift (a 29 February lands on a 29
    February that may not exist, and a date compares after it exactly when it is after the 28th),
    at a fraction of a date offset's cost."""
    lines = lines.with_columns(_ymd(pl.col("date_soins")).alias("_soins_ymd"))
    # The first day of the next quarter, as YYYYMMDD: months 1-3 -> April 1st, ... 10-12 -> 1 January.
    next_quarter = ((pl.col("date_soins").dt.month() - 1) // 3 + 1) * 3 + 1
    quarter_start = (
        (pl.col("date_soins").dt.year().cast(pl.Int64) + (next_quarter > 12).cast(pl.Int64)) * 10000
        + pl.when(next_quarter > 12).then(1).otherwise(next_quarter).cast(pl.Int64) * 100 + 1
    )
    from_quarter = at(params.p("prescription.depart_trimestre_suivant"), pl.col("date_soins"), pl.Boolean())
    start_ymd = (
        pl.when(from_quarter.fill_null(False) & ~pl.col("_risque_atmp").fill_null(False))
        .then(quarter_start)
        .otherwise(pl.col("_soins_ymd") + 1)  # from the act: prescribed after its anniversary
    )
    limit: pl.Expr = pl.lit(None, dtype=pl.Int64())
    for start, years in params.p("prescription.delai").breakpoints():
        shifted = start_ymd + int(years) * 10000
        limit = pl.when(pl.col("date_soins") >= pl.lit(start)).then(shifted).otherwise(limit)
    future = pl.col("date_soins") > pl.col("date_reception")
    if today is not None:
        future = future | (pl.col("date_soins") > pl.lit(today))
    invalid = (
        pl.col("_invalide").fill_null(False)
        | pl.col("code").is_null()
        | pl.col("date_soins").is_null()
        | ~pl.col("quantite").is_between(1, controls.MAX_QUANTITE).fill_null(False)
        | ~(
            (pl.col("coefficient") > 0) & (pl.col("coefficient") <= controls.MAX_COEFFICIENT)
        ).fill_null(False)  # NaN is above every number: not within the bound
        | ~pl.col("montant_facture_cts").is_between(0, controls.MAX_MONTANT_CTS).fill_null(False)
    )
    lines = lines.with_columns(
        controls.first_code(
            [
                ("DONNEE_INVALIDE", invalid),
                ("CODE_INCONNU", pl.col("categorie").is_null()),
                ("DATE_FUTURE", future),
                ("PRESCRIPTION", pl.col("_reception_ymd") >= limit),
                ("DECES", (pl.col("date_soins") > pl.col("deces")).fill_null(False)),
                ("DROITS_FERMES", ~(pl.col("_droits") | pl.col("_ame"))),
            ]
        ).alias("_rejet_l")
    )
    return lines


def _step_line_controls(
    lines: pl.DataFrame, params: SanteParameters, counters: Counters, today: dt.date | None
) -> pl.DataFrame:
    """Line-level controls: adds ``_rejet_l`` (code or null)."""
    act = ["nir", "executant", "code", "date_soins"]
    ok = pl.col("_rejet_l").is_null() & pl.col("_rejet_f").is_null()
    if is_small(lines.height):  # one plan; the first feuille of each act by a window, no sort
        acts_seen = bool(counters.seen_acts.height)
        stages, doublon = built_once(
            ("line controls", today, acts_seen), params.tree,
            lambda: (_line_rejections(_Stages(), params, today), _small_duplicate(acts_seen)),  # type: ignore[type-var]
        )
        plan = stages.replay(lines.lazy())
        if acts_seen:
            carried_acts = (
                counters.seen_acts.lazy()
                .join(lines.lazy().select(act), on=act, how="semi")
                .unique(act)
                .with_columns(pl.lit(True).alias("_deja_vu"))
            )
            plan = plan.join(carried_acts, on=act, how="left", maintain_order="left")
        return drop(collect(plan.with_columns(doublon), lines.height), "_deja_vu")
    lines = _line_rejections(lines, params, today)
    # Duplicate act: same person, professional, code and day in an earlier feuille.
    day = (pl.col("date_soins") - pl.lit(dt.date(1970, 1, 1))).dt.total_days()
    # Integer keys only (the strings are needed only to look up the carried acts). Lines are in
    # processing order, so a stable sort on the act keeps that order within an act.
    carried = act if counters.seen_acts.height else []
    act_keys = ["_nir_idx", "_ps_idx", "_jour", "_code_id"]
    acts = collect(
        lines.lazy().filter(ok).select("_lid", "_ordre", *carried, *act_keys[:2], day.alias("_jour"), "_code_id"), lines.height
    )
    packed = sort_key(acts, act_keys)
    if packed is not None:  # one exact Int64 key: a single-column stable sort
        keys = acts.with_columns(packed.alias("_k")).sort("_k", maintain_order=True)
        group_start = pl.col("_k").ne_missing(pl.col("_k").shift(1)) | (pl.int_range(pl.len()) == 0)
    else:
        keys = acts.sort(*act_keys, "_ordre")
        group_start = pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift(1)) for c in act_keys) | (
            pl.int_range(pl.len()) == 0
        )
    found = keys.with_columns(
        pl.when(group_start).then(pl.col("_ordre")).otherwise(None).forward_fill().alias("_premier_ordre")
    )
    if counters.seen_acts.height:
        seen = (
            counters.seen_acts.join(found.select(act).unique(), on=act, how="semi")
            .unique(act)
            .with_columns(pl.lit(True).alias("_deja_vu"))
        )
        found = found.join(seen, on=act, how="left")
    else:
        found = found.with_columns(pl.lit(None, dtype=pl.Boolean).alias("_deja_vu"))
    lines = attach_rows(lines, found.select("_lid", "_premier_ordre", "_deja_vu"), "_lid")
    dup = ok & ((pl.col("_ordre") > pl.col("_premier_ordre")) | pl.col("_deja_vu").fill_null(False))
    lines = lines.with_columns(pl.when(dup).then(pl.lit("DOUBLON")).otherwise(pl.col("_rejet_l")).alias("_rejet_l"))
    return drop(lines, "_premier_ordre", "_deja_vu")


def _small_duplicate(carried: bool) -> pl.Expr:
    """A small batch's duplicate acts (:func:`_step_line_controls`): the first feuille of each act
    by a window, and the acts already seen when some are carried (``_deja_vu``)."""
    ok = pl.col("_rejet_l").is_null() & pl.col("_rejet_f").is_null()
    first = pl.when(ok).then(pl.col("_ordre")).min().over("_nir_idx", "_ps_idx", "date_soins", "_code_id")
    already = pl.col("_deja_vu").fill_null(False) if carried else pl.lit(False)
    dup = ok & ((pl.col("_ordre") > first).fill_null(False) | already)
    return pl.when(dup).then(pl.lit("DOUBLON")).otherwise(pl.col("_rejet_l")).alias("_rejet_l")


# --------------------------------------------------------------------------------------------
# 2-4. Base, rate, forfait actes lourds, hospital stays
# --------------------------------------------------------------------------------------------


AUTORITE = "_ps_autorite"
"""Feuille and line column: whether the executant is paid on the tarif d'autorité (see
:func:`_professional_columns`)."""
TARIF_AUTORITE = "_tarif_autorite_cts"
"""Line column, present only when some executant of the batch is not conventionné: the act's
tarif d'autorité (× quantité × coefficient), which replaces its tariff (null for the others)."""


def _rounded(amount: pl.Expr) -> pl.Expr:
    """A Float64 amount of cents rounded half up to the cent (within Int64)."""
    # Bounded before the cast: a rejected line's values may be anything, and above the largest
    # amount billed (controls.MAX_MONTANT_CTS) the base is the amount billed anyway.
    return (amount + 0.5 + 1e-9).floor().clip(upper_bound=float(1 << 52)).cast(pl.Int64, strict=False)


def _conventional_tariff() -> pl.Expr:
    """The act's tariff: tarif × quantité × coefficient, rounded to the cent."""
    return _rounded(pl.col("tarif_cts").cast(pl.Float64) * pl.col("quantite") * pl.col("coefficient"))


def _act_tariff(authority: bool = False) -> pl.Expr:
    """The act's tariff (:func:`_conventional_tariff`); with ``authority`` its tarif d'autorité
    where the line has one (:func:`_tarif_autorite`)."""
    return pl.coalesce(TARIF_AUTORITE, _conventional_tariff()) if authority else _conventional_tariff()


TARIF_AUTORITE_UNITE = "_tarif_autorite_unite_cts"
TARIF_AUTORITE_PART = "_tarif_autorite_part"
"""With :data:`TARIF_AUTORITE`, what its text names: a consultation's tarif d'autorité (per
consultation), or the share of the tarif conventionnel of another act."""


def _tarif_autorite_terms(lp: LineParameters) -> list[pl.Expr]:
    """The parameter value behind each line's tarif d'autorité (its explanation names it), when its
    executant is not conventionné (CSS art. L162-5-10) and the category is one of fees
    (``tarif_autorite.categories``): a doctor's consultation at a fixed amount per consultation
    (general practitioner or specialist), another act at a share of its tarif conventionnel."""
    kind = pl.col(AUTORITE).fill_null(0)
    applies = (kind > 0) & lp.in_set("tarif_autorite.categories")
    consultation = applies & lp.is_category("consultation_medecin")
    unit = pl.when(kind == 1).then(lp.scalar("tarif_autorite.consultation_generaliste", pl.Int64())).otherwise(
        lp.scalar("tarif_autorite.consultation_specialiste", pl.Int64())
    )
    return [
        pl.when(consultation).then(unit).otherwise(pl.lit(None, dtype=pl.Int64())).alias(TARIF_AUTORITE_UNITE),
        pl.when(applies & ~consultation).then(lp.scalar("tarif_autorite.part_du_tarif", pl.Int64()))
        .otherwise(pl.lit(None, dtype=pl.Int64())).alias(TARIF_AUTORITE_PART),
    ]


def _tarif_autorite() -> pl.Expr:
    """The act's tarif d'autorité, from :func:`_tarif_autorite_terms`' columns: the amount per
    consultation × quantité × coefficient, or the share of the act's tarif conventionnel; null for
    the other lines (their tariff stays)."""
    per_consultation = pl.col(TARIF_AUTORITE_UNITE).cast(pl.Float64) * pl.col("quantite") * pl.col("coefficient")
    return (
        pl.when(pl.col(TARIF_AUTORITE_UNITE).is_not_null())
        .then(_rounded(per_consultation))
        .otherwise(_half_up(_conventional_tariff() * pl.col(TARIF_AUTORITE_PART), 100))
        .alias(TARIF_AUTORITE)
    )


def _step_base(lines: Frame, lp: LineParameters, authority: bool = False) -> Frame:
    """Base de remboursement = tariff × quantité × coefficient, within the amount billed; with
    ``authority`` (some executant of the batch is not conventionné) the tarif d'autorité where
    it applies."""
    if authority:
        lines = lines.with_columns(*_tarif_autorite_terms(lp)).with_columns(_tarif_autorite())
    tarif_br = _act_tariff(authority)
    ok = pl.col("_ok")
    return lines.with_columns(
        pl.when(ok).then(pl.min_horizontal(tarif_br, pl.col("montant_facture_cts"))).otherwise(0).alias(
            "base_remboursement_cts"
        ),
        pl.when(ok)
        .then((pl.col("montant_facture_cts") - tarif_br).clip(lower_bound=0))
        .otherwise(0)
        .alias("depassement_cts"),
        (ok & (pl.col("montant_facture_cts") < tarif_br)).alias("_sous_tarif"),
    )


def _step_rate(lines: Frame, lp: LineParameters) -> Frame:
    """Rate by category, hors-parcours, exonerations (see the module docstring)."""
    d = pl.col("date_soins")
    # Ages from YYYYMMDD integers: full years = (care - birth) // 10000.
    age = (pl.col("_soins_ymd") - pl.col("_naissance_ymd")) // 10000
    lines = lines.with_columns(
        pl.col("_risque_atmp").fill_null(False).alias("_exo_atmp"),
        (pl.col("_risque_maternite").fill_null(False) | pl.col("_maternite")).alias("_exo_maternite"),
        (pl.col("en_rapport_ald").fill_null(False) & pl.col("_ald")).alias("_exo_ald"),
        (pl.col("_invalidite") & ~lp.in_set("invalidite.categories_exclues")).alias("_exo_invalidite"),
        (pl.col("_ame") & lp.in_set("ame.categories_exclues")).alias("_ame_exclu"),
        (age >= lp.scalar("parcours.age_minimum", pl.Int64())).fill_null(True).alias("_age_parcours"),
        (
            pl.col("_soins_ymd") // 10000
            <= pl.col("_naissance_ymd") // 10000 + lp.scalar("exoneration.age_mineur", pl.Int64())
        )
        .fill_null(False)
        .alias("_mineur"),
        ((d - pl.col("date_naissance")).dt.total_days() < lp.scalar("forfait_actes_lourds.age_nouveau_ne", pl.Int64()))
        .fill_null(False)
        .alias("_nouveau_ne"),
        lp.taux().alias("_taux_base"),
    )
    lines = lines.with_columns(
        (pl.col("_nouveau_ne") & lp.is_category("hospitalisation")).alias("_exo_nouveau_ne"),
    )
    lines = lines.with_columns(
        (
            pl.col("_exo_atmp")
            | pl.col("_exo_maternite")
            | pl.col("_exo_ald")
            | pl.col("_exo_invalidite")
            | pl.col("_exo_nouveau_ne")
            | (pl.col("_ame") & ~pl.col("_ame_exclu"))
        ).alias("_exonere"),
        (
            (pl.col("_parcours_hors").fill_null(False) | pl.col("_acces_direct_sans_mt").fill_null(False))
            & lp.in_set("parcours.categories")
            & pl.col("_age_parcours")
            & ~pl.col("_ame")
        ).alias("_hors_parcours"),
    )
    taux_hp = lp.scalar("taux.hors_parcours", pl.Int64())
    taux_exo = lp.scalar("taux.exoneration", pl.Int64())
    taux = (
        pl.when(~pl.col("_ok"))
        .then(0)
        .when(pl.col("_ame_exclu"))
        .then(0)
        .when(pl.col("_exonere"))
        .then(taux_exo)
        .when(pl.col("_hors_parcours"))
        .then(pl.min_horizontal(pl.col("_taux_base"), taux_hp))
        .otherwise(pl.col("_taux_base"))
    )
    return lines.with_columns(taux.cast(pl.Int64).alias("taux"))


def _fal_eligible(lines: Frame, lp: LineParameters, authority: bool = False) -> Frame:
    """``_fal_elig``: the lines the forfait actes lourds may replace the ticket modérateur of. With
    ``authority``, not an act paid on the tarif d'autorité: its base is a fraction of the tariff
    and its ticket modérateur far below the forfait, which would then take the AMO part (choice
    of the project, rules.md being silent)."""
    elig = (
        pl.col("_ok")
        & lp.in_set("forfait_actes_lourds.categories")
        & (pl.col("taux") < 100)
        & ~pl.col("_c2s")
        & ~pl.col("_ame")
        & ~pl.col("_nouveau_ne")
    )
    if authority:
        elig = elig & pl.col(TARIF_AUTORITE).is_null()
    return lines.with_columns(elig.alias("_fal_elig"))


_NO_FAL = (pl.lit(False).alias("_fal"), pl.lit(0, dtype=pl.Int64).alias("forfait_actes_lourds_cts"))
"""What :func:`_step_forfait_actes_lourds` adds when no line is eligible."""


def _step_forfait_actes_lourds(lines: pl.DataFrame, lp: LineParameters) -> pl.DataFrame:
    """Acts ≥ threshold (summed per feuille, professional and day): flat charge instead of the TM."""
    lines = _fal_eligible(lines, lp, TARIF_AUTORITE in lines.columns)
    if not lines.get_column("_fal_elig").any():  # no technical act in the batch (most real-time calls)
        return lines.with_columns(_NO_FAL)
    # Only the eligible lines (technical acts) are grouped by session: a small subset.
    grp = ["_fpos", "date_soins"]
    sub = collect(
        lines.lazy()
        .filter(pl.col("_fal_elig"))
        .select(
            "_lid", "_fpos", "_lpos", "date_soins", PERIOD, "base_remboursement_cts",
            _act_tariff().alias("_tarif_acte_cts"), "coefficient", "quantite",
        ),
        lines.height,
    )
    # The threshold is on the acts' tariffs (rules.md A.6, R160-16), not on the bases: an act
    # billed below its tariff keeps the forfait when its tariff reaches the threshold.
    total = pl.col("_tarif_acte_cts").sum().over(grp)
    # Several acts of the session: their tariffs and their coefficients are summed (R160-16), a
    # line of quantité n counting n acts.
    coef = (pl.col("coefficient") * pl.col("quantite")).sum().over(grp)
    seuil = lp.scalar("forfait_actes_lourds.seuil_tarif", pl.Int64())
    seuil_coef = lp.scalar("forfait_actes_lourds.seuil_coefficient", pl.Int64())
    sub = sub.with_columns(((total >= seuil) | (coef >= seuil_coef)).alias("_fal"))
    # The flat charge is carried by the most expensive line of the session.
    rank_key = pl.col("base_remboursement_cts") * 100000 - pl.col("_lpos")
    carrier = pl.col("_fal") & (pl.when(pl.col("_fal")).then(rank_key).otherwise(None).max().over(grp) == rank_key)
    montant = lp.scalar("forfait_actes_lourds.montant", pl.Int64())
    sub = sub.select(
        "_lid",
        "_fal",
        pl.when(carrier)
        .then(pl.min_horizontal(montant, pl.col("base_remboursement_cts")))
        .otherwise(0)
        .alias("forfait_actes_lourds_cts"),
    )
    lines = attach_rows(lines, sub, "_lid").with_columns(
        pl.col("_fal").fill_null(False), pl.col("forfait_actes_lourds_cts").fill_null(0)
    )
    return lines.with_columns(pl.when(pl.col("_fal")).then(100).otherwise(pl.col("taux")).alias("taux"))


def _step_amo(lines: Frame, lp: LineParameters) -> Frame:
    """AMO part = BR × taux; hospital days from the 31st at 100 %; forfait journalier."""
    br = pl.col("base_remboursement_cts")
    hosp = pl.col("_ok") & lp.is_category("hospitalisation")
    jour = lp.scalar("hospitalisation.jour_exoneration", pl.Int64())
    jours = pl.col("quantite")
    jours_taux = pl.min_horizontal(jours, jour - 1).clip(lower_bound=0)
    per_day = _half_up((br * 1000) // jours.clip(lower_bound=1), 1000)
    amo_hosp = _half_up(per_day * jours_taux * pl.col("taux"), 100) + per_day * (jours - jours_taux)
    amo_hosp = pl.when(jours_taux == jours).then(_half_up(br * pl.col("taux"), 100)).otherwise(amo_hosp)
    fj = pl.when(pl.col("_psychiatrie").fill_null(False)).then(
        lp.scalar("forfait_journalier.montant_psychiatrie", pl.Int64())
    ).otherwise(lp.scalar("forfait_journalier.montant", pl.Int64()))
    fj_exempt = pl.col("_exo_maternite") | pl.col("_exo_atmp") | pl.col("_ame") | pl.col("_nouveau_ne")
    amo = (
        pl.when(pl.col("_fal"))
        .then(br - pl.col("forfait_actes_lourds_cts"))
        .when(hosp)
        .then(amo_hosp)
        .otherwise(_half_up(br * pl.col("taux"), 100))
    )
    return lines.with_columns(
        amo.alias("montant_amo_cts"),
        pl.when(hosp & ~fj_exempt).then(fj * jours).otherwise(0).alias("forfait_journalier_cts"),
        (hosp & (jours_taux < jours)).alias("_hosp_31"),
    )


def _step_participations(lines: Frame, lp: LineParameters) -> Frame:
    """Raw participation forfaitaire and franchise per line, before caps, with exemptions."""
    exempt = (
        pl.col("_mineur")
        | pl.col("_c2s")
        | pl.col("_ame")
        | pl.col("_exo_maternite")
        | (pl.col("_exo_atmp") & lp.scalar("exoneration.atmp_participations", pl.Boolean()))
    )
    pf_unit = lp.scalar("participation_forfaitaire.montant", pl.Int64())
    pf_category = lp.in_set("participation_forfaitaire.categories")
    pf_applies = pl.col("_ok") & pf_category
    kind = lp.mapped("franchise.categories", None, pl.String())
    fr_unit = lp.franchise("montant", 0, pl.Int64())
    fr_daily = lp.franchise("plafond_journalier", None, pl.Int64())
    return lines.with_columns(
        exempt.alias("_exempt_participations"),
        pf_category.alias("_pf_categorie"),
        pl.when(pf_applies & ~exempt).then(pf_unit * pl.col("quantite")).otherwise(0).alias("_pf_brut"),
        (pf_unit * lp.scalar("participation_forfaitaire.nombre_max_par_jour", pl.Int64())).alias("_pf_plafond_jour"),
        lp.scalar("participation_forfaitaire.plafond_annuel", pl.Int64()).alias("_pf_plafond_an"),
        kind.alias("_fr_kind"),
        pl.when(pl.col("_ok") & kind.is_not_null() & ~exempt).then(fr_unit * pl.col("quantite")).otherwise(0).alias("_fr_brut"),
        fr_daily.alias("_fr_plafond_jour"),
        lp.scalar("franchise.plafond_annuel", pl.Int64()).alias("_fr_plafond_an"),
        lp.franchise("plafond_journalier_par_professionnel", False, pl.Boolean()).alias("_fr_par_ps"),
    )


# --------------------------------------------------------------------------------------------
# Main entry points
# --------------------------------------------------------------------------------------------


def liquidate(
    referentiel: Referentiel,
    feuilles: pl.DataFrame,
    lignes: pl.DataFrame,
    counters: Counters | None = None,
    today: dt.date | None = None,
    params: SanteParameters | None = None,
    explanations: bool = True,
    carry: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame, Counters]:
    """Liquidate a batch of feuilles.

    ``feuilles``: one row per feuille with the contract's fields (``lignes`` excepted) and
    ``_pos`` (input position, unique; added if missing). ``lignes``: one row per line with
    ``_fpos`` (the feuille's ``_pos``), ``_lpos`` (rank in the feuille) and the line fields. An
    optional ``_invalide`` column on either marks records the reader could not parse.

    Returns ``(decomptes, lignes_out, counters)``: one décompte per feuille in input order, the
    liquidated lines (none for a feuille rejected as a whole), and the counters updated with
    this batch (pass them to the next batch of the same flow).

    ``explanations=False`` skips the French texts (faster, for tests). A décompte's
    ``explication`` holds the feuille's own sentences; each line holds its own (both
    Categorical, see :mod:`explain`), and :func:`records.records_from_frames` writes them
    together as the contract's décompte text. ``carry=False``
    returns the input counters unchanged (the last or only chunk of a batch needs no update).
    """
    params = params or load()
    counters = counters or Counters.from_compteurs(referentiel.compteurs)
    if "_pos" not in feuilles.columns:
        feuilles = feuilles.with_row_index("_pos").with_columns(pl.col("_pos").cast(pl.Int64))
    # One chunk per column (a Parquet file comes in row groups): columns added later are single
    # chunks, and a frame whose columns are cut differently is copied whole by each Polars call.
    f = _conform(feuilles, FEUILLE_COLUMNS).rechunk()
    lines = _conform(lignes, LIGNE_COLUMNS).rechunk()
    f = _step_feuille_controls(f, lines, referentiel, counters)

    fcols = f.select(_line_feuille_columns())
    lines = _lines_with_feuilles(lines, fcols).with_row_index("_lid")
    priced_nomenclature = _priced_nomenclature(referentiel.nomenclature, params)
    lp, nomen = priced_nomenclature.lp, priced_nomenclature.nomen
    keys = built_once(("keys",), lp, lambda: lp.keys(pl.col("date_soins"), pl.col("_cat").fill_null(len(lp.categories))))
    if is_small(lines.height):  # one plan: the tariffs, joined back in line order, and the keys
        priced = _tariffs(lines.lazy(), nomen.lazy(), priced_nomenclature.overlaps)
        found = collect(
            lines.lazy()
            .select("_lid", "date_soins")
            .join(priced, on="_lid", how="left", maintain_order="left")
            .select(pl.exclude("_lid", "date_soins"), *keys),
            lines.height,
        )
        lines = lines.hstack(found.get_columns())
    else:
        lines = attach_rows(lines, _tariffs(lines, nomen, priced_nomenclature.overlaps), "_lid")
        lines = lines.with_columns(keys)
    lines = _period_flags(lines, referentiel, params)
    lines = _direct_access_without_mt(lines, referentiel)
    lines = _step_line_controls(lines, params, counters, today)

    # A feuille whose lines are all duplicate acts is a duplicate feuille.
    all_dup = pl.Series("_fpos", [], dtype=pl.Int64)
    if (lines.get_column("_rejet_l") == "DOUBLON").any():
        all_dup = collect(
            lines.lazy()
            .filter(pl.col("_rejet_f").is_null())
            .group_by("_fpos")
            .agg((pl.col("_rejet_l") == "DOUBLON").fill_null(False).all().alias("_tout_doublon"))
            .filter(pl.col("_tout_doublon")),
            lines.height,
        ).get_column("_fpos")
        lines = lines.with_columns(
            pl.when(pl.col("_fpos").is_in(all_dup.implode()))
            .then(pl.lit("DOUBLON"))
            .otherwise(pl.col("_rejet_f"))
            .alias("_rejet_f")
        )
    ok = (pl.col("_rejet_f").is_null() & pl.col("_rejet_l").is_null()).alias("_ok")
    # Some executant paid on the tarif d'autorité (rare): the lines carry it, else no column.
    authority = bool(f.get_column(AUTORITE).fill_null(0).max())
    if is_small(lines.height):  # the eligibility to the forfait actes lourds in the rates' plan
        lines = chain(lines, lambda frame: _fal_eligible(_step_rate(_step_base(frame.with_columns(ok), lp, authority), lp), lp, authority),
                      ("taux", "forfait", authority, lp))
        if lines.get_column("_fal_elig").any():
            lines = _step_forfait_actes_lourds(lines, lp)
            lines = chain(lines, lambda frame: _step_participations(_step_amo(frame, lp), lp), ("participations", lp))
        else:  # no technical act (most real-time calls): the forfait's columns in the next plan
            lines = chain(lines, lambda frame: _step_participations(_step_amo(frame.with_columns(_NO_FAL), lp), lp),
                          ("participations", "sans forfait", lp))
    else:
        lines = chain(lines, lambda frame: _step_rate(_step_base(frame.with_columns(ok), lp, authority), lp), ("taux", authority, lp))
        lines = _step_forfait_actes_lourds(lines, lp)
        lines = chain(lines, lambda frame: _step_participations(_step_amo(frame, lp), lp), ("participations", lp))
    lines, counters_daily_annual = caps.apply_caps(lines, counters, carry)
    if explanations:
        words = not is_small(lines.height)  # a small batch's texts are looked up line by line
        lines = chain(lines, lambda frame: explain.line_signature(caps.line_payments(frame), words, authority),
                      ("paiements", words, authority))
    else:
        lines = chain(lines, caps.line_payments, ("paiements",))

    decomptes, debt = caps.feuille_payments(f, lines, counters, all_dup)
    if explanations:
        lines = explain.explain_lines(lines, priced_nomenclature.texts)
        decomptes = explain.explain_feuilles(decomptes)
    else:
        lines = lines.with_columns(pl.lit(None, dtype=pl.Categorical()).alias("explication"))
        decomptes = decomptes.with_columns(pl.lit(None, dtype=pl.Categorical()).alias("explication"))

    new_counters = caps.update_counters(counters, counters_daily_annual, debt, f, lines) if carry else counters
    # Lines are in processing order; when that is the input order, no sort is needed.
    in_input_order = f.get_column("_ordre").is_sorted() and f.get_column("_pos").is_sorted()
    out = lines.lazy().filter(pl.col("_rejet_f").is_null())
    out_lines = collect(
        (out if in_input_order else out.sort("_fpos", "_lpos"))
        .select(_output_line_columns()),
        lines.height,
    )
    return decomptes, out_lines, new_counters


@functools.cache
def _line_feuille_columns() -> list[pl.Expr]:
    """What each line takes of its feuille (built once: reads no data)."""
    return [
        pl.col("_pos").alias("_fpos"), pl.col("_ordre"), pl.col("_rejet_f"), pl.col("id"), pl.col("date_reception"),
        _ymd(pl.col("date_reception")).alias("_reception_ymd"), pl.col("nir"), pl.col("executant"),
        pl.col("tiers_payant"), pl.col("en_rapport_ald"), pl.col("_nir_idx"), pl.col("_ps_idx"), pl.col(AUTORITE),
        pl.col("date_naissance"), pl.col("_naissance_ymd"),
        # The feuille's risk and parcours as the flags the lines read (cheaper to copy than text).
        (pl.col("risque") == "atmp").alias("_risque_atmp"),
        (pl.col("risque") == "maternite").alias("_risque_maternite"),
        (pl.col("parcours") == "hors_parcours").alias("_parcours_hors"),
        (pl.col("parcours") == "acces_direct_specifique").alias("_parcours_acces_direct"),
        pl.col("deces"),
    ]


@functools.cache
def _output_line_columns() -> list[pl.Expr]:
    """The output lines' columns (built once: reads no data)."""
    return [
        pl.col("_fpos"),
        pl.col("_lpos"),
        pl.col("id").alias("feuille_id"),
        pl.col("code"),
        *(pl.col(c) for c in MONEY_OUT),
        pl.col("taux"),
        pl.when(pl.col("_rejet_l").is_null()).then(pl.lit([], dtype=pl.List(pl.String()))).otherwise(
            pl.concat_list(pl.col("_rejet_l"))
        ).alias("rejets"),
        pl.col("explication"),
    ]


def liquidate_records(
    referentiel: Referentiel,
    feuilles: Sequence[dict[str, Any] | None],
    counters: Counters | None = None,
    today: dt.date | None = None,
) -> tuple[list[dict[str, Any]], Counters]:
    """Convenience for a list of contract records (the real-time single-FSE path, the tests)."""
    from caisse.rules.claims import records

    f, lines = records.frames_from_records(feuilles)
    decomptes, out_lines, new_counters = liquidate(referentiel, f, lines, counters, today)
    return records.records_from_frames(decomptes, out_lines), new_counters
