export { type FindingSentence, type ReportSection, reportFindingSentences } from './finding-sentences.ts';
export { splitSentences, type TextSpan } from './sentences.ts';
export {
  existential,
  IMPRESSION_ORDER,
  indefiniteDisplay,
  indefinitePhrase,
  isCompleteForPathology,
  NO_POSITIVE_IMPRESSION,
  NORMAL_IMPRESSION,
  REPORT_ORDER,
  type WrittenReport,
  writeReport,
} from './write.ts';
