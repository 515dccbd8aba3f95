// Splits a byte stream into lines without ever holding more than `maxBytes` of one line: a longer
// line is reported as oversized and its bytes are dropped as they arrive (it is never parsed).

export type Line = { number: number; text: string } | { number: number; oversized: true; bytes: number };

export async function* readLines(input: AsyncIterable<Buffer | string>, maxBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let length = 0;
  let number = 0;
  const finish = (): Line => {
    number += 1;
    const line: Line = length > maxBytes ? { number, oversized: true, bytes: length } : { number, text: Buffer.concat(parts).toString('utf8') };
    parts = [];
    length = 0;
    return line;
  };
  for await (const chunk of input) {
    let buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    for (;;) {
      const newline = buffer.indexOf(0x0a);
      const piece = newline === -1 ? buffer : buffer.subarray(0, newline);
      if (piece.length > 0 && length + piece.length <= maxBytes) parts.push(piece);
      length += piece.length;
      if (newline === -1) break;
      yield finish();
      buffer = buffer.subarray(newline + 1);
    }
  }
  if (length > 0) yield finish();
}
