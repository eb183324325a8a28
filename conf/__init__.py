"""One validated settings object for every part of Chaxin."""

from conf.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
