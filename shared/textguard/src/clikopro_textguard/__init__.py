"""Contact-detail detector for French free text (R19): pure functions, no I/O.

    >>> result = scan("Appelez-moi au 06 12 34 56 78")
    >>> result.masked, [f.kind for f in result.findings]

Every service that stores user-written free text calls :func:`scan` *before* storing it and
stores ``result.masked``; its events carry ``result.kinds`` as ``masked_contacts``. What
happens to the author (strikes, sanctions) is trust-safety's policy, not this package's.
"""

from clikopro_textguard.detector import KINDS, MASK, Finding, Scan, scan

__all__ = ["KINDS", "MASK", "Finding", "Scan", "scan"]
