// Turns ajv's errors into messages a model author can act on: which key,
// in which part of the model, what was expected and what was found.
// Browser-safe.

import type { ErrorObject } from 'ajv';
import type { ConfigErrorCode } from './errors.js';
import type { Target } from './locate.js';
import { suggest } from './suggest.js';

/** A schema problem before it is given a file position. */
export interface SchemaIssue {
  path: (string | number)[];
  target: Target;
  code: ConfigErrorCode;
  message: string;
  expected?: string;
  found?: string;
  hint?: string;
  /** For unknown/missing keys: the key concerned, and the did-you-mean key if any. */
  key?: string;
  suggestion?: string;
}

type Json = unknown;
type SchemaObj = Record<string, any>;

/** '/layers/1/units' -> ['layers', 1, 'units'] */
export function parsePointer(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Value at a path in the parsed data. */
function get(data: Json, path: readonly (string | number)[]): Json {
  let v: any = data;
  for (const seg of path) v = v == null ? undefined : v[seg];
  return v;
}

/** How a value reads in a message: `"many"`, `1.5`, `a list`. */
export function describe(v: Json): string {
  if (v === null || v === undefined) return 'an empty value';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  null: 'empty',
};

/** The name of the mapping at `path`, for "unknown key 'x' in <where>". */
function placeName(data: Json, path: readonly (string | number)[]): string {
  if (path.length === 0) return 'the model';
  const [head, index] = path;
  if (head === 'layers' && typeof index === 'number' && path.length === 2) {
    const type = get(data, path.concat('type'));
    return typeof type === 'string' && ['flatten', 'dense', 'dropout'].includes(type) ? `${type} layer` : 'layer';
  }
  return path.map((s) => (typeof s === 'number' ? `[${s}]` : s)).join('.').replace(/\.\[/g, '[');
}

/** What a list entry with a `type` is, for messages: a layer, or a callback (training.callbacks). */
function entryNoun(path: readonly (string | number)[]): string {
  if (path[0] === 'optimizer') return path[1] === 'learning_rate' ? 'learning-rate schedule' : 'optimizer';
  return path[0] === 'training' && path[1] === 'callbacks' ? 'callback' : 'layer';
}

/** The name of the value at `path`: 'units', 'input_shape[1]'. */
function keyName(path: readonly (string | number)[]): string {
  let name = '';
  for (const seg of path) name = typeof seg === 'number' ? `${name}[${seg}]` : seg;
  return name || 'the model';
}

/** 'loss type', 'activation', 'metric': what an enum value names. */
function enumLabel(path: readonly (string | number)[]): string {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  if (typeof last === 'number' && typeof parent === 'string') return parent.replace(/s$/, '');
  if (last === 'type' && typeof parent === 'string') return `${parent} type`;
  if (last === 'name' && typeof parent === 'string') return `${parent} name`;
  return String(last);
}

/** Bounds of a number schema as text: '>= 0 and < 1'. */
function rangeText(schema: SchemaObj): string {
  const parts: string[] = [];
  if (schema.minimum !== undefined) parts.push(`>= ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) parts.push(`> ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined) parts.push(`<= ${schema.maximum}`);
  if (schema.exclusiveMaximum !== undefined) parts.push(`< ${schema.exclusiveMaximum}`);
  return parts.join(' and ');
}

function withSuggestion(found: string, allowed: string[]): string {
  const s = suggest(found, allowed);
  return s ? `; did you mean '${s}'?` : '';
}

/** "'learning_rate' belongs under 'optimizer'" when the unknown key is a key of a nested mapping. */
function homeOf(key: string, parent: SchemaObj, rootSchema: SchemaObj): string | undefined {
  for (const [prop, sub] of Object.entries<SchemaObj>(parent.properties ?? {})) {
    const s = deref(rootSchema, sub);
    // A mapping whose keys depend on its type (optimizer): any of its variants.
    const variants = [s, ...((s.oneOf ?? []) as SchemaObj[]).map((v) => deref(rootSchema, v))];
    if (variants.some((v) => v.properties?.[key])) return `'${key}' belongs under '${prop}'`;
  }
  return undefined;
}

/** Resolves a local '#/definitions/x' reference. */
function deref(root: SchemaObj, s: SchemaObj): SchemaObj {
  if (typeof s.$ref !== 'string') return s;
  return s.$ref.slice(2).split('/').reduce((o: any, k: string) => o?.[k], root) ?? {};
}

/**
 * One ajv error (compiled with `verbose: true`, so `data` and
 * `parentSchema` are present) as a SchemaIssue, or undefined for errors
 * that another error already explains.
 */
export function describeAjvError(err: ErrorObject, data: Json, rootSchema: SchemaObj): SchemaIssue | undefined {
  const path = parsePointer(err.instancePath);
  const parent = (err.parentSchema ?? {}) as SchemaObj;
  const value = err.data;
  const name = keyName(path);
  const p = err.params as Record<string, any>;

  switch (err.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const allowed = Object.keys(parent.properties ?? {});
      const s = suggest(key, allowed);
      return {
        path: path.concat(key),
        target: 'key',
        code: 'unknown-key',
        message: `unknown key '${key}' in ${placeName(data, path)}${s ? `; did you mean '${s}'?` : ''}`,
        expected: `one of the keys ${allowed.join(', ')}`,
        found: `'${key}'`,
        hint: s ? undefined : (homeOf(key, parent, rootSchema) ?? `allowed keys here: ${allowed.join(', ')}`),
        key,
        suggestion: s,
      };
    }
    case 'required': {
      const key = String(p.missingProperty);
      const desc: string | undefined = deref(rootSchema, parent.properties?.[key] ?? {}).description;
      return {
        path,
        target: 'entry',
        code: 'missing-key',
        message: `${placeName(data, path)} is missing the required key '${key}'`,
        expected: `key '${key}'`,
        found: 'no such key',
        hint: desc ? `${key}: ${desc}` : undefined,
        key,
      };
    }
    case 'type': {
      if (path.length === 0) {
        return {
          path,
          target: 'value',
          code: 'type',
          message: `a model file must be a YAML mapping of keys (name: ..., layers: ...), found ${describe(value)}`,
          expected: 'a mapping',
          found: describe(value),
          hint: 'start from models/mnist.yaml',
        };
      }
      const want = String(p.type)
        .split(',')
        .map((t) => TYPE_WORDS[t] ?? t)
        .join(' or ');
      return {
        path,
        target: 'value',
        code: 'type',
        message: `'${name}' must be ${want}, found ${describe(value)}`,
        expected: want,
        found: describe(value),
      };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const range = rangeText(parent);
      return { path, target: 'value', code: 'range', message: `'${name}' must be ${range}, found ${value}`, expected: range, found: String(value) };
    }
    case 'minItems':
    case 'maxItems': {
      const want = err.keyword === 'minItems' ? `at least ${p.limit}` : `at most ${p.limit}`;
      const items = `${want} item${p.limit === 1 ? '' : 's'}`;
      const n = Array.isArray(value) ? value.length : 0;
      return { path, target: 'entry', code: 'range', message: `'${name}' must have ${items}, found ${n}`, expected: items, found: String(n) };
    }
    case 'minLength':
      return { path, target: 'value', code: 'range', message: `'${name}' must not be empty`, expected: 'a non-empty string', found: 'an empty string' };
    case 'uniqueItems': {
      // Point at the later copy (ajv's i/j order depends on the item type).
      const later = Math.max(p.i as number, p.j as number);
      const item = Array.isArray(value) ? value[later] : undefined;
      return {
        path: path.concat(later),
        target: 'value',
        code: 'schema',
        message: `'${name}' lists ${JSON.stringify(item)} more than once`,
        expected: 'each item once',
        found: `${JSON.stringify(item)} twice`,
      };
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map(String);
      const found = typeof value === 'string' ? `'${value}'` : describe(value);
      return {
        path,
        target: 'value',
        code: 'enum',
        message: `unknown ${enumLabel(path)} ${found}; expected one of: ${allowed.join(', ')}${typeof value === 'string' ? withSuggestion(value, allowed) : ''}`,
        expected: `one of: ${allowed.join(', ')}`,
        found,
      };
    }
    case 'const':
      return {
        path,
        target: 'value',
        code: 'enum',
        message: `'${name}' must be ${JSON.stringify(p.allowedValue)}, found ${describe(value)}`,
        expected: JSON.stringify(p.allowedValue),
        found: describe(value),
        hint: name === 'from_logits' ? "Tessera's loss always applies the softmax itself: end the model with a linear dense layer" : undefined,
      };
    case 'discriminator': {
      const tagPath = path.concat(String(p.tag));
      const tag = get(data, tagPath);
      if (tag === undefined) {
        const allowed = ((parent.oneOf ?? []) as SchemaObj[]).map((s) => String(deref(rootSchema, s).properties?.[p.tag]?.const));
        return {
          path,
          target: 'entry',
          code: 'missing-key',
          message: `${entryNoun(path)} is missing the required key '${p.tag}'`,
          expected: `key '${p.tag}'`,
          found: 'no such key',
          hint: `${p.tag}: one of ${allowed.join(', ')}`,
          key: String(p.tag),
        };
      }
      if (p.error === 'tag') {
        return { path: tagPath, target: 'value', code: 'type', message: `'${p.tag}' must be a string, found ${describe(tag)}`, expected: 'a string', found: describe(tag) };
      }
      const allowed = ((parent.oneOf ?? []) as SchemaObj[]).map((s) => String(deref(rootSchema, s).properties?.[p.tag]?.const));
      return {
        path: tagPath,
        target: 'value',
        code: 'enum',
        message: `unknown ${entryNoun(path)} type '${tag}'; expected one of: ${allowed.join(', ')}${withSuggestion(String(tag), allowed)}`,
        expected: `one of: ${allowed.join(', ')}`,
        found: `'${tag}'`,
      };
    }
    case 'pattern': {
      const desc: string | undefined = parent.description;
      return {
        path,
        target: 'value',
        code: 'schema',
        message: `'${name}' has characters that are not allowed, found ${describe(value)}`,
        expected: `a string matching ${p.pattern}`,
        found: describe(value),
        hint: desc,
      };
    }
    default:
      return { path, target: 'value', code: 'schema', message: `'${name}' ${err.message ?? 'is invalid'}` };
  }
}

/**
 * Converts all of ajv's errors, dropping the ones that repeat another:
 * - a missing key that a misspelt key right there already suggests
 *   ("unknown key 'unts'; did you mean 'units'?" says it all);
 * - a type error next to an enum error on the same value (the enum error
 *   lists the allowed values, which says more);
 * - a oneOf error when one of its branches reported something inside it.
 */
export function describeAjvErrors(errors: readonly ErrorObject[], data: Json, rootSchema: SchemaObj): SchemaIssue[] {
  const keyword = new Map<SchemaIssue, string>();
  const issues = errors.flatMap((e) => {
    const i = describeAjvError(e, data, rootSchema);
    if (i) keyword.set(i, e.keyword);
    return i ? [i] : [];
  });
  const err = (i: SchemaIssue) => keyword.get(i);
  const at = (i: SchemaIssue) => JSON.stringify(i.path);
  const suggested = new Set(
    issues.filter((i) => i.code === 'unknown-key' && i.suggestion).map((i) => `${JSON.stringify(i.path.slice(0, -1))}|${i.suggestion}`),
  );
  const enumPaths = new Set(issues.filter((i) => i.code === 'enum').map(at));
  // "must match exactly one schema in oneOf" only repeats what its branches' errors say more precisely.
  const within = (outer: SchemaIssue, inner: SchemaIssue) => inner !== outer && outer.path.every((k, n) => inner.path[n] === k);
  const branchReported = (i: SchemaIssue) => err(i) === 'oneOf' && issues.some((o) => err(o) !== 'oneOf' && within(i, o));
  const seen = new Set<string>();
  const kept = issues.filter((i) => {
    if (i.code === 'missing-key' && suggested.has(`${at(i)}|${i.key}`)) return false;
    if (i.code === 'type' && enumPaths.has(at(i))) return false;
    if (branchReported(i)) return false;
    // A number given where a number or a mapping may go (learning_rate): the mapping branch's type complaint is noise next to the number branch's.
    if (i.code === 'type' && typeof get(data, i.path) !== 'object' && issues.some((o) => o !== i && o.code !== 'type' && err(o) !== 'oneOf' && at(o) === at(i))) return false;
    // A mapping given where a name or a mapping may go: the name branch's complaint is noise when the mapping branch said what is wrong inside it.
    if ((i.code === 'enum' || i.code === 'type') && typeof get(data, i.path) === 'object' && issues.some((o) => o.path.length > i.path.length && within(i, o))) return false;
    const key = `${at(i)}|${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return mergeMissingKeys(kept);
}

/** Several keys missing from one mapping make one error ("... missing the required keys 'seed', 'layers'"). */
function mergeMissingKeys(issues: SchemaIssue[]): SchemaIssue[] {
  const groups = new Map<string, SchemaIssue[]>();
  for (const i of issues) {
    if (i.code !== 'missing-key') continue;
    const k = JSON.stringify(i.path);
    groups.set(k, [...(groups.get(k) ?? []), i]);
  }
  return issues.flatMap((i) => {
    const group = i.code === 'missing-key' ? groups.get(JSON.stringify(i.path))! : [i];
    if (group.length === 1) return [i];
    if (group[0] !== i) return [];
    const keys = group.map((g) => `'${g.key}'`).join(', ');
    return [{ ...i, message: i.message.replace(/the required key '[^']*'$/, `the required keys ${keys}`), expected: `keys ${keys}`, hint: undefined, key: undefined }];
  });
}
