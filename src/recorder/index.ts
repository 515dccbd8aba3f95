export { EVENT_TYPES, normaliseEvent, parseCaptureLine, DedupeWindow, CaptureEventError, type RawRecord, type EventType } from './capture-event.js';
export { redactText, redactJson, isSecretKey } from './redact.js';
export { createRecorderProgram } from './program.js';
