"""The demo county (青山县): realistic, deterministic data drawn from the seed documents.

Core knows no area: each area registers its demo loader (``core.areas.demo_loader``) and
``load_demo_county`` runs them in their order, each as one unit of work, with one shared random
generator so that the county is the same on every machine.
"""
from __future__ import annotations

import random

from .areas import DemoContext, demo_loaders
from .transaction import transaction

DEMO_PASSWORD = "demo-2026"  # noqa: S105  (published demo password)
DEMO_DEPUTY_ACCOUNTS = 200


def load_demo_county(seed: int = 2026) -> None:
    """Run every registered demo loader into an empty, migrated database."""
    ctx = DemoContext(seed=seed, rng=random.Random(seed))
    for loader in demo_loaders():
        with transaction():
            loader(ctx)
