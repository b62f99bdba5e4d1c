// Runnable example, also type-checked by the tests (`npm run types`): find duplicates of a new goal.
// SIMFN_PREFIX=simfn-prod SIMFN_API_KEY=... NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
//   node --experimental-strip-types examples/usage.ts
import { SimilarityClient, SimilarityError, encodeVectors, internalUrls, type Match } from "@simfn/client";

const client = new SimilarityClient({
  urls: process.env.SIMFN_URLS ? JSON.parse(process.env.SIMFN_URLS) : internalUrls(process.env.SIMFN_PREFIX ?? "simfn-prod"),
  apiKey: process.env.SIMFN_API_KEY,
  timeoutMs: 5_000,
});

const existing = ["Improve family engagement through monthly parent workshops", "Reduce staff turnover"];
const draft = "Hold parent workshops every month to engage families";

try {
  // Store vectors once (compact), then compare new drafts against them without re-encoding.
  const stored = await client.embed(existing, { encoding: "base64" });
  const first: Float32Array = stored.embeddings[0];
  const answer = await client.compare({
    query: draft,
    candidates: existing.map((_, index) => ({ id: index, embedding: encodeVectors([stored.embeddings[index]]) })),
    threshold: 0.75,
    review_threshold: 0.6,
  });
  const matches: Match[] = "matches" in answer ? answer.matches : [];
  const toConfirm = matches.filter((match) => match.verdict === "possible");
  console.log(`${first.length}-d vectors; duplicates and ${toConfirm.length} to confirm:`, matches);
  const { clusters } = await client.cluster({ embeddings: encodeVectors(stored.embeddings) });
  console.log("groups:", clusters.length);
} catch (error) {
  if (error instanceof SimilarityError && error.errorType === "overloaded") console.error("busy, try later");
  else throw error;
}
