#!/bin/sh
# Creates configure and Makefile.in (never committed).
set -eu
cd "$(dirname "$0")"
autoreconf --force --install --verbose >/dev/null
echo "autogen: now run ./configure"
