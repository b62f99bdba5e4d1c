// Types for @simfn/client (index.js). Checked by `tsc` in the tests (test/types.test.js).

export declare const TLS_PORT: 61443;

export type FunctionName = "embed" | "compare" | "cluster";
export type Urls = Record<FunctionName, string>;
export type ItemId = string | number;
/** A vector as JSON numbers, or as base64 little-endian float32 (encodeVectors). */
export type Vector = number[] | Float32Array | string;

export interface ClientOptions {
  /** Base URL of each function, ending in "/": internalUrls("simfn-prod") gives the TLS routes. */
  urls: Urls;
  /** The shared key, sent as X-API-Key. */
  apiKey?: string;
  /** Deadline for one call, retries included (default 10,000). */
  timeoutMs?: number;
  /** Retries after the first attempt on 429, 503 and connection failures (default 3). */
  retries?: number;
  /** First backoff in ms, doubling each retry with full jitter (default 100). */
  backoffMs?: number;
  /** Longest backoff in ms (default 2,000). */
  maxBackoffMs?: number;
  /** A fetch implementation (tests). */
  fetch?: typeof fetch;
}

export interface CallOptions {
  /** X-Request-Id for this call, the same on every retry (default: a new UUID). */
  requestId?: string;
  /** This call's deadline, instead of the client's. */
  timeoutMs?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

export interface EmbedOptions extends CallOptions {
  model?: string;
  /** "base64": the vectors travel as base64 float32 (~4x fewer bytes) and come back as Float32Array rows. */
  encoding?: "float" | "base64";
}

export interface EmbedResponse<V = number[]> {
  model: string;
  dimensions: number;
  embeddings: V[];
}

export interface PairRequest {
  text_1: string;
  text_2: string;
  model?: string;
}

export type Candidate = string | { id: ItemId; text: string } | { id: ItemId; embedding: Vector };

/** "possible": between review_threshold and the duplicate threshold, for a person to confirm. */
export type Verdict = "duplicate" | "possible";

export interface QueryRequest {
  query?: string;
  query_embedding?: Vector;
  candidates: Candidate[];
  top_k?: number;
  threshold?: number;
  /** Also return matches down to this cosine, each with a verdict (threshold defaults to the service's). */
  review_threshold?: number;
  model?: string;
}

export interface PairsRequest {
  texts?: string[];
  /** A list of vectors, or all of them as one base64 string (encodeVectors). */
  embeddings?: Vector[] | string;
  threshold?: number;
  /** Also return pairs down to this cosine, each with a verdict. */
  review_threshold?: number;
  model?: string;
}

export interface Match {
  index: number;
  id?: ItemId;
  similarity: number;
  /** Present when the request gave review_threshold. */
  verdict?: Verdict;
}

export interface Pair {
  i: number;
  j: number;
  similarity: number;
  /** Present when the request gave review_threshold. */
  verdict?: Verdict;
}

export type CompareResponse = { similarity: number } | { matches: Match[] } | { threshold: number; pairs: Pair[] };

export interface ClusterRequest {
  texts?: string[];
  items?: { id: ItemId; text: string }[];
  embeddings?: Vector[] | string;
  threshold?: number;
  /** Texts left out of the duplicate groups join them, or group among themselves, at this cosine as "possible". */
  review_threshold?: number;
  min_cluster_size?: number;
  model?: string;
}

export interface Cluster {
  members: number[];
  ids?: ItemId[];
  representative: number;
  size: number;
  /** With review_threshold: "possible" if no two members reach the threshold. */
  verdict?: Verdict;
  /** With review_threshold: each member's verdict, in the order of members. */
  verdicts?: Verdict[];
}

export interface ClusterResponse {
  threshold: number;
  clusters: Cluster[];
}

export interface ModelInfo {
  id: string;
  default: boolean;
  loaded: boolean;
  dimensions?: number;
  max_tokens?: number;
  engine?: string;
  /** This model's default thresholds (SIMFN_MODEL_THRESHOLDS, else the service's). */
  thresholds: { duplicate: number; cluster: number };
}

export interface Info {
  service: string;
  version: string;
  function: FunctionName;
  models: ModelInfo[];
  limits: Record<string, number>;
  encoding_formats: ("float" | "base64")[];
  /** The default model's default thresholds. */
  thresholds: { duplicate: number; cluster: number };
}

export type ErrorType =
  | "bad_request"
  | "draining"
  | "empty"
  | "headers_too_large"
  | "internal"
  | "invalid_json"
  | "invalid_text"
  | "invalid_vector"
  | "method_not_allowed"
  | "not_found"
  | "not_implemented"
  | "overloaded"
  | "payload_too_large"
  | "too_many_items"
  | "too_many_pairs"
  | "unauthorized"
  | "unknown_model"
  | "unsupported_media_type"
  | "validation_error"
  // raised by the client itself
  | "timeout"
  | "unreachable"
  | "aborted"
  | "bad_response"
  | "invalid_request";

export declare class SimilarityError extends Error {
  readonly fn: FunctionName;
  readonly errorType: ErrorType;
  /** The HTTP status, when the function answered. */
  readonly status?: number;
  readonly requestId: string;
  readonly attempts: number;
}

export declare class SimilarityClient {
  constructor(options: ClientOptions);
  embed(texts: string[], options?: EmbedOptions & { encoding?: "float" }): Promise<EmbedResponse<number[]>>;
  embed(texts: string[], options: EmbedOptions & { encoding: "base64" }): Promise<EmbedResponse<Float32Array>>;
  compare(body: PairRequest | QueryRequest | PairsRequest, options?: CallOptions): Promise<CompareResponse>;
  cluster(body: ClusterRequest, options?: CallOptions): Promise<ClusterResponse>;
  info(fn: FunctionName, options?: CallOptions): Promise<Info>;
}

export declare function internalUrls(prefix: string, options?: { tls?: boolean }): Urls;
export declare function encodeVectors(vectors: ArrayLike<number>[]): string;
export declare function decodeVectors(text: string, dimensions: number): Float32Array[];
