"""Derived facts: what rules read that the case does not state directly (TPP, density, groups, ...)."""
