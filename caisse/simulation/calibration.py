"""Every figure the simulator uses, with where it comes from.

The sources are the public activity reports in ``shared/seeds/`` (CPAM de Paris 2019 and 2021,
CPAM de Seine-Saint-Denis 2020, CPAM du Hainaut 2022); ``docs/simulation.md`` quotes the
sentence each figure comes from. Figures marked *hypothèse* are not in the reports: they are
common orders of magnitude chosen by us and documented as such.
"""

from __future__ import annotations

# --- Population -----------------------------------------------------------------------------

#: Paris protected population, derived from "Recouvrement : 20 024 420 € ... soit 9,67 € par
#: bénéficiaire" (Paris 2021): 20 024 420 / 9,67.
PARIS_BENEFICIAIRES = 2_070_778

#: Target age pyramid of Paris (hypothèse, INSEE RP order of magnitude; the 2019 report only
#: says "À Paris, la population est relativement jeune" and shows the chart as an image).
#: Bands of 5 years from 0 to 95+, weights in percent.
PYRAMIDE_PARIS = [
    5.0,
    4.6,
    4.3,
    4.4,
    6.6,
    9.0,
    8.7,
    7.6,
    7.0,
    6.7,
    6.2,
    6.0,
    5.6,
    5.1,
    4.6,
    3.8,
    2.6,
    2.0,
    1.3,
    0.6,
]

#: Household mix (hypothèse, Paris: about one household in two is a single person).
MENAGES = {"seul": 0.52, "couple": 0.22, "couple_enfants": 0.12, "monoparental": 0.07, "autre": 0.07}
#: Extra weight of ages 60+ among adults living without children, so that the whole population
#: follows the pyramid (parents are drawn younger) (hypothèse, tuned).
SURPOIDS_SENIORS_SANS_ENFANT = 1.6
#: Number of children of households with children: 1, 2, 3, 4 (hypothèse).
ENFANTS_PAR_FAMILLE = [0.47, 0.37, 0.12, 0.04]
#: Mother's age at birth: mean and standard deviation (hypothèse, Paris ~ 32 years).
AGE_MERE_NAISSANCE = (32.0, 4.5)

#: Place of birth of adults / children (hypothèse): Paris, other metropolitan département,
#: overseas (97x), abroad (99).
NAISSANCE_ADULTES = {"paris": 0.30, "metropole": 0.45, "outre_mer": 0.03, "etranger": 0.22}
NAISSANCE_ENFANTS = {"paris": 0.70, "metropole": 0.22, "outre_mer": 0.01, "etranger": 0.07}
#: Share of Corsican births (2A/2B) among other-département births (hypothèse).
PART_CORSE = 0.01
#: Share of provisional numbers (NIA, sex digit 7/8) among people born abroad (hypothèse).
PART_NIA_ETRANGER = 0.04

# --- Rights ---------------------------------------------------------------------------------

#: C2S without participation: 158 597 beneficiaries at 31/12/2019 (Paris 2019) / population.
PART_C2S_GRATUITE = 158_597 / PARIS_BENEFICIAIRES
#: C2S with participation: 4 433 C2S + 42 072 ACS moving to it at 31/12/2019 (Paris 2019).
PART_C2S_PARTICIPATION = (4_433 + 42_072) / PARIS_BENEFICIAIRES
#: AME: 49 085 beneficiaries at 31/12/2019 (Paris 2019).
PART_AME = 49_085 / PARIS_BENEFICIAIRES
#: ALD prevalence by age band (0-19, 20-39, 40-59, 60-74, 75+) (hypothèse, national order of
#: magnitude: about 18-20 % of the insured are in ALD).
ALD_PAR_AGE = [0.035, 0.075, 0.20, 0.40, 0.62]
#: Invalidity pension among 20-61 year-olds (hypothèse).
PART_INVALIDITE = 0.03
#: People who leave the caisse during the year / arrive during the year (hypothèse).
PART_DEPARTS = 0.04
PART_ARRIVEES = 0.04
#: Médecin traitant declared: 16 and over / under 16 (hypothèse).
PART_MT_ADULTES = 0.88
PART_MT_ENFANTS = 0.50
#: Yearly médecin traitant declarations: 191 108 online = 80,94 % (Paris 2021).
TAUX_DECLARATIONS_MT = (191_108 / 0.8094) / PARIS_BENEFICIAIRES
#: Carte Vitale orders: 123 156 via ameli (Paris 2021); half of them assumed to follow a loss or
#: theft, the old card being put in opposition (hypothèse on the half).
TAUX_OPPOSITION_CV = 0.5 * 123_156 / PARIS_BENEFICIAIRES
#: Adults with no bank account on file (hypothèse).
PART_SANS_IBAN = 0.02
#: Yearly death probability: Gompertz ``a * exp(b * age)`` (hypothèse, French life tables order).
MORTALITE_GOMPERTZ = (0.000035, 0.088)

#: Employment rate by age band 18-24, 25-54, 55-61, 62-66 (hypothèse, Paris).
EMPLOI_PAR_AGE = [0.45, 0.82, 0.66, 0.20]
#: Gross monthly salary: lognormal median and sigma in euros (hypothèse, Paris private sector).
SALAIRE_MEDIAN_EUR = 2_900.0
SALAIRE_SIGMA = 0.55
#: Hours worked in the 3 months before an arrêt, as in the worked examples: full time 455 h,
#: part time 300 h and 160 h, short contracts 60 h (not eligible) (hypothèse on the shares).
HEURES_3_MOIS = {455: 0.80, 300: 0.10, 160: 0.08, 60: 0.02}
#: Salaried people per employer (hypothèse: Paris has many small firms).
SALARIES_PAR_EMPLOYEUR = 12.0

# --- Care (feuilles de soins) ---------------------------------------------------------------

#: Feuilles per beneficiary per year: (50 091 842 FSE + 2 955 102 FSP) / population (Paris 2021).
FEUILLES_FSE = 50_091_842
FEUILLES_FSP = 2_955_102
FEUILLES_PAR_BENEFICIAIRE = (FEUILLES_FSE + FEUILLES_FSP) / PARIS_BENEFICIAIRES
PART_FSP = FEUILLES_FSP / (FEUILLES_FSE + FEUILLES_FSP)
#: Tiers payant: 29 307 240 décomptes paid to professionals = 74,96 % (Paris 2019).
PART_TIERS_PAYANT = 0.7496
#: Monthly décomptes (assurés + professionnels), Paris 2019: seasonality of care.
DECOMPTES_PAR_MOIS = [
    830_419 + 2_475_845,
    871_644 + 2_382_351,
    833_622 + 2_417_901,
    869_728 + 2_575_848,
    828_635 + 2_366_867,
    774_546 + 2_360_231,
    882_119 + 2_629_933,
    499_382 + 1_811_256,
    823_568 + 2_332_875,
    908_416 + 2_836_311,
    804_865 + 2_504_023,
    860_650 + 2_613_799,
]
#: Relative yearly consumption by age band 0-4, 5-14, 15-24, 25-39, 40-54, 55-64, 65-74,
#: 75-84, 85+ (hypothèse), and of people in ALD (hypothèse). Normalised to the Paris mean.
CONSO_PAR_AGE = [1.3, 0.6, 0.55, 0.7, 0.9, 1.2, 1.6, 2.1, 2.4]
CONSO_AGE_BORNES = [5, 15, 25, 40, 55, 65, 75, 85]
CONSO_ALD = 2.5
#: Dispersion of the yearly number of feuilles (gamma-Poisson shape, hypothèse).
CONSO_DISPERSION = 0.8

#: Mix of feuilles by kind of care: Paris 2019 spending ("Les chiffres clés des dépenses de
#: santé", soins de ville) divided by an assumed mean amount per feuille (hypothèse), in
#: millions of euros / euros: the resulting ~49,7 M feuilles match the 53 M of 2021.
DEPENSES_PARIS_2019 = {
    # kind: (spending in euros (seed), assumed mean amount per feuille in euros)
    "pharmacie": (844_894_951, 45.0),
    "generaliste": (164_033_696, 27.0),
    "specialiste": (356_742_509, 45.0),
    "dentiste": (93_323_600, 70.0),
    "sage_femme": (9_780_823, 35.0),
    "infirmier": (129_216_028, 40.0),
    "kine": (117_939_468, 45.0),
    "orthophonie": (26_817_302, 35.0),
    "orthoptie": (3_357_069, 30.0),
    "podologie": (532_301, 30.0),
    "laboratoire": (114_995_351, 30.0),
    "transport": (86_656_827, 60.0),
    "lpp": (167_665_197, 50.0),
}
#: Split of LPP feuilles: dispositifs médicaux, optique, audioprothèse (hypothèse).
LPP_SPLIT = {"dm": 0.74, "optique": 0.20, "audio": 0.06}
#: Share of feuilles of hospital outpatient care billed by establishments (hypothèse).
PART_ETABLISSEMENT = 0.005

#: Tiers payant probability by kind of care when it is not mandatory (hypothèse, tuned so that
#: the overall share matches the 74,96 % of the seed).
TIERS_PAYANT_PAR_TYPE = {
    "pharmacie": 0.96,
    "laboratoire": 0.95,
    "transport": 0.95,
    "infirmier": 0.90,
    "kine": 0.55,
    "orthophonie": 0.55,
    "orthoptie": 0.50,
    "podologie": 0.30,
    "dm": 0.85,
    "optique": 0.85,
    "audio": 0.85,
    "dentiste": 0.40,
    "generaliste": 0.22,
    "specialiste": 0.18,
    "sage_femme": 0.55,
    "etablissement": 1.0,
}
#: Share of electronic feuilles read without carte Vitale (mode dégradé) (hypothèse).
PART_FSE_SANS_CARTE = 0.03
#: Care related to the ALD protocol among care of people in ALD (hypothèse).
PART_SOINS_EN_RAPPORT_ALD = 0.6
#: Extra maternity care per pregnancy (hypothèse: 7 prenatal visits, biology, ultrasounds).
FEUILLES_MATERNITE = 9
#: Extra care per AT/MP with arrêt (hypothèse).
FEUILLES_ATMP = 4

#: Reception delay in days after care: FSE (teletransmitted within 3-8 working days) and FSP
#: (sent by post): mean of a geometric law (hypothèse guided by the 2,97-day / 17,67-day
#: processing delays of the Paris 2019 report).
DELAI_RECEPTION_FSE = 2.5
DELAI_RECEPTION_FSP = 12.0

#: Deliberately bad records, per feuille (hypothèse: real flows carry a few per thousand).
ANOMALIES_FEUILLES = {
    "NIR_INVALIDE": 0.0005,
    "BENEFICIAIRE_INCONNU": 0.0004,
    "PS_INCONNU": 0.0003,
    "CODE_INCONNU": 0.0003,
    "DATE_FUTURE": 0.0002,
    "PRESCRIPTION": 0.0002,
    "DONNEE_INVALIDE": 0.0001,
    "DOUBLON": 0.001,
}
#: Bad records that only some feuilles can carry, drawn among them (rate per feuille, hypothèse):
#: a card read after its opposition, care after the death, care after the rights closed.
ANOMALIES_CIBLEES = {"CARTE_EN_OPPOSITION": 0.0002, "DECES": 0.0001, "DROITS_FERMES": 0.0001}

# --- Professionals (Paris at 1 January 2020, report 2019) ----------------------------------

PROFESSIONNELS_PARIS = {
    "generaliste_s1": 1_583,
    "generaliste_s2": 652,
    "specialiste_s1": 1_250,
    "specialiste_s2": 4_126,
    "medecin_s3": 7_955 - (1_583 + 652 + 1_250 + 4_126),
    "chirurgien_dentiste": 2_245,
    "sage_femme": 256,
    "auxiliaires": 6_587,
    "pharmacien": 914,
    "laboratoire": 164,
    "transporteur": 304,
    "etablissement": 442,
    "fournisseur_lpp": 300,  # hypothèse: not in the reports
}
#: Split of auxiliaries by installations in 2021 (496 kinés, 250 infirmiers, 94 orthophonistes
#: and orthoptistes, 41 pédicures; Paris 2021), orthophonistes / orthoptistes split by spending.
AUXILIAIRES = {
    "masseur_kinesitherapeute": 496 / 881,
    "infirmier": 250 / 881,
    "orthophoniste": 94 / 881 * 26_817_302 / (26_817_302 + 3_357_069),
    "orthoptiste": 94 / 881 * 3_357_069 / (26_817_302 + 3_357_069),
    "pedicure_podologue": 41 / 881,
}
#: OPTAM: 753 secteur 2 doctors signed out of 753 + 1 586 (Paris 2019).
PART_OPTAM_SECTEUR2 = 753 / (753 + 1_586)
#: Specialties of specialists (hypothèse) with their share of doctors.
SPECIALITES = {
    "psychiatrie": 0.14,
    "chirurgie": 0.10,
    "gynecologie": 0.08,
    "radiologie": 0.08,
    "ophtalmologie": 0.07,
    "cardiologie": 0.06,
    "anesthesiologie": 0.06,
    "dermatologie": 0.05,
    "pediatrie": 0.05,
    "gastro_enterologie": 0.04,
    "rhumatologie": 0.04,
    "oto_rhino_laryngologie": 0.04,
    "pneumologie": 0.03,
    "endocrinologie": 0.03,
    "neurologie": 0.03,
    "geriatrie": 0.01,
    "medecine_interne": 0.09,
}

# --- Cash benefits and AT/MP ----------------------------------------------------------------

#: Arrêts de travail: 234 489 online avis = 53,56 % (Paris 2021), per beneficiary.
TAUX_ARRETS = (234_489 / 0.5356) / PARIS_BENEFICIAIRES
#: Mean indemnified days per arrêt maladie: 5 695 402 IJ maladie (Paris 2019) / avis per year.
JOURS_PAR_ARRET = 5_695_402 / (234_489 / 0.5356)
#: Share of arrêts that prolong a previous one (hypothèse).
PART_PROLONGATION = 0.25
#: AT/MP per insured, CPAM 93 2019: 34 003 AT, 7 902 trajet, 3 032 MP, for 1 403 654 insured
#: (959 819 ameli accounts = 68,38 %, CPAM 93 2020).
ASSURES_93 = 959_819 / 0.6838
TAUX_AT = 34_003 / ASSURES_93
TAUX_TRAJET = 7_902 / ASSURES_93
TAUX_MP = 3_032 / ASSURES_93
#: Recognition rates 2019 (CPAM 93): AT 93 %, trajet 94 %, MP 69 %.
RECONNAISSANCE = {"accident_travail": 0.93, "accident_trajet": 0.94, "maladie_professionnelle": 0.69}
#: e-DAT share: 78,95 % of work accidents declared online (Paris 2021).
PART_EDAT = 0.7895
#: AT/MP with an arrêt (hypothèse) and their mean duration in days: 899 177 IJ AT (Paris 2019)
#: over the AT/MP with arrêt of a Paris-sized caisse.
PART_ATMP_AVEC_ARRET = 0.6
JOURS_PAR_ARRET_ATMP = 899_177 / (
    PART_ATMP_AVEC_ARRET * (TAUX_AT + TAUX_TRAJET + TAUX_MP) * PARIS_BENEFICIAIRES
)
#: Twins (hypothèse: 1,7 % of deliveries).
PART_JUMEAUX = 0.017

# --- Contacts and requests (Paris 2019, before the sanitary crisis) -------------------------

#: Calls from insured people: 695 801 received, 617 811 handled (Paris 2019, 2021 report).
TAUX_APPELS = 695_801 / PARIS_BENEFICIAIRES
PART_APPELS_TRAITES = 617_811 / 695_801
#: E-mails: 414 821 in 2019.
TAUX_COURRIELS = 414_821 / PARIS_BENEFICIAIRES
#: Agency visits: 731 284 in 2019; rendez-vous share 77 831 / 114 000 in 2021 is not used.
TAUX_VISITES = 731_284 / PARIS_BENEFICIAIRES
#: Contact reasons. Phone (CPAM 93 2020): délais de paiement 16,55 %, dossier 15,65 %,
#: téléservices 14,92 %, C2S 9,69 %, prestations en espèces 8,75 %, other.
MOTIFS_TELEPHONE = {
    "delais_paiement": 16.55,
    "dossier": 15.65,
    "teleservices": 14.92,
    "c2s": 9.69,
    "prestations_especes": 8.75,
    "autre": 34.44,
}
#: Agency (CPAM 93 2020): dossier 38,21 %, droits 15,55 %, C2S 11,49 %, délais 8,53 %,
#: téléservices 4,10 %, carte Vitale 2,66 %.
MOTIFS_ACCUEIL = {
    "dossier": 38.21,
    "droits": 15.55,
    "c2s": 11.49,
    "delais_paiement": 8.53,
    "teleservices": 4.10,
    "carte_vitale": 2.66,
    "autre": 19.46,
}
#: E-mail (CPAM 93 2020): revenus de substitution 19,74 %, prestations en nature 9,03 %,
#: coordonnées bancaires 5,46 %, renouvellement C2S 5,39 %.
MOTIFS_COURRIEL = {
    "prestations_especes": 19.74,
    "prestations_nature": 9.03,
    "coordonnees_bancaires": 5.46,
    "c2s": 5.39,
    "autre": 60.38,
}
#: Professionals' and employers' calls handled (Paris 2019): 104 039 and 86 157.
APPELS_PS = 104_039
APPELS_EMPLOYEURS = 86_157

#: C2S requests: 50 587 online requests (Paris 2021), taken as the total (lower bound).
TAUX_DEMANDES_C2S = 50_587 / PARIS_BENEFICIAIRES
#: Housing situation of requesters and RSA share (hypothèse).
LOGEMENT_C2S = {
    "locataire": 0.45,
    "locataire_aide_logement": 0.33,
    "heberge_gratuit": 0.14,
    "proprietaire": 0.08,
}
PART_RSA_C2S = 0.25
