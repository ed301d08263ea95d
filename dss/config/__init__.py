"""Model definition files: schema and loading with scenario overrides."""
