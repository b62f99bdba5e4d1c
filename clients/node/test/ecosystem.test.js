// What our users' other tools speak: the official OpenAI SDK against embed, and our client over TLS.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createServer } from "node:tls";

import OpenAI from "openai";

import { SimilarityClient } from "../index.js";
import { KEY, ROOT, start } from "./servers.js";

const GOALS = ["Improve family engagement through monthly parent workshops", "Reduce staff turnover"];
let embed;
let reference;

before(async () => {
  embed = await start("embed");
  const client = new SimilarityClient({ urls: { embed: embed.url, compare: embed.url, cluster: embed.url }, apiKey: KEY });
  reference = (await client.embed(GOALS)).embeddings;
});

after(() => embed.child.kill("SIGKILL"));

function assertSameVectors(found, expected) {
  assert.equal(found.length, expected.length);
  found.forEach((row, i) => assert.deepEqual(Array.from(Float32Array.from(row)), Array.from(Float32Array.from(expected[i]))));
}

test("the OpenAI Node SDK (base64 by default) gets embed's vectors", async () => {
  const openai = new OpenAI({ baseURL: `${embed.url}v1`, apiKey: KEY, maxRetries: 0 });
  const answer = await openai.embeddings.create({ model: "all-MiniLM-L6-v2", input: GOALS });
  assert.equal(answer.object, "list");
  assert.equal(answer.model, "all-MiniLM-L6-v2");
  assert.deepEqual(answer.data.map((item) => item.index), [0, 1]);
  assertSameVectors(answer.data.map((item) => item.embedding), reference);
  assert.ok(answer.usage.prompt_tokens > GOALS.length * 2 && answer.usage.total_tokens === answer.usage.prompt_tokens);
  const floats = await openai.embeddings.create({ model: "all-MiniLM-L6-v2", input: GOALS[0], encoding_format: "float" });
  assertSameVectors([floats.data[0].embedding], [reference[0]]);
});

test("the OpenAI Node SDK sees an unknown model and a wrong key as OpenAI-shaped errors", async () => {
  const openai = new OpenAI({ baseURL: `${embed.url}v1`, apiKey: KEY, maxRetries: 0 });
  await assert.rejects(openai.embeddings.create({ model: "text-embedding-3-small", input: "a" }), (error) => {
    assert.equal(error.status, 422);
    assert.equal(error.code, "unknown_model");
    assert.match(error.message, /all-MiniLM-L6-v2/);
    return true;
  });
  const stranger = new OpenAI({ baseURL: `${embed.url}v1`, apiKey: "wrong", maxRetries: 0 });
  await assert.rejects(stranger.embeddings.create({ model: "all-MiniLM-L6-v2", input: "a" }), { status: 401 });
});

/** A CA and a certificate for localhost signed by it, as the platform's CA signs the internal routes'. */
function certificates() {
  const dir = mkdtempSync(join(tmpdir(), "simfn-tls-"));
  const run = (...args) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=test platform CA");
  run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
  execFileSync("sh", ["-c", "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1' > san.cnf"], { cwd: dir });
  run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "san.cnf");
  return { dir, key: readFileSync(join(dir, "server.key")), cert: readFileSync(join(dir, "server.pem")) };
}

/** Runs the client in a new Node process (NODE_EXTRA_CA_CERTS is read at start) against the TLS URL. */
function callOverTls(url, env) {
  const script = `
    import { SimilarityClient } from ${JSON.stringify(join(ROOT, "clients/node/index.js"))};
    const client = new SimilarityClient({ urls: { embed: ${JSON.stringify(url)}, compare: "x", cluster: "x" }, apiKey: ${JSON.stringify(KEY)}, retries: 0 });
    client.embed([${JSON.stringify(GOALS[0])}]).then(
      (answer) => console.log(JSON.stringify(answer.embeddings[0])),
      (error) => { console.log(JSON.stringify({ errorType: error.errorType, message: error.message })); });
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, ...env } });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.on("error", reject);
    child.on("exit", () => resolve(JSON.parse(out)));
  });
}

test("the client reaches embed through a TLS terminator that trusts only the platform's CA", async () => {
  const { dir, key, cert } = certificates();
  // What the platform does on port 61443: terminate TLS, pass plain HTTP to the app.
  const terminator = createServer({ key, cert }, (socket) => {
    const upstream = connect(embed.port, "127.0.0.1");
    socket.pipe(upstream).pipe(socket);
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
  });
  await new Promise((resolve) => terminator.listen(0, "127.0.0.1", resolve));
  const url = `https://localhost:${terminator.address().port}/`;
  try {
    const vector = await callOverTls(url, { NODE_EXTRA_CA_CERTS: join(dir, "ca.pem") });
    assertSameVectors([vector], [reference[0]]);
    const refused = await callOverTls(url, {}); // without the CA bundle the certificate is not trusted
    assert.equal(refused.errorType, "unreachable", JSON.stringify(refused));
  } finally {
    terminator.close();
  }
});
