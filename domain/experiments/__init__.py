"""Experiments on offers and their evaluation: import from the submodules.

model       an offer's experiment: its holdout share and its variants (arms)
assignment  which arm a member is in: a hash of the experiment and the member, stable for its life
arms        the offer as a member's arm presents it; the experiment's checks
"""
