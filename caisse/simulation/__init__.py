"""Synthetic caisse generator (``caisse simuler``, contract §5); see ``docs/simulation.md``."""
