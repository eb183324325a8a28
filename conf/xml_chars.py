"""Characters XML 1.0 forbids (C0 controls other than tab, newline and carriage return; lone surrogates;
U+FFFE and U+FFFF).

Every text a user types may end up in a DOCX (python-docx refuses such characters outright) or a
PDF, so inputs are cleaned of them on the way in (casework, accounts) and renderers clean what older
data may still hold on the way out. Here, below every package, so that both sides use one definition.
"""

from __future__ import annotations

import re

XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_clean(text: str, replacement: str = "") -> str:
    """`text` without the characters XML 1.0 forbids (each replaced by `replacement`)."""
    return XML_FORBIDDEN.sub(replacement, text)
