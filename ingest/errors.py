"""Errors a parser raises for one bad record; the job records them and goes on."""


class RecordError(ValueError):
    """A record that cannot be turned into a canonical Record. The message is shown to users."""
