"""The synthetic population generator (``risk synth``)."""

from risk._profiles import PROFILES, District, Profile, get_profile
from risk._synth import SynthConfig, Truth, World, as_of_dates, generate, write_population

__all__ = [
    "PROFILES",
    "District",
    "Profile",
    "get_profile",
    "SynthConfig",
    "Truth",
    "World",
    "as_of_dates",
    "generate",
    "write_population",
]
