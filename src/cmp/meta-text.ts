import type { MetaEvidenceRef, MetaMemory } from './types.js';

/** The meta text the full-text index sees: only for provided or inferred meta, blanks left out. */
export function metaSearchText(meta: MetaMemory): string[] {
  if (meta.capture_status !== 'provided' && meta.capture_status !== 'inferred') return [];
  const out: (string | null | undefined)[] = [meta.intent, meta.rationale, meta.trigger, meta.decision];
  out.push(...meta.goals, ...meta.assumptions, ...meta.tags);
  const evidenceText = (e: MetaEvidenceRef) => [e.label, e.excerpt, e.uri];
  for (const e of meta.evidence) out.push(...evidenceText(e));
  for (const a of meta.alternatives) out.push(a.option, a.reason);
  for (const edge of meta.context_edges) {
    out.push(edge.rationale);
    for (const e of edge.evidence) out.push(...evidenceText(e));
  }
  return out.filter((s): s is string => typeof s === 'string' && s.trim() !== '').map((s) => s.trim());
}
