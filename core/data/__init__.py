"""Data sets: the built-in registry, users' imported sets (zip of image folders, CSV tables) and one own image."""
