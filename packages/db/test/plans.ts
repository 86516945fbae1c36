import { sql } from 'kysely';
import { quoteIdent, type DatabaseHandle } from '../src/connection';
import { openTestDatabase, testDatabaseUrl, type TestSchema } from '../src/testing';

/** A node of a JSON plan, as EXPLAIN and auto_explain print it: the fields the plan tests read. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

/** A plan's nodes, the root first. */
export const nodesOf = (node: PlanNode): PlanNode[] => [
  node,
  ...(node.Plans ?? []).flatMap(nodesOf),
];

/** Rows the scans `nodes` read: those returned and those their filters removed, over every loop. */
export const rowsReadBy = (nodes: PlanNode[]): number =>
  nodes.reduce(
    (sum, node) =>
      sum + (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0)) * node['Actual Loops'],
    0,
  );

/** One statement's plan as auto_explain reports it. */
export interface LoggedPlan {
  'Query Text': string;
  Plan: PlanNode;
}

/**
 * The settings that make a superuser's session in `schema` report the plan of every statement it
 * runs as a notice (`planOfNotice`), a function's own statements included (EXPLAIN does not show
 * those), with actual rows and without timings.
 */
export const autoExplainSettings = (schema: string): string[] => [
  `SET search_path = ${quoteIdent(schema)}`,
  `LOAD 'auto_explain'`,
  'SET auto_explain.log_min_duration = 0',
  'SET auto_explain.log_nested_statements = on',
  'SET auto_explain.log_analyze = on',
  'SET auto_explain.log_timing = off',
  'SET auto_explain.log_format = json',
  'SET auto_explain.log_level = notice',
  'SET client_min_messages = notice',
];

/** The plan a notice of such a session carries, if it carries one. */
export function planOfNotice(message: string | undefined): LoggedPlan | undefined {
  const json = message?.split('plan:\n')[1];
  return json ? (JSON.parse(json) as LoggedPlan) : undefined;
}

/**
 * A superuser's session in the schema (a pool of one connection, which keeps the settings) that
 * hands `onPlan` the plan of every statement it runs, a function's own included.
 */
export async function openExplainedSession(
  testSchema: TestSchema,
  onPlan: (plan: LoggedPlan) => void,
): Promise<DatabaseHandle> {
  const explained = await openTestDatabase(testSchema, 1, { url: testDatabaseUrl });
  explained.pool!.on('connect', (client) =>
    client.on('notice', (notice) => {
      const plan = planOfNotice(notice.message);
      if (plan) onPlan(plan);
    }),
  );
  for (const statement of autoExplainSettings(testSchema.schema)) {
    await sql.raw(statement).execute(explained.db);
  }
  return explained;
}
