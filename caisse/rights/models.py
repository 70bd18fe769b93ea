"""Rights of a beneficiary: base rights (PUMa), C2S, AME, ALD, médecin traitant, maternity,
invalidity, carte Vitale and residence controls.

Invariants live in the database too: rights periods never overlap, one open C2S and one
active carte Vitale per person, and so on. Every write goes through ``rights.services``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from caisse.beneficiaries.models import Beneficiary
from caisse.core.constraints import NonOverlappingPeriods
from caisse.professionals.models import HealthProfessional


class PeriodQuerySet(models.QuerySet):  # type: ignore[type-arg]
    def open_on(self, when: dt.date) -> PeriodQuerySet:
        return self.filter(debut__lte=when).filter(models.Q(fin__isnull=True) | models.Q(fin__gte=when))


def _period_order(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(fin__isnull=True) | models.Q(fin__gte=models.F("debut")),
        name=name,
        violation_error_message="La date de fin précède la date de début.",
    )


# --- PUMa ---------------------------------------------------------------------------------


class OpeningReason(models.TextChoices):
    ACTIVITE = "activite", "Activité professionnelle en France"
    RESIDENCE = "residence", "Résidence stable et régulière"
    NAISSANCE = "naissance", "Naissance (ayant droit)"
    MUTATION = "mutation", "Mutation depuis une autre caisse"
    REOUVERTURE = "reouverture", "Réouverture après contrôle"


class ClosingReason(models.TextChoices):
    DECES = "deces", "Décès"
    DEPART_ETRANGER = "depart_etranger", "Départ à l'étranger"
    CONTROLE_RESIDENCE = "controle_residence", "Résidence non justifiée (contrôle)"
    TITRE_SEJOUR = "titre_sejour", "Titre de séjour non renouvelé"
    MUTATION = "mutation", "Mutation vers une autre caisse"
    AUTRE_REGIME = "autre_regime", "Affiliation à un autre régime"


class RightsPeriod(models.Model):
    """A period of base rights (prise en charge des frais de santé, PUMa)."""

    beneficiary = models.ForeignKey(Beneficiary, verbose_name="bénéficiaire", on_delete=models.PROTECT,
                                    related_name="rights_periods")
    debut = models.DateField("début")
    fin = models.DateField("fin", null=True, blank=True)
    motif_ouverture = models.CharField("motif d'ouverture", max_length=20, choices=OpeningReason.choices)
    motif_fermeture = models.CharField("motif de fermeture", max_length=20, choices=ClosingReason.choices, blank=True)

    objects = PeriodQuerySet.as_manager()

    class Meta:
        verbose_name = "période de droits de base"
        verbose_name_plural = "périodes de droits de base"
        ordering = ["beneficiary", "-debut"]
        constraints = [
            _period_order("check_rightsperiod_order"),
            NonOverlappingPeriods(name="exclude_rightsperiod_overlapping", group=("beneficiary",),
                                  violation_error_message="La période chevauche une période de droits existante."),
            models.CheckConstraint(
                condition=models.Q(fin__isnull=True) | ~models.Q(motif_fermeture=""),
                name="check_rightsperiod_closed_with_reason",
                violation_error_message="Une période fermée doit indiquer son motif de fermeture.",
            ),
        ]

    def __str__(self) -> str:
        return f"Droits du {self.debut:%d/%m/%Y}" + (f" au {self.fin:%d/%m/%Y}" if self.fin else "")


# --- C2S ----------------------------------------------------------------------------------


class C2SDecision(models.TextChoices):
    GRATUITE = "c2s_gratuite", "C2S sans participation"
    PARTICIPATION = "c2s_participation", "C2S avec participation"
    REFUS = "refus", "Refus"


class C2SRequest(models.Model):
    """A C2S request (or renewal) with its household, resources and decision."""

    demandeur = models.ForeignKey(Beneficiary, verbose_name="demandeur", on_delete=models.PROTECT,
                                  related_name="c2s_requests")
    date_demande = models.DateField("date de la demande")
    zone = models.CharField("zone", max_length=10, choices=[("metropole", "Métropole"), ("dom", "DOM")],
                            default="metropole")
    logement = models.CharField("logement", max_length=30, choices=[
        ("locataire", "Locataire"), ("locataire_aide_logement", "Locataire avec aide au logement"),
        ("proprietaire", "Propriétaire"), ("heberge_gratuit", "Hébergé gratuitement")], default="locataire")
    rsa = models.BooleanField("bénéficiaire du RSA", default=False)
    membres = models.JSONField("membres du foyer", default=list)
    ressources = models.JSONField("ressources mensuelles du foyer", default=list)
    renouvellement = models.BooleanField("renouvellement", default=False)
    decision = models.CharField("décision", max_length=20, choices=C2SDecision.choices, blank=True)
    plafond_cts = models.BigIntegerField("plafond (centimes)", null=True, blank=True)
    ressources_retenues_cts = models.BigIntegerField("ressources retenues (centimes)", null=True, blank=True)
    participation_mensuelle_cts = models.BigIntegerField("participation mensuelle (centimes)", default=0)
    motif = models.TextField("motif", blank=True)
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)

    class Meta:
        verbose_name = "demande de C2S"
        verbose_name_plural = "demandes de C2S"
        ordering = ["-date_demande"]

    def __str__(self) -> str:
        return f"Demande de C2S du {self.date_demande:%d/%m/%Y}"


class C2SStatus(models.TextChoices):
    A_VENIR = "a_venir", "Accordée, à venir (renouvellement)"
    OUVERTE = "ouverte", "Ouverte"
    SUSPENDUE = "suspendue", "Suspendue (participation impayée)"
    FERMEE = "fermee", "Fermée"


class C2SAttribution(models.Model):
    """C2S granted to one member of a household for 12 months."""

    beneficiary = models.ForeignKey(Beneficiary, verbose_name="bénéficiaire", on_delete=models.PROTECT,
                                    related_name="c2s_attributions")
    request = models.ForeignKey(C2SRequest, verbose_name="demande", on_delete=models.PROTECT,
                                related_name="attributions", null=True, blank=True)
    debut = models.DateField("début")
    fin = models.DateField("fin")
    participation = models.BooleanField("avec participation financière", default=False)
    participation_mensuelle_cts = models.BigIntegerField("participation mensuelle (centimes)", default=0)
    automatique_rsa = models.BooleanField("attribution automatique (RSA)", default=False)
    statut = models.CharField("statut", max_length=12, choices=C2SStatus.choices, default=C2SStatus.OUVERTE)

    objects = PeriodQuerySet.as_manager()

    class Meta:
        verbose_name = "attribution de C2S"
        verbose_name_plural = "attributions de C2S"
        ordering = ["beneficiary", "-debut"]
        constraints = [
            _period_order("check_c2sattribution_order"),
            NonOverlappingPeriods(name="exclude_c2sattribution_overlapping", group=("beneficiary",),
                                  violation_error_message="La période de C2S chevauche une attribution existante."),
            models.UniqueConstraint(
                fields=["beneficiary"], condition=models.Q(statut__in=["ouverte", "suspendue"]),
                name="unique_c2sattribution_open_per_person",
                violation_error_message="Cette personne a déjà une C2S ouverte ou suspendue.",
            ),
            models.CheckConstraint(
                condition=models.Q(participation=True) | models.Q(participation_mensuelle_cts=0),
                name="check_c2sattribution_free_has_no_participation",
                violation_error_message="Une C2S sans participation ne peut avoir de montant de participation.",
            ),
        ]

    def __str__(self) -> str:
        kind = "avec" if self.participation else "sans"
        return f"C2S {kind} participation du {self.debut:%d/%m/%Y} au {self.fin:%d/%m/%Y}"


class C2SParticipationDue(models.Model):
    """One month of participation due for a C2S with participation."""

    attribution = models.ForeignKey(C2SAttribution, verbose_name="attribution", on_delete=models.PROTECT,
                                    related_name="dues")
    mois = models.DateField("mois (1er jour)")
    montant_cts = models.BigIntegerField("montant (centimes)")
    payee_le = models.DateField("payée le", null=True, blank=True)

    class Meta:
        verbose_name = "échéance de participation C2S"
        verbose_name_plural = "échéances de participation C2S"
        ordering = ["attribution", "mois"]
        constraints = [
            models.UniqueConstraint(fields=["attribution", "mois"], name="unique_c2sparticipationdue_month",
                                    violation_error_message="Cette échéance existe déjà."),
        ]

    def __str__(self) -> str:
        return f"Échéance {self.mois:%m/%Y} : {self.montant_cts / 100:.2f} €"


# --- AME ----------------------------------------------------------------------------------


class AMEStatus(models.TextChoices):
    DEMANDEE = "demandee", "Demandée"
    ACCORDEE = "accordee", "Accordée"
    REFUSEE = "refusee", "Refusée"
    EXPIREE = "expiree", "Expirée"


class AMEAttribution(models.Model):
    """Aide médicale de l'État: one year from the date of the request, renewable."""

    beneficiary = models.ForeignKey(Beneficiary, verbose_name="bénéficiaire", on_delete=models.PROTECT,
                                    related_name="ame_attributions")
    date_demande = models.DateField("date de la demande")
    depot_en_personne = models.BooleanField("première demande déposée en personne", default=False)
    residence_depuis = models.DateField("en France depuis", null=True, blank=True)
    ressources_annuelles_cts = models.BigIntegerField("ressources annuelles (centimes)", default=0)
    taille_foyer = models.PositiveSmallIntegerField("taille du foyer", default=1)
    renouvellement = models.BooleanField("renouvellement", default=False)
    debut = models.DateField("début", null=True, blank=True)
    fin = models.DateField("fin", null=True, blank=True)
    statut = models.CharField("statut", max_length=10, choices=AMEStatus.choices, default=AMEStatus.DEMANDEE)
    motif = models.TextField("motif", blank=True)

    objects = PeriodQuerySet.as_manager()

    class Meta:
        verbose_name = "aide médicale de l'État"
        verbose_name_plural = "aides médicales de l'État"
        ordering = ["beneficiary", "-date_demande"]
        constraints = [
            NonOverlappingPeriods(name="exclude_ameattribution_overlapping", group=("beneficiary",),
                                  condition="row.statut <> 'refusee' AND row.statut <> 'demandee'",
                                  violation_error_message="La période d'AME chevauche une attribution existante."),
            models.CheckConstraint(
                condition=~models.Q(statut="accordee") | (models.Q(debut__isnull=False) & models.Q(fin__isnull=False)),
                name="check_ameattribution_granted_has_period",
                violation_error_message="Une AME accordée doit avoir une date de début et de fin.",
            ),
        ]

    def __str__(self) -> str:
        return f"AME ({self.get_statut_display()}) demandée le {self.date_demande:%d/%m/%Y}"


# --- ALD (medical data) ---------------------------------------------------------------------


class ALDKind(models.TextChoices):
    LISTE = "liste", "ALD 30 (liste)"
    HORS_LISTE = "hors_liste", "ALD 31 (hors liste)"
    POLYPATHOLOGIE = "polypathologie", "ALD 32 (polypathologie)"
    NON_EXONERANTE = "non_exonerante", "ALD non exonérante"


class ProtocolStatus(models.TextChoices):
    TRANSMIS = "transmis", "Transmis par le médecin traitant"
    VALIDE = "valide", "Validé par le médecin-conseil"
    REFUSE = "refuse", "Refusé par le médecin-conseil"


class ALDPeriod(models.Model):
    """An ALD with its protocole de soins. Medical data: restricted access."""

    beneficiary = models.ForeignKey(Beneficiary, verbose_name="bénéficiaire", on_delete=models.PROTECT,
                                    related_name="ald_periods")
    kind = models.CharField("type d'ALD", max_length=20, choices=ALDKind.choices)
    affection = models.CharField("affection", max_length=200)
    numero_liste = models.PositiveSmallIntegerField("n° dans la liste ALD 30", null=True, blank=True)
    medecin = models.ForeignKey(HealthProfessional, verbose_name="médecin rédacteur du protocole",
                                on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    date_protocole = models.DateField("date du protocole de soins")
    statut_protocole = models.CharField("statut du protocole", max_length=10, choices=ProtocolStatus.choices,
                                        default=ProtocolStatus.TRANSMIS)
    valide_par = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="médecin-conseil", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    valide_le = models.DateField("validé le", null=True, blank=True)
    debut = models.DateField("début de l'exonération", null=True, blank=True)
    fin = models.DateField("fin de l'exonération", null=True, blank=True)

    objects = PeriodQuerySet.as_manager()

    class Meta:
        verbose_name = "affection de longue durée"
        verbose_name_plural = "affections de longue durée"
        ordering = ["beneficiary", "-date_protocole"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(statut_protocole="valide")
                | (models.Q(debut__isnull=False) & models.Q(valide_le__isnull=False)),
                name="check_aldperiod_validated_has_period",
                violation_error_message="Un protocole validé doit avoir une date de validation et un début d'exonération.",
            ),
            models.CheckConstraint(
                condition=models.Q(fin__isnull=True) | models.Q(debut__isnull=False) & models.Q(fin__gte=models.F("debut")),
                name="check_aldperiod_order",
                violation_error_message="La date de fin précède la date de début.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.affection}"

    @property
    def exonerante(self) -> bool:
        return self.kind != ALDKind.NON_EXONERANTE and self.statut_protocole == ProtocolStatus.VALIDE


# --- Médecin traitant, maternity, invalidity ---------------------------------------------------


class MedecinTraitantDeclaration(models.Model):
    beneficiary = models.ForeignKey(Beneficiary, verbose_name="bénéficiaire", on_delete=models.PROTECT,
                                    related_name="medecin_traitant_declarations")
    medecin = models.ForeignKey(HealthProfessional, verbose_name="médecin traitant", on_delete=models.PROTECT,
                                related_name="patients_declares")
    debut = models.DateField("début")
    fin = models.DateField("fin", null=True, blank=True)
    canal = models.CharField("canal", max_length=12, default="teleservice",
                             choices=[("teleservice", "Téléservice du médecin"), ("papier", "Formulaire S3704")])

    objects = PeriodQuerySet.as_manager()

    class Meta:
        verbose_name = "déclaration de médecin traitant"
        verbose_name_plural = "déclarations de médecin traitant"
        ordering = ["beneficiary", "-debut"]
        constraints = [
            _period_order("check_medecintraitantdeclaration_order"),
            NonOverlappingPeriods(name="exclude_medecintraitant_overlapping", group=("beneficiary",),
                                  violation_error_message="Une seule déclaration de médecin traitant à la fois."),
        ]

    def __str__(self) -> str:
        return f"Médecin traitant : {self.medecin} depuis le {self.debut:%d/%m/%Y}"


class MaternityPeriod(models.Model):
    beneficiary = models.ForeignKey(Beneficiary, verbose_name="bénéficiaire", on_delete=models.PROTECT,
                                    related_name="maternity_periods")
    date_debut_grossesse = models.DateField("début de grossesse")
    debut_6e_mois = models.DateField("premier jour du 6e mois")
    date_accouchement_prevue = models.DateField("date présumée d'accouchement")
    date_accouchement = models.DateField("date d'accouchement", null=True, blank=True)

    class Meta:
        verbose_name = "période de maternité"
        verbose_name_plural = "périodes de maternité"
        ordering = ["beneficiary", "-date_debut_grossesse"]
        constraints = [
            models.CheckConstraint(condition=models.Q(debut_6e_mois__gt=models.F("date_debut_grossesse")),
                                   name="check_maternityperiod_6th_month_after_start",
                                   violation_error_message="Le 6e mois commence après le début de grossesse."),
        ]

    def __str__(self) -> str:
        return f"Grossesse, accouchement prévu le {self.date_accouchement_prevue:%d/%m/%Y}"

    @property
    def accouchement(self) -> dt.date:
        return self.date_accouchement or self.date_accouchement_prevue

    @property
    def fin_exoneration(self) -> dt.date:
        return self.accouchement + dt.timedelta(days=12)


class InvalidityPeriod(models.Model):
    beneficiary = models.ForeignKey(Beneficiary, verbose_name="bénéficiaire", on_delete=models.PROTECT,
                                    related_name="invalidity_periods")
    categorie = models.PositiveSmallIntegerField("catégorie", choices=[(1, "1re catégorie"), (2, "2e catégorie"),
                                                                        (3, "3e catégorie")])
    debut = models.DateField("début")
    fin = models.DateField("fin", null=True, blank=True)

    objects = PeriodQuerySet.as_manager()

    class Meta:
        verbose_name = "période d'invalidité"
        verbose_name_plural = "périodes d'invalidité"
        ordering = ["beneficiary", "-debut"]
        constraints = [
            _period_order("check_invalidityperiod_order"),
            NonOverlappingPeriods(name="exclude_invalidityperiod_overlapping", group=("beneficiary",),
                                  violation_error_message="La période d'invalidité chevauche une période existante."),
        ]

    def __str__(self) -> str:
        return f"Invalidité {self.get_categorie_display()} depuis le {self.debut:%d/%m/%Y}"


# --- Carte Vitale ---------------------------------------------------------------------------


class CardStatus(models.TextChoices):
    COMMANDEE = "commandee", "Commandée"
    EN_PRODUCTION = "en_production", "En production"
    ACTIVE = "active", "Remise, active"
    EN_OPPOSITION = "en_opposition", "En opposition"
    REMPLACEE = "remplacee", "Remplacée"


class OppositionReason(models.TextChoices):
    PERTE = "perte", "Perte"
    VOL = "vol", "Vol"
    DEFAUT = "defaut", "Dysfonctionnement"
    DECES = "deces", "Décès du titulaire"


class CarteVitale(models.Model):
    beneficiary = models.ForeignKey(Beneficiary, verbose_name="titulaire", on_delete=models.PROTECT,
                                    related_name="cartes_vitale")
    numero = models.CharField("numéro de série", max_length=20, unique=True)
    statut = models.CharField("statut", max_length=15, choices=CardStatus.choices, default=CardStatus.COMMANDEE)
    canal = models.CharField("canal de commande", max_length=10, default="en_ligne",
                             choices=[("en_ligne", "En ligne"), ("papier", "Formulaire papier"), ("agence", "Agence")])
    date_commande = models.DateField("commandée le")
    date_production = models.DateField("produite le", null=True, blank=True)
    date_remise = models.DateField("remise le", null=True, blank=True)
    date_opposition = models.DateField("mise en opposition le", null=True, blank=True)
    motif_opposition = models.CharField("motif d'opposition", max_length=10, choices=OppositionReason.choices, blank=True)
    remplacee_par = models.OneToOneField("self", verbose_name="remplacée par", null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="remplace")

    class Meta:
        verbose_name = "carte Vitale"
        verbose_name_plural = "cartes Vitale"
        ordering = ["beneficiary", "-date_commande"]
        constraints = [
            models.UniqueConstraint(
                fields=["beneficiary"], condition=models.Q(statut__in=["commandee", "en_production", "active"]),
                name="unique_cartevitale_current_per_person",
                violation_error_message="Cette personne a déjà une carte Vitale en cours ou active.",
            ),
            models.CheckConstraint(
                condition=~models.Q(statut="en_opposition")
                | (models.Q(date_opposition__isnull=False) & ~models.Q(motif_opposition="")),
                name="check_cartevitale_opposition_dated",
                violation_error_message="Une carte en opposition doit avoir une date et un motif d'opposition.",
            ),
        ]

    def __str__(self) -> str:
        return f"Carte Vitale {self.numero} ({self.get_statut_display()})"


# --- Residence controls ----------------------------------------------------------------------


class ControlReason(models.TextChoices):
    SANS_MISE_A_JOUR = "sans_mise_a_jour", "Aucune mise à jour du dossier depuis 3 ans"
    TITRE_SEJOUR_ECHU = "titre_sejour_echu", "Titre de séjour échu depuis 6 mois ou plus"


class ControlStatus(models.TextChoices):
    OUVERT = "ouvert", "Ouvert, justificatifs demandés"
    DROITS_MAINTENUS = "droits_maintenus", "Clos : résidence justifiée, droits maintenus"
    DROITS_FERMES = "droits_fermes", "Clos : résidence non justifiée, droits fermés"


class ResidenceControl(models.Model):
    beneficiary = models.ForeignKey(Beneficiary, verbose_name="bénéficiaire", on_delete=models.PROTECT,
                                    related_name="residence_controls")
    motif = models.CharField("motif du contrôle", max_length=20, choices=ControlReason.choices)
    ouvert_le = models.DateField("ouvert le")
    statut = models.CharField("statut", max_length=20, choices=ControlStatus.choices, default=ControlStatus.OUVERT)
    clos_le = models.DateField("clos le", null=True, blank=True)
    observations = models.TextField("observations", blank=True)

    class Meta:
        verbose_name = "contrôle de résidence"
        verbose_name_plural = "contrôles de résidence"
        ordering = ["-ouvert_le"]
        constraints = [
            models.UniqueConstraint(fields=["beneficiary"], condition=models.Q(statut="ouvert"),
                                    name="unique_residencecontrol_open_per_person",
                                    violation_error_message="Un contrôle est déjà ouvert pour cette personne."),
            models.CheckConstraint(
                condition=models.Q(statut="ouvert", clos_le__isnull=True)
                | (~models.Q(statut="ouvert") & models.Q(clos_le__isnull=False)),
                name="check_residencecontrol_closed_dated",
                violation_error_message="Un contrôle clos doit avoir une date de clôture, un contrôle ouvert n'en a pas.",
            ),
        ]

    def __str__(self) -> str:
        return f"Contrôle de résidence du {self.ouvert_le:%d/%m/%Y} ({self.get_statut_display()})"
