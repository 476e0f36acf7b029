"""The screener: a checked model that screens a population as of a date.

``Screener.screen`` builds the features of the screening population as of a date and returns a
:class:`risk.Screening` (``risk/_screening.py``), which scores, ranks and flags every family.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from features import Records, Vocabulary, build_features
from risk._errors import ScreeningError
from risk._flags import CapacityLike, resolve_capacity
from risk._loading import check_model, load_model
from risk._model import RiskModel
from risk._screening import Screening
from risk._services import ServiceCatalog, load_catalog
from risk._vocabulary import check_covers, model_vocabulary

if TYPE_CHECKING:
    from risk.review import ReviewQueue


class Screener:
    """Screen a population with a calibrated model: advisory scores, flags, explanations.

    Parameters
    ----------
    model : RiskModel
        The calibrated model; its features are checked against the installed registry.
    catalog : ServiceCatalog, optional
        The services catalog used for matching (default: the packaged one).

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

    def __init__(self, model: RiskModel, *, catalog: ServiceCatalog | None = None) -> None:
        check_model(model)
        self.model = model
        self._catalog = catalog

    def __repr__(self) -> str:
        return f"Screener(model={self.model.name!r}, version={self.model.version!r})"

    @property
    def catalog(self) -> ServiceCatalog:
        """The services catalog (the packaged one unless another was given)."""
        if self._catalog is None:
            self._catalog = load_catalog()
        return self._catalog

    @classmethod
    def load(
        cls, uri: str | os.PathLike[str], *, catalog: ServiceCatalog | None = None
    ) -> Screener:
        """Load a model from the MLflow registry, an MLflow run or a local directory.

        Parameters
        ----------
        uri : str or path-like
            ``models:/NAME@ALIAS`` (e.g. ``models:/family-distress@champion``),
            ``models:/NAME/VERSION``, ``runs:/RUN_ID/PATH``, or a local directory holding
            ``model.json`` directly or an MLflow model with ``artifacts/risk_model/model.json``.
        catalog : ServiceCatalog, optional
            The services catalog (default: the packaged one).

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
        return cls(load_model(uri), catalog=catalog)

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
            The screening date; only records dated before it are read.
        capacity : Capacity, mapping of district to int, or int, optional
            Outreach capacity per district for the period. ``None``: the model's. An int: the
            same in every district. A mapping: those districts, others from the model.
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
        cap = resolve_capacity(capacity, self.model.capacity)
        try:
            t = pd.Timestamp(as_of).normalize()  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise ScreeningError(f"as_of must be a date; got {as_of!r} ({exc})") from None
        if t is pd.NaT:
            raise ScreeningError(f"as_of must be a date; got {as_of!r}")
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
