"""Claims liquidation (liquidation des feuilles de soins): a pure calculation core, no Django."""
