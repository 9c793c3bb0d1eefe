export type { DetailedLabels, LabelledSentence, Mention, ReadAttributes, ReportLabel } from './labeler.ts';
export { labelReport, labelReportDetailed, labelSentence } from './labeler.ts';
