import { Transform } from 'node:stream';

// A progress line on stderr for long work (export, import): redrawn in place on a terminal, a line every
// few seconds otherwise (logs, CI), never on stdout (which may carry --json output).

export interface Progress {
  /** A pass-through stream that counts the bytes flowing through it. */
  counter(): Transform;
  done(summary: string): void;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

export function progress(label: string, totalBytes?: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = Date.now();
  let bytes = 0;
  let lastDrawn = 0;
  const tty = stream.isTTY === true;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - lastDrawn < (tty ? 100 : 5000)) return;
    lastDrawn = now;
    const seconds = Math.max(0.001, (now - started) / 1000);
    const rate = `${size(bytes / seconds)}/s`;
    let line: string;
    if (totalBytes !== undefined && totalBytes > 0) {
      const fraction = Math.min(1, bytes / totalBytes);
      const width = 24;
      const filled = Math.round(fraction * width);
      line = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0)}% ${size(bytes)} of ${size(totalBytes)} ${rate}`;
    } else {
      line = `${label} ${size(bytes)} ${rate}`;
    }
    stream.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  };
  return {
    counter: () =>
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          bytes += chunk.length;
          draw();
          callback(null, chunk);
        },
      }),
    done(summary) {
      draw(true);
      stream.write(`${tty ? '\n' : ''}${summary}\n`);
    },
  };
}
