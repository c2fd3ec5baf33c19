from services.shared.db import async_url


def test_plain_urls_get_the_async_drivers():
    assert async_url("postgresql://u:p@db:5432/retail") == "postgresql+asyncpg://u:p@db:5432/retail"
    assert async_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert async_url("postgresql+asyncpg://db/retail") == "postgresql+asyncpg://db/retail"
