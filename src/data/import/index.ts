export {
  type ImportedRecord,
  type ImportOptions,
  importedInstructions,
  importLabelCsv,
  importLabelCsvFile,
  type UncertainPolicy,
} from './chexpert.ts';
export { type CsvRecord, parseCsv, readCsvRecords } from './csv.ts';
export { type ImportDatasetOptions, importDataset } from './dataset.ts';
export { ImportError, type ImportErrorCode } from './errors.ts';
