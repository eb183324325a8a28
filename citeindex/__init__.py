"""The citation index: links references to the records they cite, and keeps the counts sorting uses."""
