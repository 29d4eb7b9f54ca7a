import { z } from 'zod';
import { duration } from '../../../shared/config/schema.js';
import { ConfigError, formatPath, parseYaml, readConfigText, validateConfig, type ConfigProblem } from '../../../shared/config/load.js';
import { errorMessage } from '../../../shared/errors.js';
import { SEVERITY_LEVELS } from '../../processors/route/config.js';
import { parseMatcher, parseSelector } from './selector.js';
import { compileTemplate } from './template.js';

export const AGGREGATES = ['last', 'avg', 'min', 'max', 'sum', 'count', 'rate'] as const;
export type Aggregate = (typeof AGGREGATES)[number];
export const COMPARISONS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type Comparison = (typeof COMPARISONS)[number];

/** Validates with the parser the rule will use, so a bad string fails at load with the parser's reason. */
function checked(check: (text: string) => unknown) {
  return z
    .string()
    .min(1)
    .superRefine((text, ctx) => {
      try {
        check(text);
      } catch (error) {
        // The engine's message quotes the pattern (`/…/u: Unterminated group`); keep only the reason.
        ctx.addIssue({ code: 'custom', message: errorMessage(error).replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, 'invalid regular expression: ') });
      }
    });
}

const CONDITION = /^\s*(>=|<=|==|!=|>|<)\s*(-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*$/;

export function parseCondition(text: string): { op: Comparison; threshold: number } {
  const match = CONDITION.exec(text);
  if (!match) throw new Error('expected a comparison and a number such as "> 90" or "<= 0.5"');
  return { op: match[1] as Comparison, threshold: Number(match[2]) };
}

const ALERT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const alertRuleSchema = z
  .strictObject({
    /** The alert's name: the `alertname` label in Alertmanager. */
    alert: z.string().regex(ALERT_NAME, 'alert names are letters, digits and _ (they become the alertname label)'),
    /** Metric records: a Prometheus series selector, e.g. `node_load1{job="node"}`. */
    metric: checked(parseSelector).optional(),
    /** Log records: every condition given must hold. */
    logs: z
      .strictObject({
        severity_at_least: z.enum(SEVERITY_LEVELS).optional(),
        /** Matchers on attributes, then resource attributes: `service.name="checkout"`, `http.route=~"/api/.*"`. */
        match: z.array(checked(parseMatcher)).default([]),
        body_contains: z.string().min(1).optional(),
        body_regex: checked((pattern) => new RegExp(pattern, 'u')).optional(),
      })
      .optional(),
    /** Log rules: a numeric attribute to aggregate instead of counting lines (e.g. `http.response_time_ms`). */
    value_from: z.string().min(1).optional(),
    /** How samples in the window become one value. Default: `last` for metrics, `count` for logs. */
    aggregate: z.enum(AGGREGATES).optional(),
    /** The window the aggregate covers; a multiple of the group's interval. Default: the interval. */
    window: duration({ min: 1 }).optional(),
    /** `sliding`: evaluated every interval over the last window; `tumbling`: once per window, windows not overlapping. */
    window_type: z.enum(['sliding', 'tumbling']).default('sliding'),
    /** Attributes whose values make one alert each; metrics default to every label of the series, logs to one alert. */
    group_by: z.array(z.string().min(1)).optional(),
    /** `> 90`: the alert's condition on the aggregated value. */
    condition: checked(parseCondition).optional(),
    /** Fire for a group (series, source) that reported before and has no data in the window. */
    absent: z.boolean().default(false),
    for: duration().default(0),
    keep_firing_for: duration().default(0),
    severity: z.string().min(1).default('warning'),
    labels: z.record(z.string().regex(LABEL_NAME, 'label names are letters, digits and _'), z.string()).default({}),
    annotations: z.record(z.string(), checked(compileTemplate)).default({}),
  })
  .superRefine((rule, ctx) => {
    if ((rule.metric === undefined) === (rule.logs === undefined)) ctx.addIssue({ code: 'custom', message: 'a rule needs exactly one of metric or logs' });
    if (rule.absent === (rule.condition !== undefined)) ctx.addIssue({ code: 'custom', message: 'a rule needs exactly one of condition or absent: true' });
    if (rule.value_from !== undefined && rule.logs === undefined)
      ctx.addIssue({ code: 'custom', path: ['value_from'], message: 'value_from is for log rules; metric rules aggregate the sample value' });
    if (rule.logs !== undefined && rule.value_from === undefined && rule.aggregate !== undefined && !['count', 'rate'].includes(rule.aggregate))
      ctx.addIssue({ code: 'custom', path: ['aggregate'], message: `log rules count lines (count, rate); ${rule.aggregate} needs value_from` });
    if (rule.absent && rule.aggregate !== undefined)
      ctx.addIssue({ code: 'custom', path: ['aggregate'], message: 'absent rules have no aggregate: they fire on no data' });
  });

export const ruleGroupSchema = z.strictObject({
  name: z.string().min(1),
  /** How often rules are evaluated, and the time resolution of their windows. */
  interval: duration({ min: 1 }).default(10_000),
  rules: z.array(alertRuleSchema).min(1),
});

export const rulesFileSchema = z.strictObject({ groups: z.array(ruleGroupSchema).min(1) }).superRefine((file, ctx) => {
  const groups = new Set<string>();
  file.groups.forEach((group, groupIndex) => {
    if (groups.has(group.name)) ctx.addIssue({ code: 'custom', path: ['groups', groupIndex, 'name'], message: `duplicate group name "${group.name}"` });
    groups.add(group.name);
    if (group.interval < 1000) ctx.addIssue({ code: 'custom', path: ['groups', groupIndex, 'interval'], message: 'the interval must be at least 1s' });
    const names = new Set<string>();
    group.rules.forEach((rule, ruleIndex) => {
      const path = ['groups', groupIndex, 'rules', ruleIndex];
      if (names.has(rule.alert))
        ctx.addIssue({ code: 'custom', path: [...path, 'alert'], message: `duplicate alert "${rule.alert}" in group "${group.name}"` });
      names.add(rule.alert);
      // Windows are made of interval-long slices, so partial aggregates from many collectors add up exactly.
      if (rule.window !== undefined && (rule.window < group.interval || rule.window % group.interval !== 0))
        ctx.addIssue({ code: 'custom', path: [...path, 'window'], message: `the window must be a multiple of the group's interval (${group.interval} ms)` });
    });
  });
});

export type RulesFile = z.output<typeof rulesFileSchema>;
export type RuleGroupConfig = z.output<typeof ruleGroupSchema>;
export type AlertRuleConfig = z.output<typeof alertRuleSchema>;

/**
 * Names the rule in every problem under `groups[i].rules[j]`, so a mistake in
 * a file of hundreds of rules says which one: `groups[0].rules[3].window
 * (alert "HighCpu" in group "node")`.
 */
function withRuleNames(problems: readonly ConfigProblem[], document: unknown): ConfigProblem[] {
  const groups = (document as { groups?: unknown } | null)?.groups;
  return problems.map((problem) => {
    const match = /^groups\[(\d+)\](?:\.rules\[(\d+)\])?/.exec(problem.path);
    if (!match || !Array.isArray(groups)) return problem;
    const group = groups[Number(match[1])] as { name?: unknown; rules?: unknown } | undefined;
    const groupName = typeof group?.name === 'string' ? `group "${group.name}"` : `group #${Number(match[1]) + 1}`;
    if (match[2] === undefined) return { path: `${problem.path} (${groupName})`, message: problem.message };
    const rule = Array.isArray(group?.rules) ? (group.rules[Number(match[2])] as { alert?: unknown } | undefined) : undefined;
    const ruleName = typeof rule?.alert === 'string' ? `alert "${rule.alert}"` : `rule #${Number(match[2]) + 1}`;
    return { path: `${problem.path} (${ruleName} in ${groupName})`, message: problem.message };
  });
}

/** Validates a parsed rules document; throws ConfigError naming the file, the key path and the rule. */
export function validateRules(document: unknown, file: string): RulesFile {
  try {
    return validateConfig(rulesFileSchema, document, file);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(file, withRuleNames(error.problems, document));
    throw error;
  }
}

export async function loadRulesFile(file: string): Promise<RulesFile> {
  return validateRules(parseYaml(await readConfigText(file, 'rules file'), file), file);
}

/** Several files make one rule set; a group name may appear only once across them. */
export async function loadRulesFiles(files: readonly string[]): Promise<RulesFile> {
  const loaded = await Promise.all(files.map(async (file) => ({ file, rules: await loadRulesFile(file) })));
  const seen = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  for (const { file, rules } of loaded) {
    rules.groups.forEach((group, index) => {
      const other = seen.get(group.name);
      if (other !== undefined) problems.push({ path: formatPath(['groups', index, 'name']), message: `group "${group.name}" is also defined in ${other}` });
      seen.set(group.name, file);
    });
    if (problems.length > 0) throw new ConfigError(file, problems);
  }
  return { groups: loaded.flatMap(({ rules }) => rules.groups) };
}
