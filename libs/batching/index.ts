export { BatchWriter, PermanentWriteError, type BatchWriterOptions } from './batch-writer.js';
