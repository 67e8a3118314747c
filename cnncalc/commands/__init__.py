"""One module per command: its options, its help and examples, and the calls into the library that do the work."""
