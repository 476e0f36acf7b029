"""Text a person wrote, made safe to put into the app's Markdown: shown as text, never as markup.

A rationale, a dispute reason, a service someone typed or a user name is written by one person
and read by others. Put into a ``gr.Markdown`` as it is, ``<form>``, ``<input>``, ``<img
src=http://...>``, ``![x](http://...)`` or ``[x](javascript:...)`` would be rendered (Gradio's
sanitiser removes scripts, not forms or remote images). :func:`escape_text` turns such text into
Markdown whose rendering is exactly the characters typed.
"""

from __future__ import annotations

import re
import string

# Every ASCII punctuation character can be backslash-escaped in CommonMark (and in marked, the
# renderer Gradio uses): escaped, none of them opens a link, an image, emphasis, code, a heading,
# a list, a table or an autolink (``http\:\/\/`` and ``www\.`` are not URLs any more).
# The five HTML-significant ones become character references instead: a backslash before ``<``
# would still leave a raw ``<`` in the HTML that marked writes.
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
_ESCAPED = {c: "\\" + c for c in string.punctuation if c not in _HTML} | _HTML
_TABLE = str.maketrans(_ESCAPED)
_WHITE = re.compile(r"\s+")


def escape_text(text: object) -> str:
    r"""Return ``text`` as Markdown that renders as exactly that text, on one line.

    HTML-significant characters (``& < > " '``) become character references and every other
    ASCII punctuation character is backslash-escaped, so neither HTML nor Markdown syntax
    (links, images, autolinks, emphasis, headings, lists, tables) survives; line breaks become
    spaces (the text sits inside a list item or a sentence). Use it for everything a person
    wrote that the app shows in a ``gr.Markdown``.

    Parameters
    ----------
    text : object
        The text (anything else is shown as its ``str``).

    Returns
    -------
    str
        Markdown source.

    Examples
    --------
    >>> escape_text("<img src=http://x/i.png>")
    '&lt;img src\\=http\\:\\/\\/x\\/i\\.png&gt;'
    >>> escape_text("![x](http://x/i.png) [y](javascript:alert(1))")
    '\\!\\[x\\]\\(http\\:\\/\\/x\\/i\\.png\\) \\[y\\]\\(javascript\\:alert\\(1\\)\\)'
    >>> escape_text("Мама согласилась\nна встречу")
    'Мама согласилась на встречу'
    """
    # Every run of white space (tabs too) becomes one space and the ends are trimmed: leading
    # white space would turn the text into a Markdown code block.
    one_line = _WHITE.sub(" ", str(text)).strip()
    return one_line.translate(_TABLE)
