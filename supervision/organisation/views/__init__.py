"""Pages of the organisation part (readiness, subsidies, awareness, rectification, directory, trainings)."""
