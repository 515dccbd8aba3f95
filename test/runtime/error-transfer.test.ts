import { writeFileSync } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { isCmpError } from '../../src/cmp/errors.js';
import { Comlink, installErrorTransfer, nodeEndpoint } from '../../src/runtime/comlink-node.js';

// What a store worker throws reaches the hippocampus over comlink with its CMP code. A MessageChannel
// carries it exactly as a worker's port does: structured clone through the installed transfer handler.

installErrorTransfer();
const channels: MessageChannel[] = [];
afterEach(() => channels.splice(0).forEach((channel) => (channel.port1.close(), channel.port2.close())));

function across<T extends object>(api: T): Comlink.Remote<T> {
  const channel = new MessageChannel();
  channels.push(channel);
  Comlink.expose(api, nodeEndpoint(channel.port1));
  return Comlink.wrap<T>(nodeEndpoint(channel.port2));
}

describe('errors crossing a worker boundary', () => {
  // Issue 14, defect 7: the errno stayed behind and a full disk arrived as INTERNAL_ERROR.
  it('a full disk arrives as STORAGE_FULL with the cause for the log', async () => {
    const remote = across({ write: () => writeFileSync('/dev/full', 'x') });
    const error = await remote.write().catch((reason: unknown) => reason);
    expect(isCmpError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'STORAGE_FULL', message: "The server's storage is full: no space left on device (ENOSPC)" });
    expect(String((error as Error).cause)).toContain('ENOSPC');
  });

  it('anything else arrives as INTERNAL_ERROR', async () => {
    const remote = across({
      fail: () => {
        throw new TypeError('x is undefined');
      },
    });
    await expect(remote.fail()).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
  });
});
