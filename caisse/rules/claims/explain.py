"""French explanations: one sentence per rule applied, with its value and legal reference.

The engine leaves on every line the facts each rule used (rate origin, exemptions, caps
reached...); this module writes them as sentences, vectorised (``concat_str`` of optional
pieces, a null piece being a rule that did not apply).
"""

from __future__ import annotations

import polars as pl

from caisse.rules.claims.controls import MESSAGES


def eur(cts: pl.Expr) -> pl.Expr:
    """An amount in cents written the French way: ``1 234`` cents -> ``12,34 €``."""
    return pl.format(
        "{},{} €",
        (cts // 100).cast(pl.String),
        (cts % 100).cast(pl.String).str.zfill(2),
    )


def _when(cond: pl.Expr, text: pl.Expr) -> pl.Expr:
    return pl.when(cond).then(text).otherwise(pl.lit(None, dtype=pl.String()))


def explain_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """Adds ``explication`` to each line."""
    ok = pl.col("_ok")
    d = pl.col("date_soins").dt.to_string("%d/%m/%Y")
    taux = pl.col("taux").cast(pl.String)
    rejected = pl.format(
        "Ligne rejetée ({}) : {}.",
        pl.col("_rejet_l"),
        pl.col("_rejet_l").replace_strict(MESSAGES, default=pl.lit("rejet")),
    )
    pieces = [
        _when(
            ok,
            pl.format(
                "Base de remboursement {} ({} : {} × {} × {} au {}, CSS art. L162-1-7).",
                eur(pl.col("base_remboursement_cts")),
                pl.col("code"),
                eur(pl.col("tarif_cts")),
                pl.col("quantite").cast(pl.String),
                pl.col("coefficient").cast(pl.String).str.replace(r"\.0$", ""),
                d,
            ),
        ),
        _when(ok & (pl.col("depassement_cts") > 0), pl.format("Dépassement de {} non remboursable.", eur(pl.col("depassement_cts")))),
        _when(
            ok & pl.col("_ame_exclu"),
            pl.lit("Catégorie exclue de l'aide médicale de l'État : taux 0 % (CASF art. L251-2)."),
        ),
        _when(ok & pl.col("_exo_atmp"), pl.lit("Soins au titre d'un accident du travail ou d'une maladie professionnelle : prise en charge à 100 % (CSS art. L431-1).")),
        _when(ok & pl.col("_exo_maternite"), pl.lit("Exonération maternité (du 1er jour du 6e mois au 12e jour après l'accouchement) : prise en charge à 100 % (CSS art. L160-14).")),
        _when(ok & pl.col("_exo_ald"), pl.lit("Soins en rapport avec l'affection de longue durée : exonération du ticket modérateur, 100 % (CSS art. L160-14 3°).")),
        _when(ok & pl.col("_exo_invalidite"), pl.lit("Titulaire d'une pension d'invalidité : exonération du ticket modérateur, 100 % (CSS art. L160-14 10°).")),
        _when(ok & pl.col("_exo_nouveau_ne"), pl.lit("Nouveau-né hospitalisé dans les 30 jours suivant la naissance : prise en charge à 100 % (CSS art. L160-14).")),
        _when(ok & pl.col("_ame") & ~pl.col("_ame_exclu"), pl.lit("Aide médicale de l'État : prise en charge à 100 % du tarif (CASF art. L251-2).")),
        _when(
            ok & pl.col("_hors_parcours") & ~pl.col("_exonere"),
            pl.format("Hors parcours de soins coordonnés : taux de {} % (CSS art. L162-5-3).", taux),
        ),
        _when(
            ok & ~pl.col("_exonere") & ~pl.col("_hors_parcours") & ~pl.col("_ame_exclu") & ~pl.col("_fal"),
            pl.format("Taux de remboursement de {} % pour la catégorie {} (CSS art. R160-5).", taux, pl.col("categorie")),
        ),
        _when(
            ok & pl.col("_fal"),
            pl.format(
                "Acte lourd (tarif ou coefficient au-dessus du seuil) : forfait de {} à la place du ticket modérateur (CSS art. R160-16).",
                eur(pl.col("forfait_actes_lourds_cts")),
            ),
        ),
        _when(ok & pl.col("_hosp_31"), pl.lit("Hospitalisation : frais de séjour pris en charge à 100 % à partir du 31e jour (CSS art. L160-14 9°).")),
        _when(
            ok & (pl.col("forfait_journalier_cts") > 0),
            pl.format("Forfait journalier hospitalier de {} à la charge du patient (CSS art. L174-4).", eur(pl.col("forfait_journalier_cts"))),
        ),
        _when(
            ok & (pl.col("participation_forfaitaire_cts") > 0),
            pl.format("Participation forfaitaire de {} (CSS art. L160-13 II).", eur(pl.col("participation_forfaitaire_cts"))),
        ),
        _when(ok & pl.col("_pf_plafond_jour_atteint"), pl.lit("Participation forfaitaire limitée par le plafond journalier par professionnel (CSS art. D160-6).")),
        _when(ok & pl.col("_pf_plafond_an_atteint"), pl.lit("Participation forfaitaire limitée par le plafond annuel de 50 € (CSS art. D160-6).")),
        _when(
            ok & (pl.col("franchise_cts") > 0),
            pl.format("Franchise médicale de {} (CSS art. L160-13 III).", eur(pl.col("franchise_cts"))),
        ),
        _when(ok & pl.col("_fr_plafond_jour_atteint"), pl.lit("Franchise limitée par le plafond journalier (CSS art. D160-9).")),
        _when(ok & pl.col("_fr_plafond_an_atteint"), pl.lit("Franchise limitée par le plafond annuel de 50 € (CSS art. D160-9).")),
        _when(
            ok & pl.col("_exempt_participations") & ((pl.col("_pf_brut") == 0) & (pl.col("_fr_brut") == 0)) & (
                pl.col("_fr_kind").is_not_null() | (pl.col("categorie").is_in(["consultation_medecin", "acte_technique_medecin", "imagerie", "biologie"]))
            ),
            pl.lit("Exonération de la participation forfaitaire et des franchises (mineur, C2S, AME, maternité ou AT/MP ; CSS art. L160-13 IV)."),
        ),
        _when(
            ok & pl.col("tiers_payant") & (pl.col("_dette_ligne") > 0),
            pl.format("Tiers payant : {} de participations mis à la charge de l'assuré, récupérables sur ses remboursements (CSS art. L160-13).", eur(pl.col("_dette_ligne"))),
        ),
        _when(
            ok & pl.col("_c2s") & (pl.col("part_c2s_cts") > 0),
            pl.format("Complémentaire santé solidaire : {} pris en charge au titre du ticket modérateur (CSS art. L861-3).", eur(pl.col("part_c2s_cts"))),
        ),
        _when(~ok & pl.col("_rejet_l").is_not_null(), rejected),
    ]
    return lines.with_columns(pl.concat_str(pieces, separator=" ", ignore_nulls=True).alias("explication"))


def explain_feuilles(decomptes: pl.DataFrame, lines: pl.DataFrame, with_lines: bool = True) -> pl.DataFrame:
    """Adds ``explication`` to each décompte: the lines' sentences (unless ``with_lines`` is
    false), then the feuille's own."""
    if not with_lines:
        lines = lines.filter(pl.lit(False))
    per_feuille = (
        lines.lazy()
        .filter(pl.col("_rejet_f").is_null())
        .sort("_fpos", "_lpos")
        .group_by("_fpos", maintain_order=True)
        .agg(
            pl.format("Ligne {} ({}) : {}", (pl.col("_lpos") + 1).cast(pl.String), pl.col("code").fill_null("?"), pl.col("explication"))
            .str.join(" ")
            .alias("_expl_lignes")
        )
        .collect()
    )
    d = decomptes.join(per_feuille, left_on="_pos", right_on="_fpos", how="left")
    feuille_rejet = pl.format(
        "Feuille rejetée ({}) : {}.",
        pl.col("_rejet_f"),
        pl.col("_rejet_f").replace_strict(MESSAGES, default=pl.lit("rejet")),
    )
    pieces = [
        _when(pl.col("_rejet_f").is_not_null(), feuille_rejet),
        _when(pl.col("_rejet_f").is_null(), pl.col("_expl_lignes")),
        _when(
            pl.col("_rejet_f").is_null() & ~pl.col("_liquidee"),
            pl.lit("Feuille rejetée : aucune ligne liquidable."),
        ),
        _when(
            pl.col("dette_recuperee_cts") > 0,
            pl.format("Dette de participations de {} récupérée sur ce remboursement (CSS art. L160-13).", eur(pl.col("dette_recuperee_cts"))),
        ),
        _when(
            pl.col("_liquidee") & pl.col("tiers_payant").fill_null(False),
            pl.format("Tiers payant : {} versés au professionnel de santé.", eur(pl.col("paiement_ps_cts"))),
        ),
        _when(
            pl.col("_liquidee") & ~pl.col("tiers_payant").fill_null(False),
            pl.format("Remboursement de {} versé à l'assuré.", eur(pl.col("paiement_assure_cts"))),
        ),
    ]
    return d.with_columns(pl.concat_str(pieces, separator=" ", ignore_nulls=True).alias("explication")).drop("_expl_lignes")
