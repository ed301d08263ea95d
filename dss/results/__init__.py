"""Writing and reporting of run results."""
