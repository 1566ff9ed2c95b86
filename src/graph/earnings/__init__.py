"""GraphQL for earnings: platforms, earnings, goals, the summary, the live feed and CSV export."""
