"""Training in torch: models built from layouts, data sets, the training loop, training-free peers.

torch is imported by the modules here, never by this package's ``__init__``.
"""
