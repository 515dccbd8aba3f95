// Rules that span keys, and the defaults that follow another key's value. Both read the merged input
// defensively (a key may be missing or of the wrong type), so they run even when other keys are invalid.

import { clusterIssues } from '../../cluster/config.js';
import { LEXICAL_VECTOR_WEIGHT } from '../../actors/hippocampus/recall.js';
import { USE_LITE_DIMENSION } from '../../embedding/use-lite.js';
import { missingProviderKeys, requiredBy, type ProviderSection } from '../../providers/requirements.js';
import type { RawIssue } from './issues.js';
import { OTHER_EMBEDDING_DIMENSION } from './providers.js';
import { isPlainObject, type Plain } from './sources.js';

/**
 * Replaces the defaults that depend on the embedding provider, where the default is still in force
 * (`provenance` says "defaults"): the dimension, the model's 512 for "local" and 256 for the others;
 * and the weight of the vector signal, lower for "lexical", whose cosine is a second BM25.
 */
export function applyProviderDefaults(merged: Plain, provenance: Map<string, string>): void {
  const embeddingSection = merged.embedding;
  if (isPlainObject(embeddingSection) && embeddingSection.provider !== 'local' && provenance.get('embedding.dimension') === 'defaults') {
    embeddingSection.dimension = OTHER_EMBEDDING_DIMENSION;
  }
  const recallSection = merged.recall;
  if (isPlainObject(embeddingSection) && isPlainObject(recallSection) && embeddingSection.provider === 'lexical' && provenance.get('recall.vector_weight') === 'defaults') {
    recallSection.vector_weight = LEXICAL_VECTOR_WEIGHT;
  }
}

export function crossFieldIssues(merged: Plain, provenance: Map<string, string>): RawIssue[] {
  const issues: RawIssue[] = [];
  const section = (name: string): Plain => (isPlainObject(merged[name]) ? merged[name] : {});
  const http = section('http');
  const auth = section('auth');
  const embedding = section('embedding');
  const llm = section('llm');
  const runtime = section('runtime');
  const cluster = section('cluster');

  if (http.port === 0 && provenance.get('http.port') !== 'flags') {
    issues.push({
      path: ['http', 'port'],
      message: 'expected an integer in 1..65535 (0, a random port, is accepted only from flags), got 0',
    });
  }
  if (auth.enabled === true && Array.isArray(auth.api_keys) && auth.api_keys.length === 0) {
    issues.push({
      path: ['auth', 'enabled'],
      message: 'auth.enabled = true requires at least one key in auth.api_keys',
    });
  }
  const dimension = embedding.dimension;
  // An out-of-range dimension is reported by its range alone.
  if (embedding.provider === 'local' && typeof dimension === 'number' && dimension >= 16 && dimension <= 4096 && dimension !== USE_LITE_DIMENSION) {
    issues.push({
      path: ['embedding', 'dimension'],
      message: `must be ${USE_LITE_DIMENSION} when embedding.provider = "local" (the model's vector length), got ${embedding.dimension}; use provider "lexical" for another length`,
    });
  }
  for (const [name, values] of [
    ['embedding', embedding],
    ['llm', llm],
  ] as const satisfies readonly [ProviderSection, Plain][]) {
    for (const key of missingProviderKeys(name, values)) {
      issues.push({
        path: [name, key],
        message: requiredBy(name, String(values.provider)),
        sourcePath: [name, 'provider'],
      });
    }
  }
  const { restart_backoff_initial_ms: initial, restart_backoff_max_ms: max } = runtime;
  if (typeof initial === 'number' && typeof max === 'number' && max < initial) {
    issues.push({
      path: ['runtime', 'restart_backoff_max_ms'],
      message: `expected >= runtime.restart_backoff_initial_ms (${initial}), got ${max}`,
    });
  }
  issues.push(...clusterIssues(cluster));
  return issues;
}
