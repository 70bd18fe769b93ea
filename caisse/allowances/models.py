"""Sick leave and daily allowances (IJ), persistent side.

An *arrêt de travail* arrives electronically from the prescriber (like e-AAT) or on paper; a
prolongation points to the initial arrêt of the same person and joins its *dossier
d'indemnisation*. The employer sends one *attestation de salaire* per arrêt (like the DSN
attestation: 12 months of gross salaries, hours, subrogation and maintained salary). When the
pieces are complete, the pure engine :mod:`caisse.rules.allowances` computes the IJ of the whole
chain of arrêts; the result is stored as *périodes d'IJ*, each paid once, to the assuré or to
the subrogated employer (R323-11 CSS). The death capital claims (capital décès) live here too.

Money is an integer number of cents. Every invariant that the database can hold is a named
constraint (SQLite and PostgreSQL); the "same person" rule of a prolongation, which spans two
rows, is a named trigger created by the migration (``check_arret_prolongation_meme_personne``).
"""

from __future__ import annotations

from django.db import models

from caisse.core.constraints import NonOverlappingPeriods


class Risque(models.TextChoices):
    MALADIE = "maladie", "Maladie"
    MATERNITE = "maternite", "Maternité"
    PATERNITE = "paternite", "Paternité"
    ATMP = "atmp", "Accident du travail / maladie professionnelle"


class Canal(models.TextChoices):
    ELECTRONIQUE = "electronique", "Avis d'arrêt de travail en ligne (télétransmis)"
    PAPIER = "papier", "Avis d'arrêt de travail papier"


class Piece(models.TextChoices):
    ATTESTATION_SALAIRE = "attestation_salaire", "Attestation de salaire de l'employeur"
    VOLET_ARRET = "volet_arret", "Volet de l'avis d'arrêt lisible et complet (Cerfa sécurisé)"


class StatutDossier(models.TextChoices):
    ATTENTE_PIECES = "attente_pieces", "En attente de pièces"
    CALCULE = "calcule", "Calculé, à payer"
    EN_PAIEMENT = "en_paiement", "En cours d'indemnisation"
    NON_ELIGIBLE = "non_eligible", "Droits non ouverts"
    SOLDE = "solde", "Soldé"


class StatutPeriode(models.TextChoices):
    CALCULEE = "calculee", "Calculée, à payer"
    PAYEE = "payee", "Payée"


class Destinataire(models.TextChoices):
    ASSURE = "assure", "Assuré"
    EMPLOYEUR = "employeur", "Employeur subrogé"


def _period_order(name: str, start: str = "debut", end: str = "fin") -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(**{f"{end}__isnull": True}) | models.Q(**{f"{end}__gte": models.F(start)}),
        name=name,
        violation_error_message="La date de fin précède la date de début.",
    )


class DossierIJ(models.Model):
    """Dossier d'indemnisation: one initial arrêt and its prolongations."""

    beneficiaire = models.ForeignKey(
        "beneficiaries.Beneficiary", verbose_name="assuré", on_delete=models.PROTECT, related_name="dossiers_ij"
    )
    risque = models.CharField("risque", max_length=12, choices=Risque.choices)
    statut = models.CharField(
        "état", max_length=16, choices=StatutDossier.choices, default=StatutDossier.ATTENTE_PIECES
    )
    pieces_manquantes = models.JSONField("pièces manquantes", default=list, blank=True)
    date_ouverture = models.DateField("ouvert le (réception du premier arrêt)")
    date_complet = models.DateField("complet le (dernière pièce requise reçue)", null=True, blank=True)
    date_premier_paiement = models.DateField("premier paiement le", null=True, blank=True)
    destinataire_premier_paiement = models.CharField(
        "premier paiement à", max_length=10, choices=Destinataire.choices, blank=True
    )
    salaire_journalier_base_cts = models.BigIntegerField("salaire journalier de base (centimes)", null=True, blank=True)
    jours_carence = models.PositiveSmallIntegerField("jours de carence", default=0)
    motif = models.TextField("explication du calcul", blank=True)
    ecart_deja_paye_cts = models.BigIntegerField(
        "écart sur jours déjà payés (centimes)", default=0,
        help_text="Différence entre le dernier calcul et ce qui a déjà été payé (rappel si positif, indu si négatif).",
    )
    calcule_le = models.DateTimeField("dernier calcul le", null=True, blank=True)

    class Meta:
        verbose_name = "dossier d'indemnités journalières"
        verbose_name_plural = "dossiers d'indemnités journalières"
        ordering = ["date_ouverture", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(statut="attente_pieces") | models.Q(date_complet__isnull=False),
                name="check_dossierij_complet_date",
                violation_error_message="Un dossier complet doit indiquer la date de sa dernière pièce.",
            ),
            models.CheckConstraint(
                condition=models.Q(date_premier_paiement__isnull=True)
                | ~models.Q(destinataire_premier_paiement=""),
                name="check_dossierij_premier_paiement_destinataire",
                violation_error_message="Le premier paiement doit indiquer son destinataire.",
            ),
        ]
        indexes = [models.Index(fields=["statut", "date_ouverture"], name="allowances_dossier_queue")]

    def __str__(self) -> str:
        return f"Dossier IJ n° {self.pk} ({self.get_risque_display()})"


class Arret(models.Model):
    """Avis d'arrêt de travail (initial or prolongation), as received."""

    identifiant_externe = models.CharField("identifiant de l'avis", max_length=64)
    beneficiaire = models.ForeignKey(
        "beneficiaries.Beneficiary", verbose_name="assuré", on_delete=models.PROTECT, related_name="arrets"
    )
    dossier = models.ForeignKey(DossierIJ, verbose_name="dossier", on_delete=models.PROTECT, related_name="arrets")
    canal = models.CharField("canal", max_length=12, choices=Canal.choices)
    risque = models.CharField("risque", max_length=12, choices=Risque.choices)
    prescripteur = models.ForeignKey(
        "professionals.HealthProfessional", verbose_name="prescripteur", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    employeur = models.ForeignKey(
        "professionals.Employer", verbose_name="employeur", null=True, blank=True,
        on_delete=models.PROTECT, related_name="arrets",
    )
    date_debut = models.DateField("premier jour d'arrêt")
    date_fin = models.DateField("dernier jour d'arrêt")
    date_reception = models.DateField("reçu le")
    prolongation = models.BooleanField("prolongation", default=False)
    arret_initial = models.ForeignKey(
        "self", verbose_name="arrêt initial", null=True, blank=True, on_delete=models.PROTECT,
        related_name="prolongations",
    )
    ald = models.BooleanField("en rapport avec une ALD", default=False)
    volet_complet = models.BooleanField("avis lisible et complet", default=True)
    date_accouchement = models.DateField("date d'accouchement (présumée ou réelle)", null=True, blank=True)
    enfants_a_charge = models.PositiveSmallIntegerField("enfants déjà à charge", null=True, blank=True)
    naissance_multiple = models.PositiveSmallIntegerField("naissance multiple (1, 2 ou 3)", null=True, blank=True)
    recu_le = models.DateTimeField("enregistré le", auto_now_add=True)

    class Meta:
        verbose_name = "arrêt de travail"
        verbose_name_plural = "arrêts de travail"
        ordering = ["date_debut", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["identifiant_externe"], name="unique_arret_identifiant_externe",
                violation_error_message="Un avis d'arrêt avec cet identifiant a déjà été reçu.",
            ),
            _period_order("check_arret_dates_ordonnees", "date_debut", "date_fin"),
            models.CheckConstraint(
                condition=models.Q(arret_initial__isnull=True) | models.Q(prolongation=True),
                name="check_arret_initial_si_prolongation",
                violation_error_message="Seule une prolongation peut renvoyer à un arrêt initial.",
            ),
            models.CheckConstraint(
                condition=models.Q(naissance_multiple__isnull=True) | models.Q(naissance_multiple__range=(1, 3)),
                name="check_arret_naissance_multiple",
                violation_error_message="Naissance multiple : 1, 2 ou 3 (triplés ou plus).",
            ),
            NonOverlappingPeriods(
                name="exclude_arret_chevauchement", group=("beneficiaire",), start="date_debut", end="date_fin",
                violation_error_message="Cet arrêt chevauche un autre arrêt de la même personne.",
            ),
        ]

    def __str__(self) -> str:
        kind = "Prolongation" if self.prolongation else "Arrêt"
        return f"{kind} du {self.date_debut:%d/%m/%Y} au {self.date_fin:%d/%m/%Y}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        initial = self.arret_initial if self.arret_initial_id is not None else None
        if initial is not None and initial.beneficiaire_id != self.beneficiaire_id:
            raise ValidationError(
                    {"arret_initial": "L'arrêt initial d'une prolongation doit concerner la même personne."}
                )


class AttestationSalaire(models.Model):
    """The employer's salary certificate for one arrêt (like the DSN attestation de salaire)."""

    arret = models.ForeignKey(Arret, verbose_name="arrêt", on_delete=models.PROTECT, related_name="attestations")
    employeur = models.ForeignKey(
        "professionals.Employer", verbose_name="employeur", on_delete=models.PROTECT, related_name="attestations_ij"
    )
    identifiant_externe = models.CharField("identifiant de l'attestation", max_length=64, blank=True)
    date_reception = models.DateField("reçue le")
    subrogation = models.BooleanField("subrogation (maintien de salaire, R323-11 CSS)", default=False)
    subrogation_debut = models.DateField("subrogation du", null=True, blank=True)
    subrogation_fin = models.DateField("subrogation au", null=True, blank=True)
    salaire_maintenu_journalier_cts = models.BigIntegerField(
        "salaire maintenu par jour (centimes)", null=True, blank=True,
        help_text="En cas de maintien partiel : la subrogation n'a lieu que si ce montant atteint l'IJ.",
    )

    class Meta:
        verbose_name = "attestation de salaire"
        verbose_name_plural = "attestations de salaire"
        ordering = ["date_reception", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["arret", "employeur"], name="unique_attestationsalaire_arret_employeur",
                violation_error_message="Cet employeur a déjà transmis une attestation de salaire pour cet arrêt.",
            ),
            models.CheckConstraint(
                condition=models.Q(subrogation=False)
                | (models.Q(subrogation_debut__isnull=False) & models.Q(subrogation_fin__isnull=False)),
                name="check_attestationsalaire_subrogation_periode",
                violation_error_message="Une subrogation doit indiquer la période de maintien du salaire.",
            ),
            _period_order("check_attestationsalaire_subrogation_ordre", "subrogation_debut", "subrogation_fin"),
            models.CheckConstraint(
                condition=models.Q(salaire_maintenu_journalier_cts__isnull=True)
                | models.Q(salaire_maintenu_journalier_cts__gte=0),
                name="check_attestationsalaire_maintien_positif",
                violation_error_message="Le salaire maintenu ne peut pas être négatif.",
            ),
        ]

    def __str__(self) -> str:
        return f"Attestation de salaire du {self.date_reception:%d/%m/%Y}"


class LigneSalaire(models.Model):
    """One month of the certificate: gross salary subject to contributions and hours worked."""

    attestation = models.ForeignKey(
        AttestationSalaire, verbose_name="attestation", on_delete=models.CASCADE, related_name="lignes"
    )
    mois = models.CharField("mois (AAAA-MM)", max_length=7)
    brut_cts = models.BigIntegerField("salaire brut (centimes)")
    heures = models.DecimalField("heures travaillées", max_digits=7, decimal_places=2, default=0)

    class Meta:
        verbose_name = "salaire mensuel"
        verbose_name_plural = "salaires mensuels"
        ordering = ["-mois"]
        constraints = [
            models.UniqueConstraint(
                fields=["attestation", "mois"], name="unique_lignesalaire_mois",
                violation_error_message="Ce mois figure déjà sur l'attestation.",
            ),
            models.CheckConstraint(
                condition=models.Q(brut_cts__gte=0) & models.Q(heures__gte=0),
                name="check_lignesalaire_positif",
                violation_error_message="Le salaire et les heures ne peuvent pas être négatifs.",
            ),
            models.CheckConstraint(
                condition=models.Q(mois__regex=r"^[0-9]{4}-(0[1-9]|1[0-2])$"),
                name="check_lignesalaire_mois_format",
                violation_error_message="Le mois s'écrit AAAA-MM.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mois} : {self.brut_cts / 100:.2f} €"


class PaiementIJ(models.Model):
    """One payment of IJ to one payee (the assuré or the subrogated employer)."""

    dossier = models.ForeignKey(DossierIJ, verbose_name="dossier", on_delete=models.PROTECT, related_name="paiements")
    beneficiaire = models.ForeignKey(
        "beneficiaries.Beneficiary", verbose_name="assuré", on_delete=models.PROTECT, related_name="paiements_ij"
    )
    destinataire = models.CharField("destinataire", max_length=10, choices=Destinataire.choices)
    employeur = models.ForeignKey(
        "professionals.Employer", verbose_name="employeur", null=True, blank=True, on_delete=models.PROTECT,
        related_name="paiements_ij",
    )
    date_paiement = models.DateField("payé le")
    debut = models.DateField("du")
    fin = models.DateField("au")
    montant_cts = models.BigIntegerField("montant (centimes)")
    cle = models.CharField("clé d'unicité", max_length=80)

    class Meta:
        verbose_name = "paiement d'IJ"
        verbose_name_plural = "paiements d'IJ"
        ordering = ["date_paiement", "debut", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cle"], name="unique_paiementij_cle",
                violation_error_message="Ce paiement a déjà été émis.",
            ),
            models.CheckConstraint(
                condition=models.Q(montant_cts__gte=0), name="check_paiementij_montant_positif",
                violation_error_message="Le montant d'un paiement ne peut pas être négatif.",
            ),
            models.CheckConstraint(
                condition=models.Q(destinataire="assure", employeur__isnull=True)
                | models.Q(destinataire="employeur", employeur__isnull=False),
                name="check_paiementij_employeur_si_subrogation",
                violation_error_message="Un paiement à l'employeur doit désigner l'employeur subrogé (et lui seul).",
            ),
            _period_order("check_paiementij_dates_ordonnees"),
        ]

    def __str__(self) -> str:
        return f"Paiement du {self.date_paiement:%d/%m/%Y} ({self.get_destinataire_display()})"


class PeriodeIJ(models.Model):
    """A run of days with the same daily IJ and the same payee, computed by the engine."""

    dossier = models.ForeignKey(DossierIJ, verbose_name="dossier", on_delete=models.PROTECT, related_name="periodes")
    arret = models.ForeignKey(Arret, verbose_name="arrêt", on_delete=models.PROTECT, related_name="periodes")
    beneficiaire = models.ForeignKey(
        "beneficiaries.Beneficiary", verbose_name="assuré", on_delete=models.PROTECT, related_name="periodes_ij"
    )
    debut = models.DateField("du")
    fin = models.DateField("au")
    ij_journaliere_cts = models.BigIntegerField("IJ journalière (centimes)")
    jours = models.PositiveIntegerField("jours")
    montant_cts = models.BigIntegerField("montant (centimes)")
    destinataire = models.CharField("destinataire", max_length=10, choices=Destinataire.choices)
    employeur = models.ForeignKey(
        "professionals.Employer", verbose_name="employeur subrogé", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    statut = models.CharField("état", max_length=10, choices=StatutPeriode.choices, default=StatutPeriode.CALCULEE)
    paiement = models.ForeignKey(
        PaiementIJ, verbose_name="paiement", null=True, blank=True, on_delete=models.PROTECT, related_name="periodes"
    )

    class Meta:
        verbose_name = "période d'IJ"
        verbose_name_plural = "périodes d'IJ"
        ordering = ["debut", "id"]
        constraints = [
            _period_order("check_periodeij_dates_ordonnees"),
            models.CheckConstraint(
                condition=models.Q(ij_journaliere_cts__gte=0) & models.Q(montant_cts__gte=0),
                name="check_periodeij_montants_positifs",
                violation_error_message="Les montants d'IJ ne peuvent pas être négatifs.",
            ),
            models.CheckConstraint(
                condition=models.Q(montant_cts=models.F("jours") * models.F("ij_journaliere_cts")),
                name="check_periodeij_montant_jours",
                violation_error_message="Le montant doit être égal au nombre de jours fois l'IJ journalière.",
            ),
            models.CheckConstraint(
                condition=models.Q(destinataire="assure", employeur__isnull=True)
                | models.Q(destinataire="employeur", employeur__isnull=False),
                name="check_periodeij_employeur_si_subrogation",
                violation_error_message="Une période payée à l'employeur doit désigner l'employeur subrogé.",
            ),
            models.CheckConstraint(
                condition=models.Q(statut="calculee", paiement__isnull=True)
                | models.Q(statut="payee", paiement__isnull=False),
                name="check_periodeij_paiement_si_payee",
                violation_error_message="Une période payée doit renvoyer à son paiement, et seulement elle.",
            ),
            NonOverlappingPeriods(
                name="exclude_periodeij_payee_chevauchement", group=("beneficiaire",),
                condition="row.statut <> 'calculee'",
                violation_error_message="Ces jours ont déjà été payés à cette personne.",
            ),
        ]

    def __str__(self) -> str:
        return f"IJ du {self.debut:%d/%m/%Y} au {self.fin:%d/%m/%Y}"


# --- Capital décès -----------------------------------------------------------------------------


class StatutCapitalDeces(models.TextChoices):
    DEPOSEE = "deposee", "Déposée"
    ACCORDEE = "accordee", "Accordée"
    REJETEE = "rejetee", "Rejetée"


class LienDefunt(models.TextChoices):
    CONJOINT = "conjoint", "Conjoint ou partenaire de PACS"
    ENFANT = "enfant", "Enfant ou descendant"
    ASCENDANT = "ascendant", "Ascendant"


class DemandeCapitalDeces(models.Model):
    """A claim for the capital décès of a deceased insured person (L361-1 s. CSS)."""

    defunt = models.ForeignKey(
        "beneficiaries.Beneficiary", verbose_name="assuré décédé", on_delete=models.PROTECT,
        related_name="demandes_capital_deces",
    )
    date_deces = models.DateField("date du décès")
    date_demande = models.DateField("demande reçue le")
    condition_activite = models.BooleanField(
        "conditions remplies dans les 3 mois avant le décès",
        help_text="Activité salariée, chômage indemnisé, pension d'invalidité, rente AT/MP ≥ 66,66 % ou maintien de droits.",
    )
    statut = models.CharField("état", max_length=10, choices=StatutCapitalDeces.choices,
                              default=StatutCapitalDeces.DEPOSEE)
    rang_servi = models.CharField("bénéficiaires servis", max_length=20, blank=True)
    montant_cts = models.BigIntegerField("montant (centimes)", default=0)
    motif = models.TextField("motif", blank=True)

    class Meta:
        verbose_name = "demande de capital décès"
        verbose_name_plural = "demandes de capital décès"
        constraints = [
            models.UniqueConstraint(
                fields=["defunt"], condition=~models.Q(statut="rejetee"), name="unique_capitaldeces_defunt",
                violation_error_message="Une demande de capital décès est déjà en cours ou accordée pour cet assuré.",
            ),
            models.CheckConstraint(
                condition=models.Q(date_demande__gte=models.F("date_deces")),
                name="check_capitaldeces_demande_apres_deces",
                violation_error_message="La demande ne peut précéder le décès.",
            ),
        ]

    def __str__(self) -> str:
        return f"Capital décès ({self.get_statut_display()})"


class AyantDroitCapitalDeces(models.Model):
    """A person who claims the capital décès, and the share decided."""

    demande = models.ForeignKey(
        DemandeCapitalDeces, verbose_name="demande", on_delete=models.CASCADE, related_name="ayants_droit"
    )
    beneficiaire = models.ForeignKey(
        "beneficiaries.Beneficiary", verbose_name="bénéficiaire connu", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    nom = models.CharField("nom et prénom", max_length=200)
    lien = models.CharField("lien avec le défunt", max_length=10, choices=LienDefunt.choices)
    a_charge = models.BooleanField("à la charge effective, totale et permanente du défunt", default=False)
    separe = models.BooleanField("conjoint séparé", default=False)
    date_demande_priorite = models.DateField("priorité demandée le", null=True, blank=True)
    part_cts = models.BigIntegerField("part attribuée (centimes)", default=0)

    class Meta:
        verbose_name = "ayant droit au capital décès"
        verbose_name_plural = "ayants droit au capital décès"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(part_cts__gte=0), name="check_ayantdroit_part_positive",
                violation_error_message="La part attribuée ne peut pas être négative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nom} ({self.get_lien_display()})"
