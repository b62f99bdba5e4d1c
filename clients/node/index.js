// Client for the similarity functions (embed, compare, cluster) over cloud.gov internal routes.
// No runtime dependencies: Node >= 20.3 (fetch, AbortSignal.timeout, AbortSignal.any). Types: index.d.ts.

import { randomUUID } from "node:crypto";

/** The internal route's TLS port: the platform terminates TLS in front of the app (plain HTTP is 8080). */
export const TLS_PORT = 61443;
const FUNCTIONS = ["embed", "compare", "cluster"];

/**
 * The three functions' URLs on cloud.gov internal routes, over TLS by default.
 * @param {string} prefix the apps' name prefix, e.g. "simfn-prod"
 * @param {{tls?: boolean}} [options] tls: false for plain HTTP on 8080 (not recommended: the key travels in clear)
 * @returns {{embed: string, compare: string, cluster: string}}
 */
export function internalUrls(prefix, { tls = true } = {}) {
  const base = (fn) => (tls ? `https://${prefix}-${fn}.apps.internal:${TLS_PORT}/` : `http://${prefix}-${fn}.apps.internal:8080/`);
  return Object.fromEntries(FUNCTIONS.map((fn) => [fn, base(fn)]));
}

/**
 * Vectors as one base64 string of little-endian float32, row after row: what compare and cluster accept
 * wherever vectors go, at about a quarter of the JSON's bytes.
 * @param {ArrayLike<number>[]} vectors
 * @returns {string}
 */
export function encodeVectors(vectors) {
  const dimensions = vectors[0]?.length ?? 0;
  const packed = new Float32Array(vectors.length * dimensions);
  vectors.forEach((vector, row) => {
    if (vector.length !== dimensions) throw new TypeError(`vector ${row} has ${vector.length} values, expected ${dimensions}`);
    packed.set(vector, row * dimensions);
  });
  return littleEndianBase64(packed);
}

/**
 * The rows of a base64 string of little-endian float32 (embed's `encoding_format: "base64"` answer).
 * @param {string} text
 * @param {number} dimensions
 * @returns {Float32Array[]}
 */
export function decodeVectors(text, dimensions) {
  const bytes = Buffer.from(text, "base64");
  if (bytes.length % (4 * dimensions) !== 0) throw new TypeError(`${bytes.length} bytes are not rows of ${dimensions} float32`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const rows = [];
  for (let offset = 0; offset < bytes.length; offset += 4 * dimensions) {
    const row = new Float32Array(dimensions);
    for (let i = 0; i < dimensions; i += 1) row[i] = view.getFloat32(offset + 4 * i, true);
    rows.push(row);
  }
  return rows;
}

function littleEndianBase64(floats) {
  const view = new DataView(new ArrayBuffer(floats.length * 4));
  floats.forEach((value, i) => view.setFloat32(4 * i, value, true));
  return Buffer.from(view.buffer).toString("base64");
}

const RETRY_STATUSES = new Set([429, 503]);
const RETRY_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "UND_ERR_SOCKET"]);

/**
 * @typedef {object} ClientOptions
 * @property {{embed: string, compare: string, cluster: string}} urls base URL of each function,
 *   e.g. internalUrls("simfn-prod") → "https://simfn-prod-embed.apps.internal:61443/"
 * @property {string} [apiKey] the shared key, sent as X-API-Key
 * @property {number} [timeoutMs=10000] deadline for one call, retries included
 * @property {number} [retries=3] retries after the first attempt: 429, 503, a connection reset, refused or closed
 *   before the whole answer arrived. Every call is idempotent (the functions are pure), so a retry is safe.
 * @property {number} [backoffMs=100] first backoff; doubles each retry, with full jitter
 * @property {number} [maxBackoffMs=2000] longest backoff between attempts
 * @property {typeof fetch} [fetch] fetch implementation (tests)
 */

/**
 * @typedef {object} CallOptions
 * @property {string} [requestId] X-Request-Id for this call (default: a new UUID), the same on every retry
 * @property {number} [timeoutMs] this call's deadline, instead of the client's
 * @property {AbortSignal} [signal] cancels the call
 */

/** @typedef {{model: string, dimensions: number, embeddings: number[][]}} EmbedResponse */
/** @typedef {{text_1: string, text_2: string, model?: string}} PairRequest */
/** @typedef {{query?: string, query_embedding?: number[], candidates: (string | {id: string | number, text: string} | {id: string | number, embedding: number[]})[], top_k?: number, threshold?: number, model?: string}} QueryRequest */
/** @typedef {{texts?: string[], embeddings?: number[][], threshold?: number, model?: string}} PairsRequest */
/** @typedef {{similarity: number} | {matches: {index: number, id?: string | number, similarity: number}[]} | {threshold: number, pairs: {i: number, j: number, similarity: number}[]}} CompareResponse */
/** @typedef {{texts?: string[], items?: {id: string | number, text: string}[], embeddings?: number[][], threshold?: number, min_cluster_size?: number, model?: string}} ClusterRequest */
/** @typedef {{threshold: number, clusters: {members: number[], ids?: (string | number)[], representative: number, size: number}[]}} ClusterResponse */

/** An error from a function call: the HTTP status and error_type when the function answered. */
export class SimilarityError extends Error {
  /**
   * @param {string} message
   * @param {{fn: string, errorType: string, status?: number, requestId: string, attempts: number, cause?: unknown}} details
   */
  constructor(message, { fn, errorType, status, requestId, attempts, cause }) {
    super(message, { cause });
    this.name = "SimilarityError";
    /** which function was called */
    this.fn = fn;
    /** the function's error_type, or "timeout" / "unreachable" / "aborted" / "bad_response" / "invalid_request" */
    this.errorType = errorType;
    /** the HTTP status, when the function answered */
    this.status = status;
    this.requestId = requestId;
    this.attempts = attempts;
  }
}

export class SimilarityClient {
  /** @param {ClientOptions} options */
  constructor({ urls, apiKey, timeoutMs = 10_000, retries = 3, backoffMs = 100, maxBackoffMs = 2_000, fetch: impl }) {
    for (const fn of FUNCTIONS) {
      if (!urls?.[fn]) throw new TypeError(`urls.${fn} is required`);
    }
    this.urls = urls;
    this.apiKey = apiKey;
    this.timeoutMs = timeoutMs;
    this.retries = retries;
    this.backoffMs = backoffMs;
    this.maxBackoffMs = maxBackoffMs;
    this.fetch = impl ?? globalThis.fetch;
  }

  /**
   * Texts → unit vectors, in input order.
   * @param {string[]} texts
   * @param {CallOptions & {model?: string}} [options]
   * @returns {Promise<EmbedResponse>}
   */
  async embed(texts, { model, encoding = "float", ...options } = {}) {
    const body = { texts, ...(model ? { model } : {}), ...(encoding === "base64" ? { encoding_format: "base64" } : {}) };
    const answer = await this.#call("embed", body, options);
    if (encoding === "base64") answer.embeddings = decodeVectors(answer.embeddings, answer.dimensions);
    return answer;
  }

  /**
   * What a function serves: models with dimensions and max tokens, engine and precision, limits, version.
   * @param {"embed" | "compare" | "cluster"} fn
   * @param {CallOptions} [options]
   */
  info(fn, options = {}) {
    return this.#call(fn, undefined, options, "GET", "info");
  }

  /**
   * One pair, one query against candidates, or all pairs above a threshold (the body picks the mode).
   * @param {PairRequest | QueryRequest | PairsRequest} body
   * @param {CallOptions} [options]
   * @returns {Promise<CompareResponse>}
   */
  compare(body, options = {}) {
    return this.#call("compare", body, options);
  }

  /**
   * Texts, items or vectors → groups of duplicates, largest first.
   * @param {ClusterRequest} body
   * @param {CallOptions} [options]
   * @returns {Promise<ClusterResponse>}
   */
  cluster(body, options = {}) {
    return this.#call("cluster", body, options);
  }

  async #call(fn, body, { requestId = randomUUID(), timeoutMs = this.timeoutMs, signal } = {}, method = "POST", path = "") {
    const deadline = AbortSignal.timeout(timeoutMs);
    const abort = signal ? AbortSignal.any([deadline, signal]) : deadline;
    const call = { fn, requestId, attempts: 0, method, url: new URL(path, this.urls[fn]).href };
    let payload;
    try {
      payload = method === "GET" ? null : JSON.stringify(body);
    } catch (error) {
      // A BigInt or a cycle: the caller's mistake, found before anything is sent.
      throw failure(call, `the request cannot be written as JSON: ${error.message}`, "invalid_request", { cause: error });
    }
    if (method !== "GET" && typeof payload !== "string") {
      throw failure(call, "the request cannot be written as JSON", "invalid_request");
    }
    try {
      return await this.#attempts(call, payload, abort);
    } catch (error) {
      if (error instanceof SimilarityError) throw error;
      if (deadline.aborted) throw failure(call, `no answer within ${timeoutMs} ms`, "timeout", { cause: error });
      if (abort.aborted) throw failure(call, "the call was cancelled", "aborted", { cause: error });
      throw failure(call, `the connection failed: ${error.message}`, "unreachable", { cause: error });
    }
  }

  async #attempts(call, payload, abort) {
    const headers = { "Content-Type": "application/json", "X-Request-Id": call.requestId };
    if (this.apiKey) headers["X-API-Key"] = this.apiKey;
    const url = call.url;
    for (;;) {
      call.attempts += 1;
      const retriesLeft = call.attempts <= this.retries;
      let response;
      let text;
      try {
        response = await this.fetch(url, { method: call.method, headers, body: payload ?? undefined, signal: abort });
        // Inside the try: a connection closed in the middle of the body is a transport failure, retried.
        text = await response.text();
      } catch (error) {
        const code = error?.cause?.code ?? error?.code;
        if (abort.aborted) throw error;
        if (!RETRY_CODES.has(code) || !retriesLeft) {
          const reason = `cannot reach ${url}: ${code ?? error.message} after ${call.attempts} attempt(s)`;
          throw failure(call, reason, "unreachable", { cause: error });
        }
        await sleep(this.#backoff(call.attempts), abort);
        continue;
      }
      const json = parse(text);
      if (response.ok && json !== undefined) return json;
      const errorType = response.ok ? "bad_response" : (json?.error_type ?? "bad_response");
      const status = response.status;
      if (!RETRY_STATUSES.has(status) || !retriesLeft) {
        throw failure(call, `${status} ${errorType}: ${json?.error ?? "the answer is not the expected JSON"}`, errorType, { status });
      }
      const retryAfter = Number(response.headers.get("retry-after"));
      await sleep(retryAfter > 0 ? retryAfter * 1000 : this.#backoff(call.attempts), abort);
    }
  }

  /** Exponential backoff with full jitter. */
  #backoff(attempt) {
    return Math.random() * Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1));
  }
}

function failure({ fn, requestId, attempts }, message, errorType, extra = {}) {
  return new SimilarityError(`${fn}: ${message} (request ${requestId})`, { fn, requestId, attempts, errorType, ...extra });
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The answer as a JSON object; undefined for anything else (not JSON, null, an array, a number). */
function parse(text) {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
