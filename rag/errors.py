"""One exception type for problems the user can fix; the CLI and the app show its message."""


class RagError(Exception):
    """A clear, one-sentence problem (bad source, stale or corrupt index, bad input)."""
