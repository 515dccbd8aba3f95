import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { commaList, integer } from '../options.js';
import { keyValues } from '../render.js';

// The commands that run the memory's dynamics on demand: decay, dream, consolidation, and the recall mode.

/** `decay-tick`: decayTick. */
export function decayTickCommand(program: Command, { run }: CliContext): void {
  program
    .command('decay-tick')
    .description('Let time pass: materialise fidelity and prune what fell below the threshold.')
    .option('--duration <seconds>', 'simulated elapsed time', integer(0), 3600)
    .action((options: { duration: number }) =>
      run(
        (endpoint, space) => endpoint.call('decayTick', { space, tick_duration_seconds: options.duration }),
        (result) => [`Updated ${result.records_updated}, below threshold ${result.records_below_threshold}, pruned ${result.records_pruned}`],
      )(),
    );
}

/** `dream-tick`: dreamTick. */
export function dreamTickCommand(program: Command, { run }: CliContext): void {
  program
    .command('dream-tick')
    .description('Digest the raw journal into episodic summaries and semantic knowledge.')
    .option('--session-id <id>')
    .option('--dry-run', 'count what would happen, write nothing', false)
    .option('--max-groups <n>', 'most groups to process', integer(0), 10)
    .option('--include-private-scratch', '', false)
    .option('--include-sealed', '', false)
    .option('--no-promote-semantic', 'do not promote topics into semantic memory')
    .option('--secrecy-levels <levels>', 'comma-separated secrecy levels that may be dreamt about', commaList)
    .action((options: { sessionId?: string; dryRun: boolean; maxGroups: number; includePrivateScratch: boolean; includeSealed: boolean; promoteSemantic: boolean; secrecyLevels?: string[] }) =>
      run(
        (endpoint, space) =>
          endpoint.call('dreamTick', {
            space,
            session_id: options.sessionId ?? null,
            dry_run: options.dryRun,
            max_groups: options.maxGroups,
            include_private_scratch: options.includePrivateScratch,
            include_sealed: options.includeSealed,
            promote_semantic: options.promoteSemantic,
            ...(options.secrecyLevels ? { secrecy_levels: options.secrecyLevels } : {}),
          }),
        (result) => keyValues(result),
      )(),
    );
}

/** `consolidate`: consolidate. */
export function consolidateCommand(program: Command, { run }: CliContext): void {
  program
    .command('consolidate')
    .description('Move mature episodic memories into semantic knowledge.')
    .option('--strategy <strategy>', 'incremental | full | selective', 'incremental')
    .option('--min-age-hours <hours>', '', integer(0), 0)
    .option('--min-access-count <count>', '', integer(0), 0)
    .option('--dry-run', 'count what would happen, write nothing', false)
    .action((options: { strategy: string; minAgeHours: number; minAccessCount: number; dryRun: boolean }) =>
      run(
        (endpoint, space) =>
          endpoint.call('consolidate', {
            space,
            strategy: options.strategy,
            min_age_hours: options.minAgeHours,
            min_access_count: options.minAccessCount,
            dry_run: options.dryRun,
          }),
        (result) => keyValues(result),
      )(),
    );
}

/** `set-mode <mode>`: setMode. */
export function setModeCommand(program: Command, { run }: CliContext): void {
  program
    .command('set-mode <mode>')
    .description('Recall mode: human or perfect, for every store or a --scope.')
    .option('--scope <stores>', 'comma-separated stores', commaList)
    .action((mode: string, options: { scope?: string[] }) =>
      run(
        (endpoint) => endpoint.call('setMode', { mode, ...(options.scope ? { scope: options.scope } : {}) }),
        () => [`Recall mode set to ${mode}${options.scope ? ` for ${options.scope.join(', ')}` : ''}`],
      )(),
    );
}
