"""Quality rules: the catalogue (codes, severities, messages) and the entry validation of one household."""
