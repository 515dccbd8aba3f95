import type { Command } from 'commander';
import { parseEmotionLabel } from '../../../cmp/emotion.js';
import type { CmpObject } from '../../endpoint.js';
import type { CliContext } from '../context.js';
import { commaList, integer, jsonArgument, number } from '../options.js';
import { renderRawRecall, renderRecall, renderStats } from '../render.js';

// The memory commands: one CMP call each (store, recall, inspect, forget, forecast, stats).

const textContent = (text: string) => ({ blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from(text, 'utf8').toString('base64') }] });

/** `store <text>`: encodeStore. */
export function storeCommand(program: Command, { run }: CliContext): void {
  program
    .command('store <text>')
    .description('Store a curated memory.')
    .option('--store <store>', 'episodic | semantic | procedural | emotional | working (default: classified automatically)')
    .option('--emotion <label>', 'emotion label: joy, trust, fear, surprise, sadness, disgust, anger, anticipation')
    .option('--embedding <floats>', 'comma-separated embedding to use instead of the embedder', (value) => commaList(value).map(number))
    .option('--meta-json <json>', 'MetaMemory JSON: intent, rationale, confidence, tags, …', jsonArgument)
    .action((text: string, options: { store?: string; emotion?: string; embedding?: number[]; metaJson?: CmpObject }) =>
      run(
        (endpoint, space) => {
          const content = textContent(text);
          if (options.embedding) (content.blocks[0] as CmpObject).embedding = options.embedding;
          return endpoint.call('encodeStore', {
            space,
            content,
            ...(options.store === undefined ? {} : { store: options.store }),
            ...(options.emotion === undefined ? {} : { emotion: parseEmotionLabel(options.emotion) }),
            ...(options.metaJson === undefined ? {} : { meta: options.metaJson }),
          });
        },
        (result) => [`Stored ${result.record_id} in ${result.store} (fidelity ${result.initial_fidelity}, ${result.associations_created ?? 0} associations)`],
        { createsDataDir: true },
      )(),
    );
}

/** `store-raw <text>`: encodeStoreRaw. */
export function storeRawCommand(program: Command, { run }: CliContext): void {
  program
    .command('store-raw <text>')
    .description('Append a verbatim entry to the raw journal.')
    .requiredOption('--session-id <id>', 'conversation session')
    .option('--turn-id <id>')
    .option('--topic-id <id>')
    .option('--source <source>', 'conversation | tool_io | scratchpad | summary | imported', 'conversation')
    .option('--speaker <speaker>', 'user | assistant | system | tool', 'user')
    .option('--visibility <visibility>', 'normal | private_scratch | sealed', 'normal')
    .option('--secrecy-level <level>', 'public | sensitive | secret', 'public')
    .option('--meta-json <json>', 'MetaMemory JSON', jsonArgument)
    .action((text: string, options: Record<string, string | CmpObject | undefined>) =>
      run(
        (endpoint, space) =>
          endpoint.call('encodeStoreRaw', {
            space,
            session_id: options.sessionId,
            turn_id: options.turnId ?? null,
            topic_id: options.topicId ?? null,
            source: options.source,
            speaker: options.speaker,
            visibility: options.visibility,
            secrecy_level: options.secrecyLevel,
            content: textContent(text),
            ...(options.metaJson === undefined ? {} : { meta: options.metaJson }),
          }),
        (result) => [`Stored raw ${result.record_id} in session ${result.session_id} (${result.visibility}, ${result.secrecy_level})`],
        { createsDataDir: true },
      )(),
    );
}

/** `recall [query]`: recallQuery. */
export function recallCommand(program: Command, { run }: CliContext): void {
  program
    .command('recall [query]')
    .description('Recall memories for a text cue (no query: the most recent).')
    .option('--limit <n>', 'most memories to return', integer(0, 1000), 10)
    .option('--mode <mode>', 'human (fidelity shows as noise) | perfect', 'human')
    .option('--stores <stores>', 'comma-separated stores (default: all)', commaList)
    .option('--no-reconsolidate', 'do not strengthen what is recalled')
    .option('--format <model>', 'print the memories as one prompt block for claude | gpt | gemini')
    .option('--budget-tokens <n>', 'token budget of that block', integer(0))
    .action((query: string | undefined, options: { limit: number; mode: string; stores?: string[]; reconsolidate: boolean; format?: string; budgetTokens?: number }) =>
      run(
        (endpoint, space) =>
          endpoint.call('recallQuery', {
            space,
            cue: query === undefined ? {} : { text: query },
            limit: options.limit,
            recall_mode: options.mode,
            reconsolidate: options.reconsolidate,
            ...(options.stores ? { stores: options.stores } : {}),
            ...(options.format === undefined ? {} : { format: options.format }),
            ...(options.budgetTokens === undefined ? {} : { budget_tokens: options.budgetTokens }),
          }),
        (result) => (result.context ? [String((result.context as CmpObject).text)] : renderRecall(result)),
      )(),
    );
}

/** `recall-raw [query]`: recallRawQuery. */
export function recallRawCommand(program: Command, { run }: CliContext): void {
  program
    .command('recall-raw [query]')
    .description('Forensic search of the raw journal.')
    .option('--session-id <id>')
    .option('--limit <n>', 'most entries to return', integer(0, 1000), 10)
    .option('--include-private-scratch', 'include private scratch entries', false)
    .option('--include-sealed', 'include sealed entries', false)
    .option('--secrecy-levels <levels>', 'comma-separated: public, sensitive, secret (default: public, sensitive)', commaList)
    .action((query: string | undefined, options: { sessionId?: string; limit: number; includePrivateScratch: boolean; includeSealed: boolean; secrecyLevels?: string[] }) =>
      run(
        (endpoint, space) =>
          endpoint.call('recallRawQuery', {
            space,
            query: query ?? null,
            session_id: options.sessionId ?? null,
            limit: options.limit,
            include_private_scratch: options.includePrivateScratch,
            include_sealed: options.includeSealed,
            ...(options.secrecyLevels ? { secrecy_levels: options.secrecyLevels } : {}),
          }),
        renderRawRecall,
      )(),
    );
}

/** `inspect <record-id>`: introspectRecord. */
export function inspectCommand(program: Command, { run }: CliContext): void {
  program
    .command('inspect <record-id>')
    .description('Show a whole memory record as JSON.')
    .action((recordId: string) =>
      run(
        (endpoint, space) => endpoint.call('introspectRecord', { space, record_id: recordId, include_history: true, include_associations: true, include_versions: true }),
        (record) => [JSON.stringify(record, null, 2)],
      )(),
    );
}

/** `stats`: stats. */
export function statsCommand(program: Command, { run }: CliContext): void {
  program
    .command('stats')
    .description('Counts, fidelity, associations, raw journal and background jobs.')
    .action(() => run((endpoint, space) => endpoint.call('stats', { space }), renderStats)());
}

/** `forget <record-ids...>`: forget. */
export function forgetCommand(program: Command, { run }: CliContext): void {
  program
    .command('forget <record-ids...>')
    .description('Delete memories for good (needs --confirm).')
    .option('--cascade', 'also delete what was derived from them', false)
    .option('--confirm', 'yes, delete them', false)
    .action((recordIds: string[], options: { cascade: boolean; confirm: boolean }) =>
      run(
        (endpoint, space) => endpoint.call('forget', { space, record_ids: recordIds.flatMap(commaList), cascade: options.cascade, confirm: options.confirm }),
        (result) => [`Deleted ${result.records_deleted} records`],
      )(),
    );
}

/** `decay-forecast <record-ids...>`: decayForecast. */
export function decayForecastCommand(program: Command, { run }: CliContext): void {
  program
    .command('decay-forecast <record-ids...>')
    .description('How faded memories will be at a future time.')
    .requiredOption('--at <time>', 'RFC 3339 time to forecast')
    .action((recordIds: string[], options: { at: string }) =>
      run(
        (endpoint, space) => endpoint.call('decayForecast', { space, record_ids: recordIds.flatMap(commaList), forecast_at: options.at }),
        (result) =>
          (result.forecasts as CmpObject[]).map(
            (entry) =>
              `${entry.record_id}: ${Number(entry.current_fidelity).toFixed(3)} → ${Number(entry.forecasted_fidelity).toFixed(3)} (prune threshold ${entry.estimated_threshold_date ?? 'never'})`,
          ),
      )(),
    );
}
