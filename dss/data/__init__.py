"""Input tables: declarations, reading, validation and the Study container."""
