// The client against the three functions started locally on the real model (needs `make install` first).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

import { SimilarityClient } from "../index.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PYTHON = process.env.SIMFN_PYTHON ?? `${ROOT}.venv/bin/python`;
const KEY = "node-test-key";
const servers = {};
let client;

async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function start(fn) {
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
    if (ready) return { child, url };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${fn} was not ready within 60 s`);
}

before(async () => {
  for (const fn of ["embed", "compare", "cluster"]) servers[fn] = await start(fn);
  const urls = Object.fromEntries(Object.entries(servers).map(([fn, { url }]) => [fn, url]));
  client = new SimilarityClient({ urls, apiKey: KEY, timeoutMs: 20_000, backoffMs: 50 });
});

after(() => {
  for (const { child } of Object.values(servers)) child.kill("SIGKILL");
});

const GOALS = [
  "Improve family engagement through monthly parent workshops",
  "Increase family engagement by holding parent workshops every month",
  "Reduce staff turnover with better onboarding",
];

test("embed returns one 384-d unit vector per text", async () => {
  const result = await client.embed(GOALS);
  assert.equal(result.model, "all-MiniLM-L6-v2");
  assert.equal(result.embeddings.length, 3);
  for (const vector of result.embeddings) {
    assert.equal(vector.length, 384);
    assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-4);
  }
});

test("compare ranks the paraphrase above the other goal", async () => {
  const { matches } = await client.compare({ query: GOALS[0], candidates: GOALS.slice(1) });
  assert.equal(matches[0].index, 0);
  assert.ok(matches[0].similarity > 0.8 && matches[1].similarity < 0.5, JSON.stringify(matches));
});

test("cluster groups the two paraphrases", async () => {
  const { clusters } = await client.cluster({ texts: GOALS, threshold: 0.7 });
  assert.deepEqual(clusters.map((cluster) => cluster.members), [[0, 1]]);
});

test("a client error comes back as a typed error, not retried", async () => {
  await assert.rejects(client.embed([]), { status: 400, errorType: "empty", attempts: 1 });
  await assert.rejects(client.compare({ text_1: "a" }), { status: 422, errorType: "validation_error" });
});

test("a wrong key is refused with 401", async () => {
  const stranger = new SimilarityClient({ urls: client.urls, apiKey: "wrong" });
  await assert.rejects(stranger.embed(["a"]), { status: 401, errorType: "unauthorized", attempts: 1 });
});

test("the request id reaches the function and comes back in errors", async () => {
  await assert.rejects(client.embed([""], { requestId: "node-req-7" }), (error) => {
    assert.equal(error.requestId, "node-req-7");
    assert.match(error.message, /\(request node-req-7\)$/);
    return true;
  });
});

test("a function killed mid-test fails fast with a clear error", async () => {
  assert.ok((await client.compare({ text_1: "a", text_2: "b" })).similarity > 0);
  servers.compare.child.kill("SIGKILL");
  await new Promise((resolve) => servers.compare.child.once("exit", resolve));
  const started = Date.now();
  await assert.rejects(client.compare({ text_1: "a", text_2: "b" }), (error) => {
    assert.equal(error.errorType, "unreachable");
    assert.match(error.message, /^compare: cannot reach .* ECONNREFUSED after 4 attempt\(s\)/);
    return true;
  });
  assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
});
