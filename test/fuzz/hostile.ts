import fc from 'fast-check';

// Hostile values and request mutations for the fuzz suite (issue 14, "the campaign"). A request is a
// valid one (see ./operations.ts) with one of its fields replaced, removed, or joined by a stranger.
// Values too deep to build as JavaScript objects are placeholders replaced in the encoded body, so a
// 3,000-level document costs a string, not a stack.

/** Runs per property; `FUZZ_RUNS=5000 npx vitest run test/fuzz` for a longer campaign. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
/** The seed of every property; a failure prints it (with the path) so `FUZZ_SEED=… ` replays it. */
export const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
export const fuzzParameters = { numRuns: RUNS, seed: SEED, endOnFailure: true } as const;

const DEEP = '\u0000deep:';

/** A placeholder for JSON nested `depth` levels (arrays or objects), expanded by `encodeBody`. */
export const deep = (depth: number, kind: 'array' | 'object') => `${DEEP}${kind}:${depth}\u0000`;

/** JSON text of `value`, with every `deep` placeholder expanded. */
export function encodeBody(value: unknown): string {
  return JSON.stringify(value).replace(/"\\u0000deep:(array|object):(\d+)\\u0000"/g, (_match, kind: string, depth: string) => {
    const n = Number(depth);
    return kind === 'array' ? `${'['.repeat(n)}1${']'.repeat(n)}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
  });
}

const strings = fc.oneof(
  fc.constantFrom('', ' ', '\u0000', '\uD800', '__proto__', 'constructor', 'NaN', '-1', '1e309', 'null', 'true', '../../etc/passwd', '%00', 'ＡＢＣ', '🧠'.repeat(50)),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(10_000, 200_000).map((n) => 'x'.repeat(n)),
  fc.uuid(),
);

const numbers = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 0.5, 1.5, 2 ** 31, 2 ** 53 + 1, -(2 ** 53), Number.MAX_VALUE, Number.MIN_VALUE, 1e21),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const deepValues = fc.constantFrom(deep(33, 'object'), deep(101, 'object'), deep(101, 'array'), deep(3000, 'object'), deep(3000, 'array'));

/** Any JSON value a client might send where it should not. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    numbers,
    strings,
    deepValues,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(strings, fc.constantFrom('__proto__', 'constructor', 'toString')), tie('value'), { maxKeys: 4 }),
    fc.constantFrom([], {}, [null], { __proto__: { polluted: true } }),
  ),
})).value;

export type Mutation =
  | { kind: 'replace'; path: (string | number)[]; value: unknown }
  | { kind: 'remove'; path: (string | number)[] }
  | { kind: 'add'; path: (string | number)[]; key: string; value: unknown };

/** Every path in `value` (objects and arrays), the root included as []. */
export function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const paths: (string | number)[][] = [prefix];
  if (Array.isArray(value)) value.forEach((item, index) => paths.push(...pathsOf(item, [...prefix, index])));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...prefix, key]));
  }
  return paths;
}

/** A mutation of `request`: one of its fields replaced or removed, or an unknown field added. */
export function mutationOf(request: unknown): fc.Arbitrary<Mutation> {
  const paths = pathsOf(request);
  const inner = paths.filter((path) => path.length > 0);
  const containers = paths.filter((path) => {
    const at = get(request, path);
    return at !== null && typeof at === 'object' && !Array.isArray(at);
  });
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('replace' as const), path: fc.constantFrom(...paths), value: hostileValue }) },
    ...(inner.length > 0 ? [{ weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), path: fc.constantFrom(...inner) }) }] : []),
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), path: fc.constantFrom(...containers), key: strings, value: hostileValue }) },
  );
}

function get(value: unknown, path: (string | number)[]): unknown {
  return path.reduce<unknown>((at, key) => (at as Record<string | number, unknown>)?.[key], value);
}

/** `request` with `mutation` applied (a deep copy; `request` is not changed). */
export function applyMutation(request: unknown, mutation: Mutation): unknown {
  const copy = structuredClone(request);
  if (mutation.path.length === 0 && mutation.kind === 'replace') return mutation.value;
  const parent = mutation.kind === 'add' ? get(copy, mutation.path) : get(copy, mutation.path.slice(0, -1));
  const last = mutation.path.at(-1)!;
  const target = parent as Record<string | number, unknown>;
  if (mutation.kind === 'replace') target[last] = mutation.value;
  else if (mutation.kind === 'remove') {
    if (Array.isArray(target)) target.splice(last as number, 1);
    else delete target[last];
  } else Object.defineProperty(target, mutation.key, { value: mutation.value, enumerable: true, configurable: true, writable: true });
  return copy;
}

/** A short form of a case for failure messages (bodies can be megabytes). */
export function describeCase(name: string, body: string, extra = ''): string {
  return `${name} ${body.length > 300 ? `${body.slice(0, 300)}… (${body.length} chars)` : body} ${extra}`;
}
