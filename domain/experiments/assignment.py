"""Which arm a member is in: deterministic, so every process and every call agrees without a read,
and stable for the experiment's life (the inputs never change while it runs).

bucket = the first 8 bytes of sha256("offer:<offer id>:experiment:<experiment id>:member:<member id>"),
as an unsigned big-endian integer, mod 10,000. Buckets below `holdout_bp` are the holdout; the rest,
[holdout_bp, 10,000), are cut into consecutive ranges in proportion to the variants' weights, in
their order. sha256's output is uniform, and 2^64 mod 10,000 leaves a bias below 10^-15.
"""

from __future__ import annotations

import hashlib

from domain.experiments.model import HOLDOUT, SHARES, Experiment


def bucket(offer_id: int, experiment_id: int, member_id: int) -> int:
    """The member's bucket in 0..9,999 for this experiment."""
    seed = f"offer:{offer_id}:experiment:{experiment_id}:member:{member_id}".encode()
    return int.from_bytes(hashlib.sha256(seed).digest()[:8], "big") % SHARES


def arm_of(offer_id: int, experiment: Experiment, member_id: int) -> str:
    """The arm's key (HOLDOUT for the holdout)."""
    position = bucket(offer_id, experiment.id, member_id)
    if position < experiment.holdout_bp:
        return HOLDOUT
    # The position in the variants' range, scaled to the weights' total, is below `reached` exactly when
    # offset < reached * span: compared in integers, without a division.
    total = sum(v.weight for v in experiment.variants)
    offset = (position - experiment.holdout_bp) * total
    span = SHARES - experiment.holdout_bp
    reached = 0
    for variant in experiment.variants[:-1]:
        reached += variant.weight
        if offset < reached * span:
            return variant.key
    return experiment.variants[-1].key  # the rest: offset < total * span
