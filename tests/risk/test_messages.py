"""Message catalogues: PO files read with Babel, and every kind of problem a translator can make."""

from __future__ import annotations

from pathlib import Path

import pytest

from risk.messages import RISK, CatalogueError, Catalogues, placeholders, plural_categories

HEADER = """\
msgid ""
msgstr ""
"Project-Id-Version: family-risk 0.1.0\\n"
"Language: {lang}\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=utf-8\\n"
"Content-Transfer-Encoding: 8bit\\n"

"""

GOOD = {
    "ru": {
        "title": "Очередь",
        "who": "Вы вошли как {name}",
        "tier.priority": "приоритетный",
        "tier.support": "поддержка",
        "unit.days.one": "день",
        "unit.days.few": "дня",
        "unit.days.many": "дней",
        "unit.days.other": "дня",
    },
    "en": {
        "title": "Queue",
        "who": "Signed in as {name}",
        "tier.priority": "priority",
        "tier.support": "support",
        "unit.days.one": "day",
        "unit.days.other": "days",
    },
}


def _po(lang: str, entries: dict[str, str], fuzzy: tuple[str, ...] = ()) -> str:
    body = HEADER.format(lang=lang)
    for key, text in entries.items():
        flag = "#, fuzzy\n" if key in fuzzy else ""
        body += f'{flag}msgid "{key}"\nmsgstr "{text}"\n\n'
    return body


def _catalogues(tmp_path: Path, **po: str) -> Catalogues:
    """Write ``demo.po`` for each language (its text given, else the good one) and open them."""
    for lang in ("ru", "en"):
        path = tmp_path / "locales" / lang / "LC_MESSAGES" / "demo.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(po.get(lang, _po(lang, GOOD[lang])), encoding="utf-8")
    return Catalogues(tmp_path, "demo", plurals=("unit.",))


def _only(problems: list[str]) -> str:
    assert len(problems) == 1, problems
    return problems[0]


def test_a_good_catalogue_reads_keys_tables_and_plural_forms(tmp_path: Path) -> None:
    texts = _catalogues(tmp_path)
    assert texts.problems() == []
    assert texts.text("ru", "who").format(name="Анна") == "Вы вошли как Анна"
    assert texts.keys()[:3] == ("title", "who", "tier.priority")
    assert texts.pairs("tier.") == {
        "priority": ("приоритетный", "priority"),
        "support": ("поддержка", "support"),
    }
    assert texts.pairs("") == {
        "title": ("Очередь", "Queue"),
        "who": ("Вы вошли как {name}", "Signed in as {name}"),
    }
    ru, en = texts.plural_forms("unit.")["days"]
    assert ru == {"one": "день", "few": "дня", "many": "дней", "other": "дня"}
    assert en == {"one": "day", "other": "days"}


def test_a_key_missing_in_one_language_is_named_with_its_file(tmp_path: Path) -> None:
    en = {k: v for k, v in GOOD["en"].items() if k != "tier.support"}
    texts = _catalogues(tmp_path, en=_po("en", en))
    problem = _only(texts.problems())
    assert str(texts.path("en")) in problem and "'tier.support' is missing" in problem
    # ... and a key only the second language has is missing in the first.
    ru = {k: v for k, v in GOOD["ru"].items() if k != "title"}
    problem = _only(_catalogues(tmp_path, ru=_po("ru", ru)).problems())
    assert str(texts.path("ru")) in problem and "'title' is missing" in problem


def test_an_empty_text_is_a_problem(tmp_path: Path) -> None:
    texts = _catalogues(tmp_path, ru=_po("ru", {**GOOD["ru"], "tier.support": ""}))
    problem = _only(texts.problems())
    assert str(texts.path("ru")) in problem and "'tier.support' has an empty text" in problem


def test_placeholders_must_be_the_same_in_every_language(tmp_path: Path) -> None:
    texts = _catalogues(tmp_path, en=_po("en", {**GOOD["en"], "who": "Signed in as {user}"}))
    problem = _only(texts.problems())
    assert str(texts.path("en")) in problem and "'who'" in problem
    assert "[{user}]" in problem and "[{name}]" in problem


def test_unbalanced_braces_are_a_problem(tmp_path: Path) -> None:
    texts = _catalogues(tmp_path, en=_po("en", {**GOOD["en"], "who": "Signed in as {name"}))
    problem = _only(texts.problems())
    assert str(texts.path("en")) in problem and "'who' has unbalanced braces" in problem


@pytest.mark.parametrize(
    ("lang", "forms", "expected"),
    [
        ("ru", {"one": "день", "few": "дня", "other": "дня"}, "[few, one, other]"),
        ("en", {"one": "day", "few": "days", "other": "days"}, "[few, one, other]"),
        ("en", {"one": "day", "plural": "days"}, "[one, plural]"),
    ],
)
def test_a_counted_word_needs_exactly_the_plural_categories_of_its_language(
    tmp_path: Path, lang: str, forms: dict[str, str], expected: str
) -> None:
    entries = {k: v for k, v in GOOD[lang].items() if not k.startswith("unit.")}
    entries |= {f"unit.days.{category}": word for category, word in forms.items()}
    texts = _catalogues(tmp_path, **{lang: _po(lang, entries)})
    problem = _only(texts.problems())
    needs = "[few, many, one, other]" if lang == "ru" else "[one, other]"
    assert str(texts.path(lang)) in problem
    assert f"unit.days has plural categories {expected}; '{lang}' needs {needs}" in problem


def test_a_counted_word_missing_in_one_language_is_a_problem(tmp_path: Path) -> None:
    en = {k: v for k, v in GOOD["en"].items() if not k.startswith("unit.")}
    problem = _only(_catalogues(tmp_path, en=_po("en", en)).problems())
    assert "en/LC_MESSAGES/demo.po: unit.days is missing" in problem


def test_a_fuzzy_entry_is_a_problem(tmp_path: Path) -> None:
    texts = _catalogues(tmp_path, en=_po("en", GOOD["en"], fuzzy=("title",)))
    problem = _only(texts.problems())
    assert str(texts.path("en")) in problem and "'title' is fuzzy" in problem


@pytest.mark.parametrize(
    "broken",
    ["this line is not PO\n", 'msgid "no_text"\n\n', 'msgid "a"\nmsgstr "\udcff"\n'],
    ids=["garbage", "msgid without msgstr", "not UTF-8"],
)
def test_an_unreadable_file_is_an_error_naming_its_path(tmp_path: Path, broken: str) -> None:
    po = (_po("en", GOOD["en"]) + broken).encode("utf-8", "surrogateescape")
    texts = _catalogues(tmp_path)
    texts.path("en").write_bytes(po)
    with pytest.raises(CatalogueError, match=r"en/LC_MESSAGES/demo\.po: not a readable PO file"):
        texts.problems()


def test_a_key_written_twice_is_a_problem(tmp_path: Path) -> None:
    po = _po("en", GOOD["en"]) + 'msgid "title"\nmsgstr "Another queue"\n'
    problem = _only(_catalogues(tmp_path, en=po).problems())
    assert "en/LC_MESSAGES/demo.po: key 'title' is written 2 times" in problem


def test_a_missing_file_is_an_error_naming_its_path(tmp_path: Path) -> None:
    texts = _catalogues(tmp_path)
    texts.path("en").unlink()
    with pytest.raises(CatalogueError, match=r"en/LC_MESSAGES/demo\.po: no message catalogue"):
        texts.text("ru", "title")


def test_an_unknown_key_or_language_is_an_error(tmp_path: Path) -> None:
    texts = _catalogues(tmp_path)
    with pytest.raises(CatalogueError, match="no key 'nope'"):
        texts.text("en", "nope")
    with pytest.raises(CatalogueError, match="lang must be one of ru, en; got 'de'"):
        texts.text("de", "title")


def test_a_third_language_is_a_third_file(tmp_path: Path) -> None:
    texts = _catalogues(tmp_path)
    de = tmp_path / "locales" / "de" / "LC_MESSAGES" / "demo.po"
    de.parent.mkdir(parents=True)
    de.write_text(_po("de", {**GOOD["en"], "title": "Warteschlange"}), encoding="utf-8")
    three = Catalogues(tmp_path, "demo", langs=("ru", "en", "de"), plurals=("unit.",))
    assert three.pairs("")["title"] == ("Очередь", "Queue", "Warteschlange")
    assert three.problems() == []
    assert texts.langs == ("ru", "en")


def test_placeholders_and_plural_categories() -> None:
    assert placeholders("{a} {b:.1f} {{c}}") == {"{a}", "{b:.1f}"}
    assert plural_categories("ru") == {"one", "few", "many", "other"}


def test_risks_catalogues_have_no_problem() -> None:
    assert RISK.problems() == []
    assert set(RISK.plural_forms("unit.")) == {
        "days",
        "records",
        "children",
        "years",
        "months",
        "roubles",
        "points",
    }
