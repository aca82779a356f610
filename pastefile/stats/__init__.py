"""Statistics: PV/UV counting, chapter 6 Redis patterns, charts, reports, log analysis."""
