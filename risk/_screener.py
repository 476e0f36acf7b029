"""The screener: a checked model that screens a population as of a date.

``Screener.screen`` builds the features of the screening population as of a date and returns a
:class:`risk.Screening` (``risk/_screening.py``), which scores, ranks and flags every family.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from features import Records, Vocabulary, build_features
from risk._errors import ScreeningError
from risk._flags import CapacityLike, resolve_capacity
from risk._loading import check_model, load_model
from risk._model import Capacity, RiskModel
from risk._screening import Screening
from risk._services import ServiceCatalog
from risk._vocabulary import check_covers, model_vocabulary

if TYPE_CHECKING:
    from risk.regions import RegionPack
    from risk.review import ReviewQueue


class Screener:
    """Screen a population with a calibrated model: advisory scores, flags, explanations.

    Parameters
    ----------
    model : RiskModel
        The calibrated model; its features are checked against the installed registry.
    catalog : ServiceCatalog, optional
        The services catalog used for matching (default: the region pack's).
    capacity : Capacity, mapping of district to int, or int, optional
        Outreach capacity per district for one screening period (default: the region pack's
        when a region is given, else the model definition's).
    region : RegionPack, optional
        The region screened: records whose families live in districts it lacks are refused
        (:func:`risk.regions.check_districts`); it gives the default catalog and capacity.
        Default: the default pack (:data:`risk.regions.DEFAULT_REGION`) when no catalog is
        given; with a catalog and no region, districts are checked against the catalog's.

    Examples
    --------
    >>> import lightgbm as lgb, numpy as np, pandas as pd
    >>> from features import Records
    >>> from risk.review import SCORE_COLUMNS
    >>> X = np.array([[1.0], [2.0], [3.0], [4.0]] * 10)
    >>> booster = lgb.train({"objective": "binary", "verbose": -1, "min_data_in_leaf": 1},
    ...                     lgb.Dataset(X, (X[:, 0] > 2).astype(float)), num_boost_round=2)
    >>> screener = Screener(RiskModel(booster, ("n_children",)))
    >>> screening = screener.screen(Records.empty(), "2024-01-01")
    >>> list(screening.scores.columns) == list(SCORE_COLUMNS), len(screening.scores)
    (True, 0)
    """

    def __init__(
        self,
        model: RiskModel,
        *,
        catalog: ServiceCatalog | None = None,
        capacity: CapacityLike | None = None,
        region: RegionPack | None = None,
    ) -> None:
        check_model(model)
        self.model = model
        self.region = region
        self._catalog = catalog
        if capacity is None and region is not None:
            capacity = region.capacity
        self._capacity = capacity

    def __repr__(self) -> str:
        return f"Screener(model={self.model.name!r}, version={self.model.version!r})"

    @property
    def catalog(self) -> ServiceCatalog:
        """The services catalog (the region pack's unless another was given)."""
        if self._catalog is None:
            if self.region is None:
                from risk.regions import load_region

                self.region = load_region()
            self._catalog = ServiceCatalog.from_region(self.region)
        return self._catalog

    @property
    def capacity(self) -> Capacity:
        """The capacity screenings use by default: the one given, the region's, or the model's."""
        return resolve_capacity(self._capacity, self.model.capacity)

    @property
    def capacity_source(self) -> str:
        """Where :attr:`capacity` comes from, in words (``risk score`` prints it)."""
        if self._capacity is None:
            return f"model {self.model.name!r} definition (no region capacity given)"
        if self.region is not None and self._capacity is self.region.capacity:
            return f"region pack {self.region.code!r}"
        return "given by the caller"

    @classmethod
    def load(
        cls,
        uri: str | os.PathLike[str],
        *,
        catalog: ServiceCatalog | None = None,
        capacity: CapacityLike | None = None,
        region: RegionPack | None = None,
    ) -> Screener:
        """Load a model from the MLflow registry, an MLflow run or a local directory.

        Parameters
        ----------
        uri : str or path-like
            ``models:/NAME@ALIAS`` (e.g. ``models:/family-distress@champion``),
            ``models:/NAME/VERSION``, ``runs:/RUN_ID/PATH``, or a local directory holding
            ``model.json`` directly or an MLflow model with ``artifacts/risk_model/model.json``.
        catalog, capacity, region : optional
            As for :class:`Screener`.

        Raises
        ------
        ModelError
            Naming the URI: no such directory, no model in it, an unknown registered model,
            alias or version (with what exists), or features that differ from the installed
            registry (with the names).

        Examples
        --------
        >>> Screener.load("/nonexistent/model")
        Traceback (most recent call last):
        ...
        risk._model.ModelError: /nonexistent/model: no such model directory
        """
        return cls(load_model(uri), catalog=catalog, capacity=capacity, region=region)

    def screen(
        self,
        records: Records,
        as_of: object,
        *,
        capacity: CapacityLike | None = None,
        exclude_events: Iterable[str] = (),
        disputed_from: ReviewQueue | None = None,
        vocabulary: Vocabulary | None = None,
    ) -> Screening:
        """Score every family of the screening population at ``as_of`` and flag the top ones.

        Parameters
        ----------
        records : Records
            Validated records (``features.load_records`` validates).
        as_of : date-like
            The screening date, at the latest the day after the records' extraction date; only
            records dated before it are read.
        capacity : Capacity, mapping of district to int, or int, optional
            Outreach capacity per district for the period. ``None``: the screener's
            (:attr:`capacity`). An int: the same in every district. A mapping: those districts,
            others from the screener's.
        exclude_events : iterable of str
            ``event_id`` of records to leave out (disputed records).
        disputed_from : ReviewQueue, optional
            Also leave out every record disputed in this review queue.
        vocabulary : Vocabulary, optional
            The vocabulary the records were loaded with (default: the model's own,
            :func:`risk.model_vocabulary`); it must hold every event type the model knows.

        Returns
        -------
        Screening

        Raises
        ------
        ScreeningError
            ``as_of`` is not a date, or is later than the day after the records' extraction
            date.
        risk.regions.RegionError
            Families live in districts the region lacks (each named, with its number of
            families).
        VocabularyMismatch
            ``vocabulary`` lacks event types the model was trained with (named).
        """
        vocab = check_covers(vocabulary or model_vocabulary(self.model), self.model)
        if isinstance(exclude_events, str):
            raise ScreeningError(
                f"exclude_events must be a collection of event ids, not the string "
                f"{exclude_events!r}"
            )
        excluded = {str(e) for e in exclude_events}
        if disputed_from is not None:
            excluded |= {str(e) for e in disputed_from.disputed_event_ids()}
        cap = resolve_capacity(capacity, self.capacity)
        try:
            t = pd.Timestamp(as_of).normalize()  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise ScreeningError(f"as_of must be a date; got {as_of!r} ({exc})") from None
        if t is pd.NaT:
            raise ScreeningError(f"as_of must be a date; got {as_of!r}")
        extracted = pd.Timestamp(records.extraction_date).normalize()
        # The day after the extraction still reads only extracted records (those dated before
        # it); any later date would screen days of which nothing was extracted.
        if t > extracted + pd.Timedelta(days=1):
            raise ScreeningError(
                f"as_of {t.date()} is after the records' extraction date {extracted.date()}: "
                f"nothing recorded after the extraction can be screened (the latest as-of date "
                f"is {(extracted + pd.Timedelta(days=1)).date()})"
            )
        self._check_districts(records)
        X = build_features(
            records,
            t,
            exclude_events=frozenset(excluded),
            lookback_days=self.model.lookback_days,
            vocabulary=vocab,
        )
        return Screening(
            records=records,
            features=X,
            as_of=t,
            model=self.model,
            capacity=cap,
            catalog=self.catalog,
            excluded_events=frozenset(excluded),
            vocabulary=vocab,
        )

    def _check_districts(self, records: Records) -> None:
        """Refuse families in districts the region (or, without one, the catalogue) lacks."""
        from risk.regions import RegionError, check_districts

        districts = records.families["district"].to_numpy(dtype=object)
        catalog = self.catalog  # resolves the default region when neither was given
        if self.region is not None:
            check_districts(self.region, districts)
            return
        counts = Counter(str(d) for d in districts if d not in catalog.district_codes)
        if counts:
            shown = ", ".join(
                f"{d!r} ({n} famil{'y' if n == 1 else 'ies'})"
                for d, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            )
            regions = ", ".join(catalog.districts or ())
            raise RegionError(
                f"records name {len(counts)} district{'s' * (len(counts) != 1)} the services "
                f"catalogue's regions ({regions}) lack: {shown}"
            )
