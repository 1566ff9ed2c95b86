"""Tally's composition root: settings, logging, the runtime that wires infrastructure, the CLI."""
