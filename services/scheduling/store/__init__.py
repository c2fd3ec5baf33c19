"""The scheduling service's database: tables, migrations, and the transactional outbox."""
