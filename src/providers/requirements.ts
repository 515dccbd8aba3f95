// Which keys each provider needs, written once: the configuration loader reports every missing key of
// every source at once (runtime/config/rules.ts), and the factories that build a provider from an
// already-loaded section (embedding/factory.ts, providers/index.ts) refuse the first one missing.

import { invalidField } from '../cmp/errors.js';

/** Config section → provider → keys that must be set, in the order they are reported. */
export const PROVIDER_REQUIREMENTS = {
  embedding: { openai_compatible: ['base_url', 'model'], gemini: ['model', 'api_key'] },
  llm: { openai_compatible: ['model'], anthropic: ['model', 'api_key'], gemini: ['model', 'api_key'] },
} as const satisfies Record<string, Record<string, readonly string[]>>;

export type ProviderSection = keyof typeof PROVIDER_REQUIREMENTS;

/** The keys `values.provider` requires that `values` leaves unset; [] for a provider with no requirements. */
export function missingProviderKeys(section: ProviderSection, values: Record<string, unknown>): string[] {
  const requires: Record<string, readonly string[]> = PROVIDER_REQUIREMENTS[section];
  const provider = values.provider;
  if (typeof provider !== 'string' || !Object.hasOwn(requires, provider)) return [];
  return requires[provider].filter((key) => values[key] === undefined);
}

/** The sentence a missing key is reported with, e.g. `required when llm.provider = "anthropic"`. */
export function requiredBy(section: ProviderSection, provider: string): string {
  return `required when ${section}.provider = "${provider}"`;
}

/** Throws VALIDATION_ERROR naming the first key `values.provider` requires that is unset. */
export function requireProviderKeys(section: ProviderSection, values: { provider: string }): void {
  const [missing] = missingProviderKeys(section, values);
  if (missing !== undefined) throw invalidField(`${section}.${missing}`, requiredBy(section, values.provider));
}
