"""The complaints service layer: each command checks scope and rules, changes the store, and writes
the events of the change to the outbox, all inside the caller's transaction."""
