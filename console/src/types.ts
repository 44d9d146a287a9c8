// The shapes of the API's answers this console reads (see /openapi.json).

export interface FlowNode {
  id: string;
  type: string;
  position?: { x: number; y: number };
  data?: { label?: string; config?: Record<string, unknown> };
}

export interface FlowEdge {
  id: string;
  source: string;
  target: string;
  sourceHandle?: string | null;
}

export interface Definition {
  nodes?: FlowNode[];
  edges?: FlowEdge[];
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  items?: JsonSchema;
}

export interface Workflow {
  id: string;
  lineage_id: string;
  name: string;
  description: string;
  version: number;
  status: string;
  definition: Definition;
  input_schema: JsonSchema | null;
  created_at: string;
  updated_at: string;
  published_at: string | null;
  paused?: boolean;
  archived: boolean;
}

export interface WorkflowVersion {
  id: string;
  version: number;
  status: string;
  name: string;
  created_at: string;
  published_at: string | null;
  archived: boolean;
}

export interface ValidationIssue {
  code: string;
  message: string;
  node_id?: string | null;
  edge_id?: string | null;
  path?: string | null;
}

export interface Validation {
  valid: boolean;
  // The same problems as `issues`, as sentences.
  errors: string[];
  issues: ValidationIssue[];
}

export interface RunSummary {
  id: string;
  workflow_id: string;
  status: string;
  trigger_type: string;
  error: string | null;
  started_at: string | null;
  completed_at: string | null;
  created_at: string;
}

export interface Run extends RunSummary {
  input: Record<string, unknown>;
  context: Record<string, unknown>;
  progress?: { done: number; total: number; fraction: number } | null;
}

export interface StepRun {
  id: string;
  step_id: string;
  step_type: string;
  item_index: number | null;
  status: string;
  attempt: number;
  attempts: Record<string, unknown>[];
  input: unknown;
  output: unknown;
  error: string | null;
  request: Record<string, unknown> | null;
  started_at: string | null;
  completed_at: string | null;
}

export interface RunLog {
  id: number;
  step_id: string | null;
  level: string;
  message: string;
  timestamp: string;
}

export interface RunEvent {
  seq: number;
  event_type: string;
  step_id: string | null;
  data: Record<string, unknown>;
  timestamp: string;
}

export interface RetryPlan {
  run_id: string;
  from_step: string | null;
  run_again: string[];
  keep: string[];
  dropped: string[];
}

export interface Question {
  default?: unknown;
  min?: number | string | null;
  max?: number | string | null;
  id?: string;
  name?: string;
  key?: string;
  question?: string;
  label?: string;
  text?: string;
  type?: string;
  options?: string[];
  choices?: string[];
  required?: boolean;
}

export interface InboxItem {
  run_id: string;
  workflow_id: string;
  workflow_name: string;
  step_id: string;
  type: string;
  waiting_since: string | null;
  deadline_at: string | null;
  approval?: { message: string; approvers: string[]; quorum: number; votes: unknown[] } | null;
  clarification?: { questions: Question[] } | null;
}

export interface Durations {
  count: number;
  min: number | null;
  avg: number | null;
  p95: number | null;
  max: number | null;
}

export interface WorkflowStats {
  workflow_id: string;
  since: string;
  until: string;
  total_runs: number;
  by_status: Record<string, number>;
  success_rate: number | null;
  duration_seconds: Durations;
}
