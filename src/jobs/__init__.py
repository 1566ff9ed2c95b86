"""Background jobs: one registry of job functions, run by ARQ workers or in-process when embedded."""
