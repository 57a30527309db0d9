"""Assessing a case: the engine and its plans, scoring, bounds, levers, counterfactuals and the result model."""
