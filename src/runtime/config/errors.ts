// The one error a configuration load throws: every problem found, one line each.

export interface ConfigIssue {
  /** Dotted key path (e.g. `stores.episodic.decay_exponent`); empty for a problem with a whole file. */
  readonly path: string;
  /** Where the value came from: `flags`, `env CEREMEMORY_…`, the TOML file's path, or `defaults`. */
  readonly source: string;
  readonly message: string;
}

/** Every problem found in one load, one line each: `config: <path> (from <source>): <problem>`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.issues = issues;
  }
}

function formatIssue(issue: ConfigIssue): string {
  return issue.path === '' ? `config: ${issue.source}: ${issue.message}` : `config: ${issue.path} (from ${issue.source}): ${issue.message}`;
}
