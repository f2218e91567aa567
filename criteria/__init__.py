"""Policy criteria as data, and the pure engine that turns findings into a pre-filled determination."""
