"""The river network: graph checks, queries and routing."""
