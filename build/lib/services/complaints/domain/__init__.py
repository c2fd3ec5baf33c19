"""The complaints service's business rules as pure functions: no I/O, no clock of their own."""
