"""HTTP: the JSON API and the server-rendered search pages."""
