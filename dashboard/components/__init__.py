"""Reusable page parts: widgets, run status, coaching, mistakes, imports, sharing."""
