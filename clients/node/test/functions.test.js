// The client against the three functions started locally on the real model (needs `make install` first).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { SimilarityClient, decodeVectors, encodeVectors } from "../index.js";
import { KEY, start } from "./servers.js";

const servers = {};
let client;

before(async () => {
  for (const fn of ["embed", "compare", "cluster"]) servers[fn] = await start(fn);
  const urls = Object.fromEntries(Object.entries(servers).map(([fn, { url }]) => [fn, url]));
  client = new SimilarityClient({ urls, apiKey: KEY, timeoutMs: 20_000, backoffMs: 50 });
});

after(() => {
  for (const { child } of Object.values(servers)) child.kill("SIGKILL");
});

test("info tells each function's model, dimensions, limits and version", async () => {
  for (const fn of ["embed", "compare", "cluster"]) {
    const info = await client.info(fn);
    assert.equal(info.function, fn);
    assert.equal(info.models[0].id, "all-MiniLM-L6-v2");
    assert.equal(info.models[0].dimensions, 384);
    assert.ok(info.limits.items > 0 && info.version, JSON.stringify(info));
    assert.deepEqual(info.models[0].thresholds, info.thresholds);
  }
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

test("a review band marks what lies between it and the threshold as possible", async () => {
  const { matches } = await client.compare({ query: GOALS[0], candidates: GOALS.slice(1), threshold: 0.8, review_threshold: 0.1 });
  assert.deepEqual(matches.map((match) => match.verdict), ["duplicate", "possible"], JSON.stringify(matches));
  const { clusters } = await client.cluster({ texts: GOALS, threshold: 0.99, review_threshold: 0.7 });
  assert.deepEqual(clusters.map(({ members, verdict, verdicts }) => [members, verdict, verdicts]), [[[0, 1], "possible", ["possible", "possible"]]]);
});

test("base64 vectors from embed equal the JSON ones and round-trip through compare and cluster", async () => {
  const json = await client.embed(GOALS);
  const compact = await client.embed(GOALS, { encoding: "base64" });
  assert.ok(compact.embeddings[0] instanceof Float32Array);
  assert.deepEqual(compact.embeddings.map((row) => Array.from(row)), json.embeddings.map((row) => Array.from(Float32Array.from(row))));
  assert.deepEqual(decodeVectors(encodeVectors(compact.embeddings), 384), compact.embeddings);
  const packed = encodeVectors(compact.embeddings);
  const { pairs } = await client.compare({ embeddings: packed, threshold: 0.7 });
  assert.deepEqual(pairs.map(({ i, j }) => [i, j]), [[0, 1]]);
  const stored = compact.embeddings.slice(1).map((row, index) => ({ id: index + 1, embedding: encodeVectors([row]) }));
  const { matches } = await client.compare({ query_embedding: encodeVectors([compact.embeddings[0]]), candidates: stored });
  assert.equal(matches[0].id, 1);
  const { clusters } = await client.cluster({ embeddings: packed, threshold: 0.7 });
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
