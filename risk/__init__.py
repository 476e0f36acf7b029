"""Family early-risk screening: advisory scores that order a human review queue."""

__all__: list[str] = []
