// The CMA archive (reference spec §7): format, encryption, streaming writer and verifying reader.
export { ARCHIVE_KDF, DECRYPTION_FAILED, deriveArchiveKey, diversifyKey } from './crypto.js';
export {
  ARCHIVE_VERSION,
  BUNDLE_ARCHIVE_VERSION,
  MAX_ARCHIVE_BYTES,
  type ArchiveEntry,
  type ArchiveHeader,
  type ArchiveVersion,
} from './format.js';
export { openArchive, type OpenArchiveOptions, type OpenedArchive } from './reader.js';
export { stageArchive, type ArchiveSource, type ArchiveSummary, type StagedArchive, type StageArchiveOptions } from './writer.js';
