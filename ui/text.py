"""Escaping of user- and file-controlled text before it reaches Markdown or HTML.

Streamlit renders GitHub-flavoured Markdown in st.markdown, st.caption, st.info/warning/error/
success, st.title/header/subheader, st.toast, widget and metric labels, button labels and help
tooltips, plus its own extensions: LaTeX (`$…$`), `:color[text]` / `:material/icon:`
directives and emoji shortcodes. A procedure name, URL parameter, unit or file name, task
text or account's full name put there unescaped becomes a live link (`[x](http://…)`), a
tracking image (`![](http://…)`), a heading, a table or a formula. `md()` makes such text
literal; `html_text()` does the same for HTML given to `unsafe_allow_html=True`.
No Streamlit import: usable from reports too.
"""

from __future__ import annotations

import re

# CommonMark lets any ASCII punctuation character be backslash-escaped, and an escaped
# character is always literal. Escaped here: every character that can start or close Markdown
# syntax on one line: links and images `[ ] ( ) !`, emphasis `* _ ~`, code `` ` ``, headings,
# lists and quotes at a line start `# + - . ) >`, tables `|`, HTML and autolinks `< > : @`
# (`http\://` is no autolink, `www\.` neither), entities `&`, math `$`, Streamlit's directives
# and shortcodes `:` (`\:red\[…\]`, `\:material/x\:`), and `\` itself. Left as they are:
# `/ , ; ? % " ' = ^ { }`, which start nothing without one of the above.
_PUNCTUATION = re.compile(r"""([\\`*_\[\]()#+\-.!|<>~$:@&])""")
# Line breaks would end the inline context the text sits in (start a block, a list item,
# an indented code block); other control characters have no business in a label.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def md(text: object) -> str:
    """`text` as literal Markdown: every ASCII punctuation character backslash-escaped,
    line breaks and control characters turned into one space. None gives ''."""
    if text is None:
        return ""
    return _PUNCTUATION.sub(r"\\\1", _BREAKS.sub(" ", str(text)))


# Streamlit parses Markdown around and after the HTML it is given (an HTML block ends at a
# blank line), so escaped HTML text must not be Markdown either: the characters Markdown acts
# on become numeric character references, which Markdown leaves literal and HTML shows as is.
# One pass, so that no reference is escaped twice: HTML's own five, then Markdown's.
_HTML = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;", ord("'"): "&#39;"} | {
    ord(c): f"&#{ord(c)};" for c in "[]!*_`$:~|\\"}  # inline syntax (no `[`/`]`: no link, image or directive)


def html_text(text: object) -> str:
    """`text` as literal HTML (element content or a quoted attribute), inert as Markdown too:
    `<>&"'` escaped, Markdown's punctuation as character references, line breaks and control
    characters as one space (a blank line would end the HTML block). None gives ''."""
    if text is None:
        return ""
    return _BREAKS.sub(" ", str(text)).translate(_HTML)
