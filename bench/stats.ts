/** Percentiles of a sample (nearest rank), for latency reports. */
export function percentiles(samples: number[], points = [50, 95, 99]): Record<string, number> {
  const sorted = [...samples].sort((a, b) => a - b);
  const result: Record<string, number> = {};
  for (const point of points) {
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((point / 100) * sorted.length) - 1));
    result[`p${point}`] = round(sorted[rank] ?? NaN);
  }
  return result;
}

export function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Samples RSS every `everyMs` until stopped; returns the peak in MiB. */
export function rssSampler(everyMs = 50): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return round(peak / 2 ** 20, 1);
    },
  };
}
