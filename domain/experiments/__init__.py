"""Experiments on offers: the statistics of their evaluation and the guards that pause them (pure)."""
