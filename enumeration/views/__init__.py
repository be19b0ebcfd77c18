"""Pages of household registration, split by page group: areas and listing, the form, review, the list."""
