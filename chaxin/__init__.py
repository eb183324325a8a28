"""Chaxin command line and local service launcher."""
