"""Experiments on offers, their evaluation and the guards that pause them (pure): import from the
submodules.

  model         an offer's experiment: its holdout share and its variants (arms)
  assignment    which arm a member is in: a hash of the experiment and the member, stable for its life
  arms          the offer as a member's arm presents it; the experiment's checks
  statistics    Welch, the two-proportion z-test, the sample-ratio check, CUPED, mSPRT, ROI
  evaluation    an arm's figures against the holdout, from per-member samples
"""
