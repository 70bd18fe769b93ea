"""Name and street lists for synthetic identities (common French names, Paris streets)."""

# ruff: noqa: SIM905

from __future__ import annotations

import numpy as np
import polars as pl

NOMS = (
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel Lefebvre "
    "Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Vincent "
    "Muller Lefevre Faure Andre Mercier Blanc Guerin Boyer Garnier Chevalier Francois Legrand Gauthier "
    "Garcia Perrin Robin Clement Morin Nicolas Henry Roussel Mathieu Gautier Masson Marchand Duval "
    "Denis Dumont Marie Lemaire Noel Meyer Dufour Meunier Brun Blanchard Giraud Joly Riviere Lucas "
    "Brunet Gaillard Barbier Arnaud Martinez Gerard Roche Renard Schmitt Roy Leroux Colin Vidal Caron "
    "Picard Roger Fabre Aubert Lemoine Renaud Dumas Lacroix Olivier Philippe Bourgeois Pierre Benoit "
    "Rey Leclerc Payet Rolland Leclercq Guillaume Lecomte Lopez Jean Dupuy Guillot Hubert Berger "
    "Carpentier Sanchez Dupuis Moulin Louis Deschamps Huet Vasseur Perez Boucher Fleury Royer Klein "
    "Jacquet Adam Paris Poirier Marty Aubry Guyot Carre Charles Renault Charpentier Menard Maillard "
    "Baron Bertin Bailly Herve Schneider Fernandez Le_Gall Collet Leger Bouvier Julien Prevost Millet "
    "Perrot Daniel Le_Roux Cousin Germain Breton Besson Langlois Remy Le_Goff Pelletier Leveque "
    "Perrier Leblanc Barre Lebrun Marchal Weber Mallet Hamon Boulanger Jacob Monnier Michaud Rodriguez "
    "Guichard Gillet Etienne Grondin Poulain Tessier Chevallier Collin Chauvin Da_Silva Bouchet Gay "
    "Lemaitre Benard Marechal Humbert Reynaud Antoine Hoarau Perret Barthelemy Cordier Pichon Lejeune "
    "Gilbert Lamy Delaunay Pasquier Carlier Laporte Nguyen Diallo Traore Haddad Benali Mendes Ferreira "
    "Cohen Levy Kone Diop Ndiaye Chen Wang Zhang Tran Pham Mansouri Bouzid Belkacem Moussa Camara"
).split()
NOMS = [nom.replace("_", " ") for nom in NOMS]

PRENOMS_F = (
    "Marie Camille Léa Manon Chloé Emma Inès Sarah Louise Jade Alice Lina Anna Julie Laura Clara "
    "Pauline Mathilde Lucie Charlotte Juliette Zoé Léna Eva Nathalie Isabelle Sylvie Catherine "
    "Françoise Christine Sandrine Valérie Céline Sophie Aurélie Stéphanie Émilie Claire Anne Hélène "
    "Monique Jacqueline Nicole Martine Danielle Josiane Yvette Simone Fatima Aïcha Mariam Yasmine "
    "Amina Fatoumata Mei Lin Rose Agathe Margaux Ambre Romane Mila Adèle Victoire Garance Salomé"
).split()

PRENOMS_M = (
    "Jean Pierre Michel Philippe Alain Nicolas Christophe Patrick Daniel Bernard Éric Thierry "
    "Laurent Stéphane Julien Sébastien David Olivier Frédéric Antoine Thomas Alexandre Maxime "
    "Lucas Hugo Louis Gabriel Arthur Jules Raphaël Adam Léo Paul Nathan Ethan Noah Tom Théo "
    "Mohamed Karim Youssef Mamadou Moussa Ibrahim Rayan Wei Minh André Jacques Claude Henri "
    "Georges Marcel Roger René Victor Baptiste Clément Romain Mathis Sacha Malo Aaron Gaspard"
).split()

VOIES = (
    "rue de Rivoli|rue de la Roquette|boulevard Voltaire|rue de Vaugirard|rue du Faubourg Saint-Antoine|"
    "avenue de Clichy|rue de Charonne|boulevard de Belleville|rue Saint-Maur|avenue d'Italie|"
    "rue de Tolbiac|rue des Pyrénées|avenue de Flandre|rue Ordener|rue Lecourbe|rue de la Convention|"
    "boulevard Saint-Michel|rue Oberkampf|rue du Commerce|avenue Jean Jaurès|rue de Belleville|"
    "rue Marcadet|rue de Ménilmontant|avenue du Maine|rue d'Alésia|rue de Crimée|rue Championnet|"
    "boulevard de Magenta|rue La Fayette|rue de Turbigo|rue Réaumur|rue de Lévis|avenue Mozart|"
    "rue de Passy|boulevard Malesherbes|rue Caulaincourt|rue des Martyrs|rue Mouffetard|"
    "rue Saint-Jacques|rue de Bagnolet|avenue Daumesnil|rue de Charenton|boulevard Diderot|"
    "rue de Picpus|avenue de Choisy|rue de la Glacière|rue Didot|rue de Grenelle|rue Cler|"
    "avenue de Saint-Ouen|rue Damrémont|rue du Poteau|rue Condorcet|rue Rubens|rue Amelot"
).split("|")

#: INSEE country codes (3 digits after 99) of frequent countries of birth (Paris).
PAYS = [350, 352, 351, 139, 134, 127, 216, 109, 132, 404, 223, 341, 335, 328, 243, 319, 255, 346, 336, 324]
#: Overseas départements (3 digits) used in NIRs: 971 Guadeloupe, 972 Martinique, 973 Guyane,
#: 974 La Réunion, 976 Mayotte.
OUTRE_MER = [971, 972, 973, 974, 976]


def pick(rng: np.random.Generator, values: list[str], n: int) -> pl.Series:
    """``n`` values drawn uniformly from ``values``."""
    return pl.Series(values)[pl.Series(rng.integers(0, len(values), n))]
