#!/usr/bin/env bash
# record.sh: re-record the core's memory images from the fixtures (after a
# layout change). Needs the fixtures built (./goroscope build).
set -euo pipefail
cd "$(dirname "$0")/../.."
for name in blocked deadlock; do
  gdb -nx -batch -ex "set pagination off" -ex "source gdb_plugin/goroscope-gdb.py" \
    -ex "break ready" -ex run \
    -ex "python import sys; sys.argv = ['x', 'tests/python/images/$name.json.gz']" \
    -x tests/python/record_image.py "build/tests/gdb/gdb_fixture_$name" </dev/null 2>&1 | tail -1
done
