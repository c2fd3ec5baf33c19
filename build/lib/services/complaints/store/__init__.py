"""The complaints service's database: tables, migrations, and the transactional outbox."""
