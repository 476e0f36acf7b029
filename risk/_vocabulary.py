"""The vocabulary a model knows, and the one a region pack gives.

A model trained on records of a region's vocabulary (new record types of its agencies, in the
pack's ``vocabulary.toml``) keeps those types in its ``model.json`` metadata under
``"vocabulary"``: name, source, unit, member role, domain and descriptions. Scoring, the
explanations and the MLflow model then work from the model alone, and records scored by it must
come with a vocabulary that holds every type the model knows.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from features import EventType, FeatureSpec, InputError, Vocabulary, feature_specs

if TYPE_CHECKING:
    from risk._model import RiskModel
    from risk.regions import RegionPack

#: Key of the model metadata that holds the model's own event types.
METADATA_KEY = "vocabulary"

_FIELDS = ("name", "source", "unit", "member_role", "domain", "description_ru", "description_en")


class VocabularyMismatch(InputError):
    """Records come with a vocabulary that lacks event types the model was trained on."""


def region_vocabulary(pack: RegionPack | str | os.PathLike[str] | None = None) -> Vocabulary:
    """Return the vocabulary of a region pack: the built-in types plus its ``vocabulary.toml``.

    Parameters
    ----------
    pack : RegionPack, str, path-like or None
        A loaded pack, a pack folder or the name of a shipped pack; ``None``: the built-in
        vocabulary.

    Examples
    --------
    >>> region_vocabulary("novgorod") == Vocabulary.builtin()
    True
    >>> [e.name for e in region_vocabulary("chelyabinsk").extra]
    ['mfc_visit', 'utility_disconnection_notice']
    """
    from features import load_vocabulary
    from risk.regions import RegionPack, load_region

    if pack is None:
        return Vocabulary.builtin()
    loaded = pack if isinstance(pack, RegionPack) else load_region(pack)
    if loaded.vocabulary_path is None:
        return Vocabulary.builtin()
    return load_vocabulary(loaded.vocabulary_path)


def vocabulary_metadata(vocabulary: Vocabulary) -> list[dict[str, str]]:
    """Describe a vocabulary's own types for a model's metadata (JSON-serialisable).

    Examples
    --------
    >>> vocab = region_vocabulary("chelyabinsk")
    >>> vocabulary_metadata(vocab)[0]["name"], vocabulary_metadata(Vocabulary.builtin())
    ('mfc_visit', [])
    >>> from_metadata({"vocabulary": vocabulary_metadata(vocab)}).names == vocab.names
    True
    """
    return [
        {
            "name": e.name,
            "source": e.source,
            "unit": e.unit,
            "member_role": e.member_role or "",
            "domain": e.domain or "",
            "description_ru": e.description_ru,
            "description_en": e.description_en,
        }
        for e in vocabulary.extra
    ]


def from_metadata(metadata: Mapping[str, Any]) -> Vocabulary:
    """Return the vocabulary recorded in a model's metadata (the built-in one when none is).

    Raises
    ------
    InputError
        The metadata's ``vocabulary`` is not a list of complete event type descriptions.
    """
    entries = metadata.get(METADATA_KEY) or []
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise InputError(f"model metadata {METADATA_KEY!r} must be a list; got {entries!r}")
    types = []
    for i, entry in enumerate(entries, start=1):
        missing = [k for k in _FIELDS if not isinstance(entry, Mapping) or k not in entry]
        if missing:
            raise InputError(
                f"model metadata {METADATA_KEY!r} entry {i} lacks {', '.join(missing)}"
            )
        role = str(entry["member_role"])
        types.append(
            EventType(
                name=str(entry["name"]),
                source=str(entry["source"]),
                unit=cast(Literal["count", "days", "roubles"], entry["unit"]),
                member_role=cast(Literal["child", "parent"], role) if role else None,
                description_ru=str(entry["description_ru"]),
                description_en=str(entry["description_en"]),
                domain=str(entry["domain"]),
            )
        )
    return Vocabulary(tuple(types))


def model_vocabulary(model: RiskModel) -> Vocabulary:
    """Return the vocabulary a model was trained with (from its metadata)."""
    return from_metadata(model.metadata)


def model_specs(model: RiskModel) -> Mapping[str, FeatureSpec]:
    """Return the feature registry of the model's vocabulary (descriptions, units, domains)."""
    return feature_specs(model_vocabulary(model))


def check_covers(vocabulary: Vocabulary, model: RiskModel) -> Vocabulary:
    """Check that records of ``vocabulary`` can be scored by ``model``; return the vocabulary.

    Raises
    ------
    VocabularyMismatch
        The model knows event types ``vocabulary`` lacks (named), e.g. records loaded without
        the region's ``--region`` pack for a model trained with it.
    """
    known = set(vocabulary.names)
    missing = [e.name for e in model_vocabulary(model).extra if e.name not in known]
    if missing:
        raise VocabularyMismatch(
            f"model {model.name} version {model.version} was trained with record type(s) "
            f"{', '.join(missing)} that the records' vocabulary lacks; load the records with "
            "the region's vocabulary (--region PACK)"
        )
    return vocabulary
