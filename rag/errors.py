"""Errors meant for the user: one type, `RagError`, with a subclass per kind of problem a caller may
want to tell apart. Each carries the one-sentence message the CLI and the app show."""


class RagError(Exception):
    """A clear, one-sentence problem the user can act on."""


class IndexMissing(RagError):
    """No index in the folder: build one."""


class IndexCorrupt(RagError):
    """The index folder exists but cannot be loaded as it is: rebuild it."""


class IndexWriteError(RagError):
    """The index could not be written (a full disk, no permission); the one there before is kept."""


class SourceError(RagError):
    """The source document cannot be read or holds no text."""


class QuestionError(RagError):
    """The question (or its parameters: k, history, a batch line) is not usable."""


class AnswererError(RagError):
    """An answerer is unknown or not configured."""
