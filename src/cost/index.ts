// The cost stage: MACs per layer call and in total, uncounted operators, activation memory. See cost.ts.
export { costOf, type ReportCost, type CallCost, type UncountedOp } from './cost.ts';
export { macsOf, type MacResult, type Shape } from './macs.ts';
