import { entryParser } from '../src/archive/format.js';
const rec = {"id":"0190a000-0000-7000-8000-00000000000a","store":"episodic","created_at":"2026-04-28T12:34:56.123Z","updated_at":"2026-04-28T12:34:56.123Z","last_accessed_at":"2026-04-28T12:34:56.123Z","access_count":0,"content":{"blocks":[{"modality":"text","format":"text/plain","data":[...Buffer.from('hello world record 1 2 and some more text to make it realistic')],"embedding":null}],"summary":null},"fidelity":{"score":1,"noise_level":0,"decay_rate":0.3,"emotional_anchor":1,"reinforcement_count":0,"stability":86400,"last_decay_tick":"2026-04-28T12:34:56.123Z","anchor_score":1,"anchor_at":"2026-04-28T12:34:56.123Z"},"emotion":{"joy":0,"trust":0,"fear":0,"surprise":0,"sadness":0,"disgust":0,"anger":0,"anticipation":0,"intensity":0,"valence":0},"associations":[],"metadata":{},"version":1,"meta":{"schema_version":1,"capture_status":"unavailable","intent":null,"rationale":"No explicit meta-rationale was provided at ingest time.","trigger":"encode.store","goals":[],"evidence":[],"assumptions":[],"alternatives":[],"decision":null,"confidence":null,"source_record_ids":[],"parent_meta_ids":[],"context_edges":[],"tags":[],"captured_at":"2026-04-28T12:34:56.123Z"},"space":"default"};
const line = JSON.stringify(rec);
const parse = entryParser('1.0', new Date().toISOString());
for (let i = 0; i < 200; i++) parse(line, 2);
let t = performance.now();
for (let i = 0; i < 2000; i++) parse(line, 2);
console.log('per record us', (performance.now() - t) / 2000 * 1000);
