"""Random anatomy: ellipse phantoms, procedural and layered heads, vessel trees, lesion insertion.

Every generator takes an explicit ``numpy.random.Generator``; the same seed
gives the same phantom.
"""

from medaug.phantoms.generators.ellipses import random_ellipses
from medaug.phantoms.generators.head import (
    HEAD_LABELS,
    HeadParameters,
    ProceduralHead,
    procedural_head,
)
from medaug.phantoms.generators.layered_head import layered_head
from medaug.phantoms.generators.lesions import insert_lesion
from medaug.phantoms.generators.vessels import vessel_tree

__all__ = [
    "HEAD_LABELS",
    "HeadParameters",
    "ProceduralHead",
    "insert_lesion",
    "layered_head",
    "procedural_head",
    "random_ellipses",
    "vessel_tree",
]
