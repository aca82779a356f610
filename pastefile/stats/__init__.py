"""Statistics: PV/UV counting, Redis patterns, charts, reports and access-log analysis."""
