"""Uncertainty: scenarios of the input numbers (drawn or named), a plan evaluated on them
(``dss montecarlo``) and optimisation over them (sample average approximation)."""
