"""A stream worker's tables open their RocksDB databases (one per partition) with the memory bounds of
the platform's settings, not faust's defaults (a 2 GiB block cache and three 64 MiB write buffers each),
and a worker hands the memory of a batch back to the system once it is done with it."""

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from services.shared.settings import PlatformSettings
from services.shared.streams import stream_app, table

MIB = 2**20
REPO = Path(__file__).parents[3]


def test_each_partitions_database_is_bounded_by_the_settings(tmp_path):
    platform = PlatformSettings(kafka_bootstrap_servers="localhost:9092", table_write_buffer_mib=4, table_block_cache_mib=8)
    cases = table(stream_app("tables-test", platform, tmp_path), "cases", 12, platform)
    options = cases.data.rocksdb_options
    assert (options.write_buffer_size, options.max_write_buffer_number, options.block_cache_size) == (4 * MIB, 2, 8 * MIB)
    database = cases.data._db_for_partition(3)  # opened with those options
    database.put(b"key", b"value")
    assert database.get(b"key") == b"value"


def test_the_defaults_are_a_few_mib_per_partition(monkeypatch):
    monkeypatch.delenv("RETAIL_TABLE_WRITE_BUFFER_MIB", raising=False)
    monkeypatch.delenv("RETAIL_TABLE_BLOCK_CACHE_MIB", raising=False)
    platform = PlatformSettings()
    assert (platform.table_write_buffer_mib, platform.table_block_cache_mib) == (2, 1)


HOLD_AND_FREE = """
import sys
from services.shared.streams import _hand_back_freed_blocks

def rss_mib():
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS")) / 1024

if sys.argv[1] == "worker":
    _hand_back_freed_blocks()
bytearray(8 * 2**20)  # freed at once: glibc's threshold would now leave smaller blocks to the heap
held, kept = [], []
for _ in range(300):  # a batch's totals, with what outlives the batch between them
    held.append(b"x" * 300_000)
    kept.append(bytes(1000))
before = rss_mib()
del held
print(before - rss_mib())
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists() or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_a_worker_hands_the_blocks_of_a_batch_back_when_it_frees_them():
    handed_back = {how: float(subprocess.run([sys.executable, "-c", HOLD_AND_FREE, how], capture_output=True, text=True,
                                             check=True, cwd=REPO).stdout) for how in ("worker", "default")}
    assert handed_back["worker"] > 80  # of the 86 MiB held
    assert handed_back["default"] < 10
