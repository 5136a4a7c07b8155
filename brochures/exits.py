"""The exit codes every command uses, declared once."""

OK = 0
# Some documents (or appointments, or deliveries) failed, the rest were done; or warnings counted with --strict.
FAILED = 1
# Invalid input or usage: nothing was built from it.
INVALID = 2
# The output folder could not be used: another build holds it, it is not writable, or the disk is full.
OUTPUT = 3
INTERRUPTED = 130
TERMINATED = 143

# What `--help` says of them, for every command.
SAID = ("Exit codes: 0 done; 1 some documents failed (the rest were built), or warnings with --strict; "
        "2 invalid input or usage; 3 the output folder could not be used (in use by another build, not writable, "
        "disk full); 130 interrupted (Ctrl-C); 143 stopped (SIGTERM).")
