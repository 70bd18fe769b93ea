"""Health costs, the persistent path (contract §7): received feuilles, daily runs, counters, payments.

The calculation itself is the pure engine :mod:`caisse.rules.claims`; these tables keep what it
needs between runs (the :class:`~caisse.rules.claims.counters.Counters`: annual consumption,
debts, daily-cap consumption, acts already liquidated) and what it produced (the décompte of each
feuille, the payments). The services live in :mod:`caisse.claims.services`.

Invariants are database constraints, named ``unique_…`` / ``check_…``, on SQLite and PostgreSQL:
one feuille per id (a repeated id is a :class:`DuplicateReception`, never a second feuille), one
décompte per feuille and only once processed, one payment per payee and payment date, one daily run
in progress at a time, counters never negative.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class FeuilleType(models.TextChoices):
    FSE = "FSE", "Feuille de soins électronique"
    FSP = "FSP", "Feuille de soins papier"


class FeuilleStatus(models.TextChoices):
    RECUE = "recue", "Reçue"
    LIQUIDEE = "liquidee", "Liquidée"
    REJETEE = "rejetee", "Rejetée"


class RunStatus(models.TextChoices):
    EN_COURS = "en_cours", "En cours"
    TERMINE = "termine", "Terminé"


class PayeeKind(models.TextChoices):
    PS = "ps", "Professionnel de santé"
    ASSURE = "assure", "Assuré"


class FlowFormat(models.TextChoices):
    NDJSON = "ndjson", "NDJSON"
    PARQUET = "parquet", "Parquet"


class FlowReception(models.Model):
    """One reception of a flow of feuilles (``caisse recevoir``)."""

    fichier = models.CharField("fichier reçu", max_length=500)
    format = models.CharField("format", max_length=10, choices=FlowFormat.choices)
    empreinte = models.CharField("empreinte du fichier", max_length=64, db_index=True)
    recu_le = models.DateTimeField("reçu le", auto_now_add=True)
    nb_enregistrements = models.PositiveIntegerField("enregistrements lus", default=0)
    nb_recues = models.PositiveIntegerField("feuilles enregistrées", default=0)
    nb_doublons = models.PositiveIntegerField("doublons", default=0)
    nb_invalides = models.PositiveIntegerField("enregistrements invalides", default=0)
    deja_recu = models.BooleanField(
        "flux déjà reçu", default=False,
        help_text="Le même fichier avait déjà été reçu : rien n'a été stocké.",
    )

    class Meta:
        verbose_name = "réception de flux"
        verbose_name_plural = "réceptions de flux"
        ordering = ["-recu_le", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(nb_enregistrements=F("nb_recues") + F("nb_doublons")),
                name="check_flowreception_counts_add_up",
                violation_error_message="Chaque enregistrement du flux est soit une feuille reçue, soit un doublon.",
            ),
            models.CheckConstraint(
                condition=Q(nb_invalides__lte=F("nb_recues")),
                name="check_flowreception_invalid_within_received",
                violation_error_message="Les enregistrements invalides font partie des feuilles reçues.",
            ),
        ]

    def __str__(self) -> str:
        return f"Flux {self.fichier} ({self.nb_recues} feuilles, {self.nb_doublons} doublons)"


class DailyRun(models.Model):
    """One daily run (``caisse traiter``). Its date is the payment date of what it liquidates."""

    date_traitement = models.DateField("date du traitement (date de paiement)")
    jusqu_au = models.DateField("feuilles reçues jusqu'au", null=True, blank=True)
    debut = models.DateTimeField("début")
    fin = models.DateTimeField("fin", null=True, blank=True)
    statut = models.CharField("statut", max_length=10, choices=RunStatus.choices, default=RunStatus.EN_COURS)
    nb_feuilles = models.PositiveIntegerField("feuilles traitées", default=0)
    nb_liquidees = models.PositiveIntegerField("feuilles liquidées", default=0)
    nb_rejetees = models.PositiveIntegerField("feuilles rejetées", default=0)
    nb_lots = models.PositiveIntegerField("lots validés", default=0)
    nb_reprises = models.PositiveIntegerField("reprises après interruption", default=0)

    class Meta:
        verbose_name = "traitement quotidien"
        verbose_name_plural = "traitements quotidiens"
        ordering = ["-debut", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["statut"], condition=Q(statut="en_cours"), name="unique_dailyrun_one_in_progress",
                violation_error_message="Un traitement quotidien est déjà en cours.",
            ),
            models.CheckConstraint(
                condition=Q(statut__in=["en_cours", "termine"]), name="check_dailyrun_status",
                violation_error_message="Statut de traitement inconnu.",
            ),
            models.CheckConstraint(
                condition=Q(fin__isnull=True) | Q(fin__gte=F("debut")), name="check_dailyrun_end_after_start",
                violation_error_message="La fin du traitement précède son début.",
            ),
            models.CheckConstraint(
                condition=~Q(statut="termine") | Q(fin__isnull=False), name="check_dailyrun_finished_has_end",
                violation_error_message="Un traitement terminé a une date de fin.",
            ),
            models.CheckConstraint(
                condition=Q(nb_feuilles=F("nb_liquidees") + F("nb_rejetees")), name="check_dailyrun_counts_add_up",
                violation_error_message="Chaque feuille traitée est liquidée ou rejetée.",
            ),
        ]

    def __str__(self) -> str:
        return f"Traitement du {self.date_traitement:%d/%m/%Y} ({self.get_statut_display()}, {self.nb_feuilles} feuilles)"


class Payment(models.Model):
    """One transfer: everything paid to one payee on one payment date."""

    type_beneficiaire = models.CharField("destinataire", max_length=6, choices=PayeeKind.choices)
    identifiant_beneficiaire = models.CharField(
        "identifiant du destinataire", max_length=64, help_text="Identifiant du professionnel ou NIR de l'assuré.",
    )
    nom = models.CharField("nom du destinataire", max_length=200, blank=True)
    iban = models.CharField("IBAN", max_length=34, blank=True)
    iban_valide = models.BooleanField(
        "IBAN valide", default=False, help_text="Vérifié à la création du paiement : un fichier SEPA peut le porter.")
    bic = models.CharField("BIC", max_length=11, blank=True)
    date_paiement = models.DateField("date de paiement")
    montant_cts = models.BigIntegerField("montant (centimes)")
    nb_feuilles = models.PositiveIntegerField("feuilles payées", default=0)
    run = models.ForeignKey(DailyRun, verbose_name="traitement", on_delete=models.PROTECT, related_name="paiements")

    class Meta:
        verbose_name = "paiement"
        verbose_name_plural = "paiements"
        ordering = ["date_paiement", "type_beneficiaire", "identifiant_beneficiaire"]
        constraints = [
            models.UniqueConstraint(
                fields=["type_beneficiaire", "identifiant_beneficiaire", "date_paiement"],
                name="unique_payment_payee_date",
                violation_error_message="Un seul paiement par destinataire et par date de paiement.",
            ),
            models.CheckConstraint(
                condition=Q(montant_cts__gt=0), name="check_payment_amount_positive",
                violation_error_message="Un paiement a un montant positif.",
            ),
            models.CheckConstraint(
                condition=Q(type_beneficiaire__in=["ps", "assure"]), name="check_payment_payee_kind",
                violation_error_message="Le destinataire est un professionnel ou un assuré.",
            ),
            models.CheckConstraint(
                condition=Q(nb_feuilles__gt=0), name="check_payment_pays_feuilles",
                violation_error_message="Un paiement règle au moins une feuille.",
            ),
        ]

    def __str__(self) -> str:
        return f"Paiement de {self.montant_cts / 100:.2f} € à {self.identifiant_beneficiaire} le {self.date_paiement:%d/%m/%Y}"


class Feuille(models.Model):
    """A received feuille de soins, then its décompte (contract §2 output) once processed."""

    identifiant = models.CharField(
        "identifiant de la feuille", max_length=255, null=True, blank=True,
        help_text="Vide pour un enregistrement illisible (rejeté DONNEE_INVALIDE au traitement).",
    )
    identifiant_entier = models.BigIntegerField(
        "identifiant entier", null=True, blank=True,
        help_text="Valeur de l'identifiant reçu comme un entier : ces feuilles sont traitées dans l'ordre des nombres (9 avant 10).",
    )
    type = models.CharField("type", max_length=3, blank=True, choices=FeuilleType.choices)
    date_reception = models.DateField("date de réception", null=True, blank=True)
    nir = models.CharField("NIR", max_length=32, blank=True, db_index=True)
    executant = models.CharField("exécutant", max_length=64, blank=True)
    enregistrement = models.JSONField("enregistrement reçu (format du contrat)", null=True, blank=True)
    invalide = models.BooleanField("enregistrement invalide", default=False)
    lignes_invalides = models.JSONField("lignes invalides (rangs)", default=list, blank=True)
    erreur = models.CharField("erreur de lecture", max_length=300, blank=True)
    reception = models.ForeignKey(FlowReception, verbose_name="réception", on_delete=models.PROTECT,
                                  related_name="feuilles")
    position = models.PositiveIntegerField("rang dans le flux")
    statut = models.CharField("statut", max_length=10, choices=FeuilleStatus.choices, default=FeuilleStatus.RECUE)
    decompte = models.JSONField("décompte", null=True, blank=True)
    run = models.ForeignKey(DailyRun, verbose_name="traitement", on_delete=models.PROTECT, null=True, blank=True,
                            related_name="feuilles")
    date_paiement = models.DateField("date de mise en paiement", null=True, blank=True)
    paiement = models.ForeignKey(Payment, verbose_name="paiement", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="feuilles")

    class Meta:
        verbose_name = "feuille de soins"
        verbose_name_plural = "feuilles de soins"
        ordering = ["date_reception", "identifiant_entier", "identifiant"]
        indexes = [
            models.Index(fields=["statut", "date_reception", "identifiant_entier", "identifiant"], name="feuille_to_process"),
            models.Index(fields=["date_paiement", "type"], name="feuille_paid"),
            # A professional's return (back-office page and online space): their feuilles by status, newest first.
            models.Index(fields=["executant", "statut", "date_reception"], name="feuille_by_professional"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["identifiant"], name="unique_feuille_identifiant",
                violation_error_message="Une feuille de cet identifiant a déjà été reçue.",
            ),
            models.UniqueConstraint(
                fields=["reception", "position"], name="unique_feuille_reception_position",
                violation_error_message="Cet enregistrement du flux est déjà stocké.",
            ),
            models.CheckConstraint(
                condition=Q(statut__in=["recue", "liquidee", "rejetee"]), name="check_feuille_status",
                violation_error_message="Statut de feuille inconnu.",
            ),
            models.CheckConstraint(
                condition=(Q(statut="recue") & Q(decompte__isnull=True) & Q(run__isnull=True))
                | (Q(statut__in=["liquidee", "rejetee"]) & Q(decompte__isnull=False) & Q(run__isnull=False)),
                name="check_feuille_decompte_once_processed",
                violation_error_message="Une feuille traitée a un et un seul décompte, une feuille reçue n'en a pas.",
            ),
            models.CheckConstraint(
                condition=Q(paiement__isnull=True) | Q(statut="liquidee"), name="check_feuille_paid_if_liquidated",
                violation_error_message="Seule une feuille liquidée est payée.",
            ),
            models.CheckConstraint(
                condition=Q(date_paiement__isnull=True) | Q(statut="liquidee"),
                name="check_feuille_payment_date_if_liquidated",
                violation_error_message="Seule une feuille liquidée a une date de mise en paiement.",
            ),
        ]

    def __str__(self) -> str:
        return f"Feuille {self.identifiant or '(sans identifiant)'} ({self.get_statut_display()})"


class DuplicateReception(models.Model):
    """A received record whose id was already received: recorded, never stored as a feuille."""

    reception = models.ForeignKey(FlowReception, verbose_name="réception", on_delete=models.PROTECT,
                                  related_name="doublons")
    position = models.PositiveIntegerField("rang dans le flux")
    identifiant = models.CharField("identifiant de la feuille", max_length=255)
    date_reception = models.DateField("date de réception", null=True, blank=True)
    feuille = models.ForeignKey(Feuille, verbose_name="feuille déjà reçue", on_delete=models.PROTECT,
                                related_name="doublons")
    enregistrement = models.JSONField("enregistrement reçu", null=True, blank=True)

    class Meta:
        verbose_name = "doublon reçu"
        verbose_name_plural = "doublons reçus"
        ordering = ["reception", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["reception", "position"], name="unique_duplicatereception_reception_position",
                violation_error_message="Ce doublon est déjà enregistré.",
            ),
        ]

    def __str__(self) -> str:
        return f"Doublon de la feuille {self.identifiant}"


# --- Counters carried from run to run (Counters of the pure engine) ---------------------------------


class AnnualCounter(models.Model):
    """Participation forfaitaire and franchises consumed by a person in a calendar year."""

    nir = models.CharField("NIR", max_length=32)
    annee = models.PositiveSmallIntegerField("année")
    participation_forfaitaire_cts = models.BigIntegerField("participations forfaitaires (centimes)", default=0)
    franchises_cts = models.BigIntegerField("franchises (centimes)", default=0)

    class Meta:
        verbose_name = "compteur annuel"
        verbose_name_plural = "compteurs annuels"
        ordering = ["nir", "annee"]
        constraints = [
            models.UniqueConstraint(fields=["nir", "annee"], name="unique_annualcounter_nir_year",
                                    violation_error_message="Un seul compteur par personne et par année."),
            models.CheckConstraint(
                condition=Q(participation_forfaitaire_cts__gte=0) & Q(franchises_cts__gte=0),
                name="check_annualcounter_non_negative",
                violation_error_message="Un compteur annuel n'est jamais négatif.",
            ),
        ]

    def __str__(self) -> str:
        return f"Compteurs {self.annee} de {self.nir}"


class Debt(models.Model):
    """The assuré's outstanding debt (participations and franchises not deducted yet)."""

    nir = models.CharField("NIR", max_length=32, unique=True)
    dette_cts = models.BigIntegerField("dette (centimes)", default=0)

    class Meta:
        verbose_name = "dette d'assuré"
        verbose_name_plural = "dettes d'assurés"
        ordering = ["nir"]
        constraints = [
            models.CheckConstraint(condition=Q(dette_cts__gte=0), name="check_debt_non_negative",
                                   violation_error_message="Une dette n'est jamais négative."),
        ]

    def __str__(self) -> str:
        return f"Dette de {self.nir} : {self.dette_cts / 100:.2f} €"


class DailyCapConsumption(models.Model):
    """Amount consumed towards a daily cap (per person, professional or "" for transport, day, kind)."""

    nir = models.CharField("NIR", max_length=32)
    cle = models.CharField("clé (professionnel, ou vide pour le transport)", max_length=64, blank=True)
    date_soins = models.DateField("date des soins")
    kind = models.CharField("nature (pf ou franchise)", max_length=32)
    cts = models.BigIntegerField("montant consommé (centimes)")

    class Meta:
        verbose_name = "consommation d'un plafond journalier"
        verbose_name_plural = "consommations des plafonds journaliers"
        ordering = ["nir", "date_soins"]
        constraints = [
            models.UniqueConstraint(fields=["nir", "cle", "date_soins", "kind"], name="unique_dailycap_key",
                                    violation_error_message="Une seule consommation par personne, clé, jour et nature."),
            models.CheckConstraint(condition=Q(cts__gte=0), name="check_dailycap_non_negative",
                                   violation_error_message="Une consommation n'est jamais négative."),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.nir} {self.date_soins}"


class SeenAct(models.Model):
    """An act already liquidated (person, professional, code, day): a later one is a DOUBLON."""

    nir = models.CharField("NIR", max_length=32)
    executant = models.CharField("exécutant", max_length=64)
    code = models.CharField("code", max_length=64)
    date_soins = models.DateField("date des soins")

    class Meta:
        verbose_name = "acte déjà liquidé"
        verbose_name_plural = "actes déjà liquidés"
        ordering = ["nir", "date_soins"]
        constraints = [
            models.UniqueConstraint(fields=["nir", "executant", "code", "date_soins"], name="unique_seenact",
                                    violation_error_message="Cet acte est déjà enregistré."),
        ]

    def __str__(self) -> str:
        return f"{self.code} du {self.date_soins} ({self.nir})"


# --- Référentiel extras kept at import time ---------------------------------------------------------


class ImportedNomenclature(models.Model):
    """A row of the référentiel's ``nomenclature.ndjson`` (extends or overrides the shipped one)."""

    code = models.CharField("code", max_length=64)
    libelle = models.CharField("libellé", max_length=300, blank=True)
    categorie = models.CharField("catégorie", max_length=40)
    tarif_cts = models.BigIntegerField("tarif (centimes)")
    debut = models.DateField("début")
    fin = models.DateField("fin", null=True, blank=True)

    class Meta:
        verbose_name = "acte de la nomenclature importée"
        verbose_name_plural = "nomenclature importée"
        ordering = ["code", "debut"]
        constraints = [
            models.UniqueConstraint(fields=["code", "debut"], name="unique_importednomenclature_code_start",
                                    violation_error_message="Un seul tarif par code et date de début."),
            models.CheckConstraint(condition=Q(tarif_cts__gte=0), name="check_importednomenclature_tariff",
                                   violation_error_message="Un tarif n'est jamais négatif."),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.tarif_cts / 100:.2f} € depuis le {self.debut:%d/%m/%Y})"


class ImportedCounter(models.Model):
    """The last imported line of ``compteurs.ndjson`` for (nir, année): re-importing is idempotent."""

    nir = models.CharField("NIR", max_length=32)
    annee = models.PositiveSmallIntegerField("année")
    participation_forfaitaire_cts = models.BigIntegerField("participations forfaitaires (centimes)", default=0)
    franchises_cts = models.BigIntegerField("franchises (centimes)", default=0)
    dette_cts = models.BigIntegerField("dette (centimes)", default=0)

    class Meta:
        verbose_name = "compteur importé"
        verbose_name_plural = "compteurs importés"
        ordering = ["nir", "annee"]
        constraints = [
            models.UniqueConstraint(fields=["nir", "annee"], name="unique_importedcounter_nir_year",
                                    violation_error_message="Un seul compteur importé par personne et par année."),
        ]

    def __str__(self) -> str:
        return f"Compteurs importés {self.annee} de {self.nir}"
