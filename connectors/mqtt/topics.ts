// Topic templates: `hospital/{site}/ward/{ward}/bed/{bed}/device/{deviceId}/{kind}` names the topic
// levels a source reads into the message's origin. A template is also a subscription: each `{name}`
// level becomes the MQTT single-level wildcard `+`.

export interface TopicTemplate {
  template: string;
  /** The MQTT subscription filter the template matches. */
  filter: string;
  /** Parameter name per topic level (undefined for literal levels). */
  names: Array<string | undefined>;
  literals: Array<string | undefined>;
}

const PARAM = /^\{([A-Za-z][A-Za-z0-9_]*)\}$/;

export function compileTopicTemplate(template: string): TopicTemplate {
  if (template.length === 0) throw new Error('topic template is empty');
  const levels = template.split('/');
  const names: Array<string | undefined> = [];
  const literals: Array<string | undefined> = [];
  const seen = new Set<string>();
  for (const [i, level] of levels.entries()) {
    const m = PARAM.exec(level);
    if (m) {
      if (seen.has(m[1])) throw new Error(`topic template "${template}": parameter {${m[1]}} appears twice`);
      seen.add(m[1]);
      names.push(m[1]);
      literals.push(undefined);
    } else {
      if (level.includes('{') || level.includes('}')) throw new Error(`topic template "${template}": level ${i + 1} "${level}" mixes text and a {parameter}`);
      if (level === '#' && i !== levels.length - 1) throw new Error(`topic template "${template}": # must be the last level`);
      names.push(undefined);
      literals.push(level);
    }
  }
  const filter = levels.map((l, i) => (names[i] ? '+' : l)).join('/');
  return { template, filter, names, literals };
}

/** The parameters a topic carries, or undefined when the topic does not match the template. */
export function matchTopic(compiled: TopicTemplate, topic: string): Record<string, string> | undefined {
  const levels = topic.split('/');
  const out: Record<string, string> = {};
  for (let i = 0; i < compiled.names.length; i++) {
    const literal = compiled.literals[i];
    if (literal === '#') return out;
    if (i >= levels.length) return undefined;
    const name = compiled.names[i];
    if (name) {
      if (levels[i] === '') return undefined;
      out[name] = levels[i];
    } else if (literal !== '+' && literal !== levels[i]) return undefined;
  }
  return levels.length === compiled.names.length ? out : undefined;
}

/** Fills a template's parameters (used to publish, e.g. `hospital/{site}/ward/{ward}/alerts`). */
export function fillTopic(template: string, values: Record<string, string | undefined>): string {
  return template.replace(/\{([A-Za-z][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined || v === '') throw new Error(`topic template "${template}" needs {${name}}`);
    if (/[+#/\u0000]/.test(v)) throw new Error(`topic parameter ${name}="${v}" contains a character MQTT topics cannot carry (+ # / NUL)`);
    return v;
  });
}

/** Whether an MQTT topic filter (with + and #) matches a topic name. */
export function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * matchTopic with a bounded cache: a device publishes on the same topic every time, so the split and
 * compare run once per device instead of once per message. The returned object is shared: do not modify.
 */
export class CachedTopicMatcher {
  private readonly cache = new Map<string, Readonly<Record<string, string>> | null>();

  constructor(
    readonly compiled: TopicTemplate,
    private readonly limit = 50_000,
  ) {}

  match(topic: string): Readonly<Record<string, string>> | undefined {
    let hit = this.cache.get(topic);
    if (hit === undefined) {
      hit = matchTopic(this.compiled, topic) ?? null;
      if (this.cache.size >= this.limit) this.cache.clear();
      this.cache.set(topic, hit);
    }
    return hit ?? undefined;
  }
}
