"""The names of the importers' option values, importable without numpy (the CLI lists them).

Not inside :mod:`brainalign.neural.importers`, whose package imports numpy, pandas and xarray.
"""

#: What an imported RDM's values are (:mod:`brainalign.neural.importers.rdm`): similarities
#: become dissimilarities ``1 - s``.
RDM_KINDS = ("similarity", "dissimilarity")

#: The order of image files that an array's stimulus rows follow
#: (:func:`brainalign.neural.importers.generic.order_ids`): by name, or digit runs by value.
IMAGE_ORDERS = ("lexicographic", "natural")
