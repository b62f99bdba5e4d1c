// Starts a function locally on the real model for the Node tests (needs `make install` first).
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PYTHON = process.env.SIMFN_PYTHON ?? `${ROOT}.venv/bin/python`;
export const KEY = "node-test-key";

export async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** @returns {Promise<{child: import("node:child_process").ChildProcess, url: string, port: number}>} */
export async function start(fn) {
  const port = await freePort();
  const child = spawn(PYTHON, ["-m", "common.server", fn, "--host", "127.0.0.1", "--port", String(port)], {
    cwd: ROOT,
    env: { ...process.env, HF_HUB_OFFLINE: "1", SIMFN_API_KEYS: KEY },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}/`;
  for (const started = Date.now(); Date.now() - started < 60_000; ) {
    if (child.exitCode !== null) throw new Error(`${fn} exited with ${child.exitCode}`);
    const ready = await fetch(`${url}readyz`).then((r) => r.ok, () => false);
    if (ready) return { child, url, port };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${fn} was not ready within 60 s`);
}
