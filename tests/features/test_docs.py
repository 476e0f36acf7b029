from __future__ import annotations

from features import (
    EVENT_TYPES,
    FEATURES,
    OUTCOME_TYPES,
    TABLES,
    render_features_markdown,
    render_records_markdown,
)
from tests.paths import DOCS


def test_committed_docs_are_the_rendered_text() -> None:
    # If this fails, run `risk docs --out docs` and commit the result.
    assert (DOCS / "records.md").read_text(encoding="utf-8") == render_records_markdown()
    assert (DOCS / "features.md").read_text(encoding="utf-8") == render_features_markdown()


def test_records_doc_names_every_table_column_type_and_outcome() -> None:
    text = render_records_markdown()
    for name, table in TABLES.items():
        assert f"## `{name}`" in text
        assert all(f"| `{c.name}` |" in text for c in table.columns)
    for et in EVENT_TYPES.values():
        assert f"| `{et.name}` |" in text
        assert et.description_ru in text and et.description_en in text
    assert all(f"`{o}`" in text for o in OUTCOME_TYPES)


def test_features_doc_lists_every_feature_once() -> None:
    text = render_features_markdown()
    for spec in FEATURES.values():
        assert text.count(f"| `{spec.name}` |") == 1
        assert spec.description_ru in text and spec.description_en in text
