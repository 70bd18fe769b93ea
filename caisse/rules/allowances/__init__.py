"""Cash benefits (prestations en espèces): IJ maladie, maternité, paternité, AT/MP, capital décès
and AT/MP permanent incapacity. Pure functions, no Django.

Public API::

    compute_ij(arrets: pl.DataFrame, params: Parameters | None = None) -> pl.DataFrame
    compute_arret(record: dict, params: Parameters | None = None) -> dict
"""

from caisse.rules.allowances.engine import OUTPUT_COLUMNS, compute_arret, compute_ij

__all__ = ["OUTPUT_COLUMNS", "compute_arret", "compute_ij"]
