"""GraphQL for notifications: the bell, the list, preferences and the live feed."""
