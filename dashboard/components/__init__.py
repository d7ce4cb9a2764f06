"""Reusable page parts: layer cards, shape tables, run status, coaching, mistakes, imports, sharing."""
