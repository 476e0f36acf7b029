"""The synthetic population generator (``risk synth``)."""

from risk._synth import SynthConfig, Truth, as_of_dates, generate, write_population

__all__ = ["SynthConfig", "Truth", "as_of_dates", "generate", "write_population"]
