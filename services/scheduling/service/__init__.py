"""The scheduling service layer: commands in, effects (rows and outbox events) through one transaction."""
