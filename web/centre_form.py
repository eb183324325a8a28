"""The 查新机构 contact block as posted by a form: the admin centres page and the centre page share it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from appdb import accounts


async def contact_block(request: Request) -> dict[str, str]:
    """Every field of `accounts.CENTRE_CONTACT` from the posted form; a missing one is empty (cleared).

    Lengths are checked by `accounts.set_centre_contact`, which names the field in Chinese."""
    form = await request.form()
    values = {name: form.get(name) for name in accounts.CENTRE_CONTACT}
    return {name: value if isinstance(value, str) else "" for name, value in values.items()}


ContactBlock = Annotated[dict[str, str], Depends(contact_block)]
