/**
 * Annotation templates: `{{ $value }}`, `{{ $labels.instance }}`,
 * `{{ $rule }}`, with the formatting functions people use most in
 * Prometheus rules (`humanize`, `humanizePercentage`, `printf "%.2f"`).
 * A small language of our own rather than Go's text/template: what rules
 * need is substitution, and an unknown expression must fail when the rules
 * load, not when the alert fires.
 */

export interface TemplateContext {
  readonly value: number | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly rule: string;
}

export type CompiledTemplate = (context: TemplateContext) => string;

const EXPRESSION = /\{\{\s*(.*?)\s*\}\}/g;

type Piece = string | ((context: TemplateContext) => string);

/** Throws an Error naming the expression it cannot understand. */
export function compileTemplate(text: string): CompiledTemplate {
  const pieces: Piece[] = [];
  let last = 0;
  for (const match of text.matchAll(EXPRESSION)) {
    pieces.push(text.slice(last, match.index));
    pieces.push(compileExpression(match[1] as string));
    last = match.index + match[0].length;
  }
  pieces.push(text.slice(last));
  if (pieces.every((piece) => typeof piece === 'string')) return () => text;
  return (context) => pieces.map((piece) => (typeof piece === 'string' ? piece : piece(context))).join('');
}

function compileExpression(expression: string): (context: TemplateContext) => string {
  // `$value | humanize` and `humanize $value` both appear in real rule files.
  const piped = expression.split('|').map((part) => part.trim());
  let subject = piped[0] as string;
  const functions = piped.slice(1);
  const prefix = /^(humanize|humanizePercentage|printf\s+"[^"]*")\s+(\$.*)$/.exec(subject);
  if (prefix) {
    subject = prefix[2] as string;
    functions.unshift(prefix[1] as string);
  }
  const read = compileSubject(subject, expression);
  const formats = functions.map((name) => compileFormat(name, expression));
  return (context) => {
    const value = read(context);
    if (formats.length === 0) return typeof value === 'number' ? formatNumber(value) : value;
    return formats.reduce<string | number>((current, format) => format(current), value).toString();
  };
}

function compileSubject(subject: string, expression: string): (context: TemplateContext) => string | number {
  if (subject === '$value') return (context) => context.value ?? 'none';
  if (subject === '$rule') return (context) => context.rule;
  const label = /^\$labels\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(subject);
  if (label) {
    const name = label[1] as string;
    return (context) => context.labels[name] ?? '';
  }
  throw new Error(`unknown template expression {{ ${expression} }}: use $value, $rule or $labels.NAME`);
}

function compileFormat(name: string, expression: string): (value: string | number) => string {
  if (name === 'humanize') return (value) => (typeof value === 'number' ? humanize(value) : value);
  if (name === 'humanizePercentage') return (value) => (typeof value === 'number' ? `${formatNumber(value * 100)}%` : value);
  const printf = /^printf\s+"%\.(\d)f"$/.exec(name);
  if (printf) {
    const digits = Number(printf[1]);
    return (value) => (typeof value === 'number' ? value.toFixed(digits) : value);
  }
  throw new Error(`unknown template function "${name}" in {{ ${expression} }}: use humanize, humanizePercentage or printf "%.Nf"`);
}

/** Up to four significant decimals: 93.33333 → 93.3333, 12 → 12. */
function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

const PREFIXES = ['', 'k', 'M', 'G', 'T', 'P'];

/** Prometheus's humanize: 1234567 → 1.235M. */
export function humanize(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  let scaled = value;
  let index = 0;
  while (Math.abs(scaled) >= 1000 && index < PREFIXES.length - 1) {
    scaled /= 1000;
    index++;
  }
  return `${Number(scaled.toPrecision(4))}${PREFIXES[index] as string}`;
}
