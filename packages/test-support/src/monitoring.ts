import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const INFRA = path.resolve(__dirname, '../../../infra');

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function alertRules(): AlertRule[] {
  const file = parse(readFileSync(path.join(INFRA, 'prometheus/alerts.yml'), 'utf8'));
  return file.groups.flatMap((group: { rules: AlertRule[] }) => group.rules);
}

/** The PromQL expressions of the Grafana dashboard's panels. */
export function dashboardQueries(): string[] {
  const dashboard = JSON.parse(
    readFileSync(path.join(INFRA, 'grafana/dashboards/mystery-match.json'), 'utf8'),
  );
  return dashboard.panels.flatMap((panel: { targets: { expr: string }[] }) =>
    panel.targets.map((target) => target.expr),
  );
}

/**
 * The metric families a PromQL expression reads (ours and prom-client's defaults), with a
 * histogram's `_bucket`/`_count`/`_sum` suffix taken off.
 */
export function metricFamilies(expr: string): string[] {
  const names = expr.match(/\b(?:mm|nodejs|process)_[a-z0-9_]+/g) ?? [];
  return [...new Set(names.map((name) => name.replace(/_(bucket|count|sum)$/, '')))];
}
