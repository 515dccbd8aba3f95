import { CmpError } from '../../cmp/errors.js';

// The pure arithmetic of the vector index: unit vectors as hnswlib stores them (float32) and the cosine
// against a stored one.

export type VectorInput = Float32Array | readonly number[];

/**
 * The vector scaled to unit length as a plain array (hnswlib-node rejects Float32Array). hnswlib
 * normalises cosine vectors again in float32; doing it first in float64 keeps tiny or huge (but
 * float32-finite) vectors from under/overflowing there.
 */
export function normalise(vector: VectorInput, context: string): number[] {
  const length = vector?.length;
  if (!Number.isInteger(length) || length === 0) {
    throw new CmpError('VALIDATION_ERROR', `${context}: the vector is empty`, { field: 'vector' });
  }
  const values = new Array<number>(length);
  let sumOfSquares = 0;
  for (let i = 0; i < length; i++) {
    const value = Math.fround(vector[i]); // what hnswlib will store
    if (!Number.isFinite(value)) {
      throw new CmpError('VALIDATION_ERROR', `${context}: element ${i} is ${vector[i]}, not a finite float32`, {
        field: 'vector',
      });
    }
    values[i] = value;
    sumOfSquares += value * value;
  }
  const norm = Math.sqrt(sumOfSquares);
  if (norm === 0 || !Number.isFinite(norm)) {
    throw new CmpError('VALIDATION_ERROR', `${context}: the vector has zero norm, so no direction to compare`, {
      field: 'vector',
    });
  }
  for (let i = 0; i < length; i++) values[i] /= norm;
  return values;
}

/** Cosine of the unit vector `unit` and a stored vector of the same length; undefined for a zero `stored`. */
export function cosineWithUnit(unit: ArrayLike<number>, stored: ArrayLike<number>): number | undefined {
  let dot = 0;
  let norm = 0;
  for (let i = 0; i < unit.length; i++) {
    dot += unit[i]! * stored[i]!;
    norm += stored[i]! * stored[i]!;
  }
  return norm > 0 ? dot / Math.sqrt(norm) : undefined;
}
