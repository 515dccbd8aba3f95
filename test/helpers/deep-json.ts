// Deep JSON for the depth-limit tests (issue 14, defects 3 and 8), built without recursion.

/** `levels` nested containers around a 1, objects and arrays in turn (`{"a":[1]}` is 2). */
export function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = i % 2 === 0 ? { a: value } : [value];
  return value;
}

/** JSON text of `levels` nested arrays, written as text: JSON.stringify itself recurses. */
export function nestedText(levels: number): string {
  return `${'['.repeat(levels)}1${']'.repeat(levels)}`;
}
