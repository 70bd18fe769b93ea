"""AT/MP (accidents du travail, maladies professionnelles): pure deadline computation."""
