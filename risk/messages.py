"""Message catalogues: every text a person reads, one gettext PO file per language.

A package keeps its texts in ``<package>/locales/<lang>/LC_MESSAGES/<domain>.po``, read at run
time with Babel (no compile step, no ``.mo`` files). The catalogues are *monolingual*, keyed as
translation tools (Poedit, Weblate) call it: the ``msgid`` is a key such as ``decision.referred``,
the ``msgstr`` the text in the file's language. A third language is a third set of files and
its code in :data:`LANGS`.

Keys are dotted: a table of names is the keys under one prefix (``decision.referred``,
``decision.family_declined``: :meth:`Catalogues.pairs`); a word counted with a number has one
key per CLDR plural category of the language (``unit.days.one``, ``unit.days.few``:
:meth:`Catalogues.plural_forms`). :meth:`Catalogues.problems` lists what a translator must fix;
a test keeps every catalogue of the project free of them.
"""

from __future__ import annotations

import functools
import re
import string
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po

from risk._errors import ScreeningError

#: A language the texts are written in.
Lang = Literal["ru", "en"]

#: The languages of every catalogue; the first is the default.
LANGS: tuple[Lang, ...] = ("ru", "en")


# A one-line key as translation tools write it (a key never needs more than one line).
_MSGID = re.compile(r'^msgid "(.+)"$', re.MULTILINE)


class CatalogueError(ScreeningError):
    """A message catalogue is missing, cannot be read, or has no such key."""


def plural_categories(lang: str) -> frozenset[str]:
    """Return the CLDR plural categories of ``lang``: the forms a counted word needs.

    Examples
    --------
    >>> sorted(plural_categories("ru")), sorted(plural_categories("en"))
    (['few', 'many', 'one', 'other'], ['one', 'other'])
    """
    return frozenset(Locale.parse(lang).plural_form.tags) | {"other"}


def placeholders(text: str) -> frozenset[str]:
    """Return the ``str.format`` fields of ``text``, with their format spec.

    Raises
    ------
    ValueError
        Unbalanced braces.

    Examples
    --------
    >>> sorted(placeholders("{n} of {total}, {value:.3f}; {{literal}}"))
    ['{n}', '{total}', '{value:.3f}']
    """
    fields = set()
    for _, field, spec, conversion in string.Formatter().parse(text):
        if field is not None:
            conv = f"!{conversion}" if conversion else ""
            fields.add("{" + field + conv + (f":{spec}" if spec else "") + "}")
    return frozenset(fields)


class Catalogues:
    """The PO catalogues of one domain, one per language, each read once.

    Parameters
    ----------
    directory : str or path
        The directory holding ``locales/`` (a package's own directory).
    domain : str
        The catalogue's name: the files are ``locales/<lang>/LC_MESSAGES/<domain>.po``.
    langs : tuple of str, default :data:`LANGS`
        The languages, the first the reference for the order of keys.
    plurals : tuple of str, default ()
        Prefixes under which every key is ``<prefix><word>.<CLDR category>`` (a word counted
        with a number); :meth:`problems` checks each word has exactly its language's categories.

    Examples
    --------
    >>> from pathlib import Path
    >>> import risk
    >>> texts = Catalogues(Path(risk.__file__).parent, "risk", plurals=("unit.",))
    >>> texts.text("en", "report.h_decided"), texts.text("ru", "report.h_decided")
    ('Who decided', 'Кто принял решение')
    >>> texts.pairs("report.role.")["admin"]
    ('администратор', 'administrator')
    >>> texts.plural_forms("unit.")["records"][1]
    {'one': 'record', 'other': 'records'}
    >>> texts.problems()
    []
    """

    def __init__(
        self,
        directory: str | Path,
        domain: str,
        *,
        langs: tuple[str, ...] = LANGS,
        plurals: tuple[str, ...] = (),
    ) -> None:
        self.directory = Path(directory)
        self.domain = domain
        self.langs = tuple(langs)
        self.plurals = tuple(plurals)

    def __repr__(self) -> str:
        return f"Catalogues({str(self.directory)!r}, {self.domain!r}, langs={self.langs!r})"

    def path(self, lang: str) -> Path:
        """Return the PO file of ``lang``.

        Examples
        --------
        >>> Catalogues("risk", "risk").path("en").as_posix()
        'risk/locales/en/LC_MESSAGES/risk.po'
        """
        return self.directory / "locales" / lang / "LC_MESSAGES" / f"{self.domain}.po"

    @functools.cached_property
    def _catalogs(self) -> dict[str, Catalog]:
        return {lang: self._read(lang) for lang in self.langs}

    @functools.cached_property
    def _texts(self) -> dict[str, dict[str, str]]:
        return {
            lang: {str(m.id): str(m.string) for m in catalog if m.id}
            for lang, catalog in self._catalogs.items()
        }

    def _read(self, lang: str) -> Catalog:
        path = self.path(lang)
        try:
            with path.open("rb") as f:
                return read_po(f, locale=lang, domain=self.domain, abort_invalid=True)
        except FileNotFoundError:
            raise CatalogueError(f"{path}: no message catalogue for {lang!r}") from None
        except (PoFileError, UnicodeDecodeError, ValueError) as exc:
            raise CatalogueError(f"{path}: not a readable PO file: {exc}") from exc

    def text(self, lang: str, key: str) -> str:
        """Return the text of ``key`` in ``lang``.

        Raises
        ------
        CatalogueError
            ``lang`` is not one of the catalogues' languages, or its file has no ``key``.

        Examples
        --------
        >>> from risk.messages import RISK
        >>> RISK.text("en", "word.raises")
        'raises'
        """
        if lang not in self.langs:
            raise CatalogueError(
                f"{self.domain}: lang must be one of {', '.join(self.langs)}; got {lang!r}"
            )
        try:
            return self._texts[lang][key]
        except KeyError:
            raise CatalogueError(f"{self.path(lang)}: no key {key!r}") from None

    def keys(self) -> tuple[str, ...]:
        """Return every key, in the order of the first language's file (then the others' own).

        Examples
        --------
        >>> from risk.messages import RISK
        >>> RISK.keys()[:2]
        ('unit.days.one', 'unit.days.few')
        """
        keys = dict.fromkeys(k for lang in self.langs for k in self._texts[lang])
        return tuple(keys)

    def pairs(self, prefix: str) -> dict[str, tuple[str, ...]]:
        """Return the keys one level under ``prefix``, each with its text in every language.

        A key ``<prefix>code`` with no further dot becomes ``code``; the texts follow
        :attr:`langs`. The tables of names are built this way.

        Examples
        --------
        >>> from risk.messages import RISK
        >>> list(RISK.pairs("report.role.")), RISK.pairs("report.role.")["admin"]
        (['specialist', 'supervisor', 'admin'], ('администратор', 'administrator'))
        """
        codes = [k[len(prefix) :] for k in self.keys() if k.startswith(prefix)]
        return {
            code: tuple(self.text(lang, prefix + code) for lang in self.langs)
            for code in codes
            if "." not in code
        }

    def plural_forms(self, prefix: str) -> dict[str, tuple[dict[str, str], ...]]:
        """Return the words counted with a number under ``prefix``: per language, category → word.

        Examples
        --------
        >>> from risk.messages import RISK
        >>> ru, en = RISK.plural_forms("unit.")["children"]
        >>> ru["many"], en
        ('детей', {'one': 'child', 'other': 'children'})
        """
        words: dict[str, tuple[dict[str, str], ...]] = {}
        for key in self.keys():
            if key.startswith(prefix) and "." in key[len(prefix) :]:
                words.setdefault(key[len(prefix) :].rsplit(".", 1)[0], ())
        for word in words:
            words[word] = tuple(
                {
                    k.rsplit(".", 1)[1]: text
                    for k, text in self._texts[lang].items()
                    if k.rsplit(".", 1)[0] == prefix + word
                }
                for lang in self.langs
            )
        return words

    def problems(self) -> list[str]:
        """List what a translator must fix, each naming the file and the key.

        A key missing in a language or written twice, an empty text, placeholders
        (``{name}``) that differ from the first language's or unbalanced braces, a fuzzy
        entry, and a counted word without exactly its language's CLDR plural categories.

        Raises
        ------
        CatalogueError
            A file is missing or cannot be read.

        Examples
        --------
        >>> from risk.messages import RISK
        >>> RISK.problems()
        []
        """
        found: list[str] = []
        plural = [k for k in self.keys() if self._is_plural(k)]
        everywhere = [k for k in self.keys() if k not in plural]
        for lang in self.langs:
            path = self.path(lang)
            texts = self._texts[lang]
            found += [f"{path}: key {k!r} is missing" for k in everywhere if k not in texts]
            for message in self._catalogs[lang]:
                if message.id and message.fuzzy:
                    found.append(f"{path}: key {message.id!r} is fuzzy")
            # Babel keeps one of two entries with the same key, silently: count them in the file.
            written = Counter(_MSGID.findall(path.read_text(encoding="utf-8")))
            twice = [(k, n) for k, n in written.items() if n > 1]
            found += [f"{path}: key {k!r} is written {n} times" for k, n in twice]
            for key, text in texts.items():
                found += self._text_problems(lang, key, text)
            found += self._plural_problems(lang, plural)
        return found

    def _is_plural(self, key: str) -> bool:
        return any(key.startswith(prefix) for prefix in self.plurals)

    def _text_problems(self, lang: str, key: str, text: str) -> list[str]:
        path = self.path(lang)
        if not text.strip():
            return [f"{path}: key {key!r} has an empty text"]
        try:
            fields = placeholders(text)
        except ValueError as exc:
            return [f"{path}: key {key!r} has unbalanced braces ({exc})"]
        first = self.langs[0]
        reference = self._texts[first].get(key)
        if lang == first or reference is None or self._is_plural(key):
            return []
        try:
            expected = placeholders(reference)
        except ValueError:
            return []  # reported on the first language's file
        if fields == expected:
            return []
        return [
            f"{path}: key {key!r} has placeholders {_listed(fields)}; "
            f"in {first!r} it has {_listed(expected)}"
        ]

    def _plural_problems(self, lang: str, plural_keys: Iterable[str]) -> list[str]:
        path = self.path(lang)
        categories = plural_categories(lang)
        words: dict[str, set[str]] = {}
        found = []
        for key in plural_keys:
            prefix = next(p for p in self.plurals if key.startswith(p))
            word, _, category = key[len(prefix) :].rpartition(".")
            if not word:
                found.append(f"{path}: key {key!r} is not {prefix}<word>.<plural category>")
                continue
            words.setdefault(prefix + word, set())
            if key in self._texts[lang]:
                words[prefix + word].add(category)
        for word, have in words.items():
            if not have:
                found.append(f"{path}: {word} is missing (keys {word}.<plural category>)")
            elif have != categories:
                found.append(
                    f"{path}: {word} has plural categories {_listed(have)}; "
                    f"{lang!r} needs {_listed(categories)}"
                )
        return found


def _listed(items: Iterable[str]) -> str:
    return "[" + ", ".join(sorted(items)) + "]"


#: The ``risk`` package's texts: explanation words and units, the family report, figures.
RISK = Catalogues(Path(__file__).parent, "risk", plurals=("unit.",))
