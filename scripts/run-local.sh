#!/usr/bin/env bash
# Run embed, compare and cluster on 127.0.0.1:8081, 8082 and 8083, each in its own waitress process,
# as Cloud Foundry runs them. Ctrl-C stops all three; so does any one of them exiting.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait' EXIT
port=8081
for target in embed compare cluster; do
  .venv/bin/python -m common.server "$target" --port "$port" &
  pids+=("$!")
  port=$((port + 1))
done
wait -n
