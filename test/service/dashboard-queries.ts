/**
 * The PromQL of a Grafana dashboard, made runnable against Prometheus: every
 * panel target's expression (rows' nested panels included), with Grafana's
 * variables replaced by concrete values.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const dashboardFile = fileURLToPath(new URL('../../helm/tally/dashboards/tally.json', import.meta.url));

export interface DashboardTarget {
  /** Panel title and refId, to name a failing expression. */
  readonly where: string;
  readonly expr: string;
}

interface Panel {
  readonly title?: string;
  readonly panels?: readonly Panel[];
  readonly targets?: readonly { readonly refId?: string; readonly expr?: string; readonly hide?: boolean }[];
}

export interface Dashboard {
  readonly panels: readonly Panel[];
  readonly templating?: { readonly list: readonly { readonly name: string; readonly type: string; readonly definition?: string }[] };
}

export async function readDashboard(file = dashboardFile): Promise<Dashboard> {
  return JSON.parse(await readFile(file, 'utf8')) as Dashboard;
}

export function dashboardTargets(dashboard: Dashboard): DashboardTarget[] {
  const targets: DashboardTarget[] = [];
  const visit = (panels: readonly Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.hide === true || target.expr === undefined) continue;
        targets.push({ where: `"${panel.title ?? '(untitled)'}" ${target.refId ?? '?'}`, expr: target.expr });
      }
      visit(panel.panels ?? []);
    }
  };
  visit(dashboard.panels);
  return targets;
}

/**
 * Replaces `$name`, `${name}` and `${name:format}` by `values[name]`; throws
 * naming any variable left without a value (the query would not parse).
 */
export function substituteVariables(expr: string, values: Readonly<Record<string, string>>): string {
  const replaced = expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced: string | undefined, plain: string | undefined) => {
    const name = (braced ?? plain) as string;
    const value = values[name];
    if (value === undefined) throw new Error(`variable ${whole} in ${expr} has no value in the test; give one`);
    return value;
  });
  return replaced;
}
