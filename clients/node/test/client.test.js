// Retry, deadline and header behaviour against a scripted local HTTP server.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, beforeEach, test } from "node:test";

import { SimilarityClient } from "../index.js";

let server;
let url;
let script; // status (and headers) to answer, one per request; "hang" never answers
const seen = [];

before(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      seen.push({ at: Date.now(), headers: request.headers, body });
      const step = script.shift() ?? { status: 200 };
      if (step === "hang") return;
      if (step === "cut") {
        // Headers and half the body, then the connection closes.
        response.writeHead(200, { "Content-Type": "application/json", "Content-Length": "40" });
        response.write('{"similarity": 0.');
        return setTimeout(() => response.socket.destroy(), 20);
      }
      if (step.raw !== undefined) {
        response.writeHead(step.status ?? 200, { "Content-Type": "application/json" });
        return response.end(step.raw);
      }
      const payload = step.status === 200 ? { similarity: 0.5 } : { error: "scripted", error_type: step.type ?? "overloaded" };
      response.writeHead(step.status, { "Content-Type": "application/json", ...(step.headers ?? {}) });
      response.end(JSON.stringify(payload));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${server.address().port}/`;
});

after(() => server.closeAllConnections() || server.close());

beforeEach(() => {
  seen.length = 0;
  script = [];
});

const client = (options = {}) =>
  new SimilarityClient({ urls: { embed: url, compare: url, cluster: url }, apiKey: "k1", backoffMs: 10, ...options });

test("retries 503 and 429 with the same request id and key, then succeeds", async () => {
  script = [{ status: 503, type: "draining" }, { status: 429 }];
  const result = await client().compare({ text_1: "a", text_2: "b" }, { requestId: "req-1" });
  assert.deepEqual(result, { similarity: 0.5 });
  assert.equal(seen.length, 3);
  for (const { headers } of seen) {
    assert.equal(headers["x-request-id"], "req-1");
    assert.equal(headers["x-api-key"], "k1");
    assert.equal(headers["content-type"], "application/json");
  }
});

test("sends a fresh request id when none is given", async () => {
  await client().compare({ text_1: "a", text_2: "b" });
  await client().compare({ text_1: "a", text_2: "b" });
  assert.match(seen[0].headers["x-request-id"], /^[0-9a-f-]{36}$/);
  assert.notEqual(seen[0].headers["x-request-id"], seen[1].headers["x-request-id"]);
});

test("honours Retry-After", async () => {
  script = [{ status: 429, headers: { "Retry-After": "1" } }];
  await client().compare({ text_1: "a", text_2: "b" });
  assert.ok(seen[1].at - seen[0].at >= 950, `retried after ${seen[1].at - seen[0].at} ms`);
});

for (const status of [400, 401, 413, 422, 500]) {
  test(`never retries a ${status}`, async () => {
    script = [{ status, type: "validation_error" }];
    await assert.rejects(client().compare({ text_1: "a", text_2: "b" }), (error) => {
      assert.equal(error.name, "SimilarityError");
      assert.equal(error.status, status);
      assert.equal(error.errorType, "validation_error");
      assert.match(error.message, new RegExp(`^compare: ${status} validation_error: scripted`));
      return true;
    });
    assert.equal(seen.length, 1);
  });
}

test("gives up after the configured retries", async () => {
  script = [{ status: 503 }, { status: 503 }, { status: 503 }];
  await assert.rejects(client({ retries: 2 }).embed(["a"]), { errorType: "overloaded", attempts: 3, status: 503 });
  assert.equal(seen.length, 3);
});

test("keeps its deadline when the function never answers", async () => {
  script = ["hang"];
  const started = Date.now();
  await assert.rejects(client({ timeoutMs: 300 }).cluster({ texts: ["a"] }), { errorType: "timeout" });
  assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
});

test("a deadline shorter than Retry-After ends the call at the deadline", async () => {
  script = [{ status: 429, headers: { "Retry-After": "5" } }];
  const started = Date.now();
  await assert.rejects(client({ timeoutMs: 300 }).embed(["a"]), { errorType: "timeout" });
  assert.ok(Date.now() - started < 1000);
});

test("can be cancelled by the caller", async () => {
  script = ["hang"];
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(client().embed(["a"], { signal: controller.signal }), { errorType: "aborted" });
});

test("retries a refused connection, then fails fast with a clear error", async () => {
  const vacant = createServer();
  await new Promise((resolve) => vacant.listen(0, "127.0.0.1", resolve));
  const port = vacant.address().port;
  await new Promise((resolve) => vacant.close(resolve));
  const closed = new SimilarityClient({
    urls: { embed: `http://127.0.0.1:${port}/`, compare: url, cluster: url },
    backoffMs: 10,
  });
  const started = Date.now();
  await assert.rejects(closed.embed(["a"]), (error) => {
    assert.equal(error.errorType, "unreachable");
    assert.equal(error.attempts, 4);
    assert.match(error.message, /^embed: cannot reach http:\/\/127\.0\.0\.1:\d+\/: ECONNREFUSED after 4 attempt\(s\)/);
    return true;
  });
  assert.ok(Date.now() - started < 2000);
});

test("retries a connection closed in the middle of the answer", async () => {
  script = ["cut"];
  assert.deepEqual(await client().compare({ text_1: "a", text_2: "b" }), { similarity: 0.5 });
  assert.equal(seen.length, 2);
});

for (const raw of ["null", "[1, 2]", "3", '"text"']) {
  test(`treats a 200 whose body is ${raw} as bad_response`, async () => {
    script = [{ raw }];
    await assert.rejects(client().compare({ text_1: "a", text_2: "b" }), { errorType: "bad_response", status: 200 });
    assert.equal(seen.length, 1);
  });
}

test("a body that cannot be JSON is the caller's error, and nothing is sent", async () => {
  const cyclic = { text_1: "a" };
  cyclic.self = cyclic;
  for (const body of [{ text_1: 1n }, cyclic]) {
    await assert.rejects(client().compare(body), (error) => {
      assert.equal(error.errorType, "invalid_request");
      assert.equal(error.attempts, 0);
      return true;
    });
  }
  assert.equal(seen.length, 0);
});

test("requires a URL for every function", () => {
  assert.throws(() => new SimilarityClient({ urls: { embed: url } }), /urls.compare is required/);
});
