"""States and vocabularies of the AT/MP cases (French labels, English code)."""

from __future__ import annotations

from django.db import models

from caisse.rules.atmp.deadlines import CaseType


class CaseKind(models.TextChoices):
    AT = CaseType.AT.value, "Accident du travail"
    TRAJET = CaseType.TRAJET.value, "Accident de trajet"
    MP = CaseType.MP.value, "Maladie professionnelle"
    RECHUTE = CaseType.RECHUTE.value, "Rechute ou nouvelle lésion"


class Declarant(models.TextChoices):
    EMPLOYEUR = "employeur", "Employeur"
    VICTIME = "victime", "Victime ou ses représentants"


class Channel(models.TextChoices):
    EDAT = "edat", "En ligne (e-DAT, net-entreprises)"
    PAPIER = "papier", "Formulaire papier (Cerfa)"
    COMPTE_AMELI = "ameli", "Compte ameli de la victime"


class CaseStatus(models.TextChoices):
    DECLARE = "declare", "Déclaré, en attente du certificat médical initial"
    INSTRUCTION = "instruction", "En instruction"
    ENQUETE = "enquete", "Enquête en cours"
    CONSULTATION = "consultation", "Dossier mis à disposition (consultation)"
    CRRMP = "crrmp", "Transmis au CRRMP"
    RECONNU = "reconnu", "Reconnu"
    REFUSE = "refuse", "Refusé"
    RECONNU_IMPLICITE = "reconnu_implicite", "Reconnu implicitement (absence de décision dans le délai)"


OPEN_STATUSES = (
    CaseStatus.DECLARE, CaseStatus.INSTRUCTION, CaseStatus.ENQUETE, CaseStatus.CONSULTATION, CaseStatus.CRRMP,
)
DECIDED_STATUSES = (CaseStatus.RECONNU, CaseStatus.REFUSE, CaseStatus.RECONNU_IMPLICITE)
RECOGNISED_STATUSES = (CaseStatus.RECONNU, CaseStatus.RECONNU_IMPLICITE)


class TransitionName(models.TextChoices):
    DECLARER = "declarer", "Enregistrer la déclaration"
    RECEVOIR_CMI = "recevoir_cmi", "Enregistrer le certificat médical initial"
    RECEVOIR_RESERVES = "recevoir_reserves", "Enregistrer les réserves de l'employeur"
    OUVRIR_ENQUETE = "ouvrir_enquete", "Ouvrir une enquête"
    ENVOYER_QUESTIONNAIRES = "envoyer_questionnaires", "Envoyer les questionnaires"
    RECEVOIR_QUESTIONNAIRE = "recevoir_questionnaire", "Enregistrer le retour d'un questionnaire"
    OUVRIR_CONSULTATION = "ouvrir_consultation", "Mettre le dossier à disposition"
    SAISIR_CRRMP = "saisir_crrmp", "Saisir le CRRMP"
    RECONNAITRE = "reconnaitre", "Reconnaître le caractère professionnel"
    REFUSER = "refuser", "Refuser le caractère professionnel"
    RECONNAITRE_IMPLICITEMENT = "reconnaitre_implicitement", "Constater la reconnaissance implicite"


class Recipient(models.TextChoices):
    EMPLOYEUR = "employeur", "Employeur"
    VICTIME = "victime", "Victime"
