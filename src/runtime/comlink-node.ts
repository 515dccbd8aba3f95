import * as Comlink from 'comlink';
import adapter from 'comlink/dist/umd/node-adapter.js';
import type { NodeEndpoint } from 'comlink/dist/umd/node-adapter.js';
import { CmpError, isCmpError, storageError, type CmpCode } from '../cmp/errors.js';

// comlink's Node adapter is a UMD module whose default export TypeScript sees as `.default` under
// nodenext (stack notes §4); this picks whichever shape the loader handed us.
type AdapterFn = (endpoint: NodeEndpoint) => Comlink.Endpoint;
export const nodeEndpoint: AdapterFn = (adapter as unknown as { default?: AdapterFn }).default ?? (adapter as unknown as AdapterFn);

interface SerializedThrow {
  isError: boolean;
  value: unknown;
}

interface SerializedCmpError {
  name: 'CmpError';
  code: CmpCode;
  message: string;
  retryAfter?: number;
  field?: string;
  stack?: string;
  /** The cause's message, for the log on the other side (a CmpError's cause does not cross). */
  cause?: string;
}

// comlink's default `throw` handler keeps only name/message/stack, so a CmpError's code and
// retryAfter would vanish between a store worker and the hippocampus (STYLE §6.4). This handler,
// installed in both threads, carries them across and rebuilds a real CmpError. A failing disk is
// recognised on the side that still has the errno (issue 14, defect 7); anything else becomes
// INTERNAL_ERROR with the original message kept as the cause for the log.
const defaultThrow = Comlink.transferHandlers.get('throw')!;
let installed = false;

export function installErrorTransfer(): void {
  if (installed) return;
  installed = true;
  Comlink.transferHandlers.set('throw', {
    canHandle: defaultThrow.canHandle,
    serialize(thrown: unknown): [SerializedThrow, Transferable[]] {
      const thrownValue = (thrown as { value: unknown }).value;
      const value = isCmpError(thrownValue) ? thrownValue : storageError(thrownValue);
      if (value !== undefined) {
        const plain: SerializedCmpError = {
          name: 'CmpError',
          code: value.code,
          message: value.message,
          retryAfter: value.retryAfter,
          field: value.field,
          stack: value.stack,
          cause: value.cause instanceof Error ? value.cause.message : undefined,
        };
        return [{ isError: true, value: plain }, []];
      }
      return defaultThrow.serialize(thrown) as [SerializedThrow, Transferable[]];
    },
    deserialize(serialized: unknown): never {
      const { isError, value } = serialized as SerializedThrow;
      if (isError && (value as { name?: string }).name === 'CmpError') {
        const plain = value as SerializedCmpError;
        throw new CmpError(plain.code, plain.message, {
          retryAfter: plain.retryAfter,
          field: plain.field,
          cause: plain.cause === undefined ? undefined : new Error(plain.cause),
        });
      }
      if (isError) {
        const plain = value as { message: string; stack?: string };
        const cause = Object.assign(new Error(plain.message), { stack: plain.stack });
        throw storageError(cause) ?? new CmpError('INTERNAL_ERROR', 'An internal storage error occurred', { cause });
      }
      throw value;
    },
  });
}

export { Comlink };
