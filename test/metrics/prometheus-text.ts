/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), line by line, so
 * a test fails on anything a Prometheus server would refuse: a sample before its TYPE, a
 * bad name or label, an unescaped quote, a value that is not a float, a histogram whose
 * buckets are not cumulative or whose +Inf bucket differs from its count.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text))
    throw new Error(`bad value "${text}" in: ${line}`);
  return Number(text);
}

/** Parses `{a="1",b="x\"y"}` from `text` at index 0; returns the labels and the rest. */
function parseLabels(text: string, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  while (text[i] !== '}') {
    const eq = text.indexOf('=', i);
    if (eq === -1) throw new Error(`bad labels in: ${line}`);
    const name = text.slice(i, eq);
    if (!LABEL.test(name) || Object.hasOwn(labels, name))
      throw new Error(`bad label name "${name}" in: ${line}`);
    if (text[eq + 1] !== '"') throw new Error(`unquoted label value in: ${line}`);
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const next = text[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`bad escape in: ${line}`);
      } else value += text[j];
    }
    if (j >= text.length) throw new Error(`unterminated label value in: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`bad label separator in: ${line}`);
  }
  return { labels, rest: text.slice(i + 1) };
}

export function parsePrometheusText(body: string): Map<string, Family> {
  const families = new Map<string, Family>();
  if (body !== '' && !body.endsWith('\n')) throw new Error('the exposition must end with a newline');
  for (const line of body.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!match) continue; // a plain comment
      const [, keyword, name, rest] = match as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      const family = families.get(name) ?? { type: 'untyped', help: '', samples: [] };
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`bad type in: ${line}`);
        if (family.samples.length > 0) throw new Error(`TYPE after samples in: ${line}`);
        family.type = rest as Family['type'];
      } else family.help = rest;
      families.set(name, family);
      continue;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`bad sample: ${line}`);
    const name = line.slice(0, nameEnd);
    if (!NAME.test(name)) throw new Error(`bad sample name in: ${line}`);
    let rest = line.slice(nameEnd);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, line));
    const parts = rest.trim().split(' ');
    if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2) throw new Error(`bad sample: ${line}`);
    const value = parseValue(parts[0]!, line);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`bad timestamp in: ${line}`);
    const family = [...families.entries()].find(
      ([base, f]) => name.startsWith(base) && SUFFIXES[f.type]!.includes(name.slice(base.length)),
    );
    if (!family) throw new Error(`sample without a TYPE: ${line}`);
    family[1].samples.push({ name, labels, value });
  }
  for (const [name, family] of families) {
    if (family.type === 'counter' && !name.endsWith('_total'))
      throw new Error(`counter ${name} lacks _total`);
    if (family.type === 'histogram') checkHistogram(name, family);
  }
  return families;
}

function checkHistogram(name: string, family: Family): void {
  const series = new Map<string, Sample[]>();
  const keyOf = (labels: Record<string, string>) =>
    JSON.stringify(
      Object.entries(labels)
        .filter(([key]) => key !== 'le')
        .sort(),
    );
  for (const sample of family.samples) {
    const key = keyOf(sample.labels);
    series.set(key, [...(series.get(key) ?? []), sample]);
  }
  for (const samples of series.values()) {
    const buckets = samples.filter((sample) => sample.name === `${name}_bucket`);
    const count = samples.find((sample) => sample.name === `${name}_count`);
    if (!count || !samples.some((sample) => sample.name === `${name}_sum`))
      throw new Error(`${name}: no _sum or _count`);
    let previous = Number.NEGATIVE_INFINITY;
    let previousCount = 0;
    for (const bucket of buckets) {
      const le = parseValue(bucket.labels.le ?? '', `${name} le`);
      if (!(le > previous) || bucket.value < previousCount)
        throw new Error(`${name}: buckets not cumulative`);
      previous = le;
      previousCount = bucket.value;
    }
    if (previous !== Number.POSITIVE_INFINITY || previousCount !== count.value) {
      throw new Error(`${name}: the +Inf bucket must equal _count`);
    }
  }
}

/** The value of one sample: the family's sample with exactly these labels (0 when absent, for counters). */
export function sampleValue(
  families: Map<string, Family>,
  sampleName: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const family of families.values()) {
    const sample = family.samples.find(
      (candidate) =>
        candidate.name === sampleName &&
        Object.keys(candidate.labels).length === Object.keys(labels).length &&
        Object.entries(labels).every(([key, value]) => candidate.labels[key] === value),
    );
    if (sample) return sample.value;
  }
  return undefined;
}
