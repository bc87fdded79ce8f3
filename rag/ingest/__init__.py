"""Source files in, sections of sentences and chunks out: readers by file suffix, parsing, chunking.
Every sentence and chunk keeps its exact character offsets in the file it came from."""
