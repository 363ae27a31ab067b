"""The takedown decision engine."""
