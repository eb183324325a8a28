"""Office files (DOCX, XLSX) with the same bytes for the same content.

python-docx and openpyxl write each zip member with the current time, so two renderings of one issued
report differ in their timestamps although every part is equal. The package is rewritten here with
one fixed timestamp for every member, members in the order they were written, and one compression
setting, so the bytes depend on the content alone.
"""

from __future__ import annotations

import io
import zipfile

# The earliest time a zip entry can hold; the content's own date lives in the document properties.
_EPOCH = (1980, 1, 1, 0, 0, 0)


def stable_zip(data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            entry.create_system = 0
            target.writestr(entry, source.read(info.filename), compresslevel=6)
    return out.getvalue()
