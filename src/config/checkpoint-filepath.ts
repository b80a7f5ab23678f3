// model_checkpoint's filepath: Keras formats it with Python's str.format,
// given `epoch` (numbered from 1) and the epoch's logs, e.g.
// `ckpt/{epoch:02d}-{val_loss:.2f}.safetensors`. Tessera takes the subset
// people use: a field name, optionally `:0Nd` / `:Nd` for integers and
// `:.Nf` for fixed decimals. The config check (training-checks.ts)
// reports an unknown field or format at its line. Browser-safe.

const FIELD = /\{([^{}:]*)(?::([^{}]*))?\}/g;

export interface FilepathField { name: string; format: string | undefined }

export function filepathFields(path: string): FilepathField[] {
  return [...path.matchAll(FIELD)].map((m) => ({ name: m[1]!, format: m[2] }));
}

/** What is wrong with a filepath's fields (unknown names, formats Tessera does not take), or null. */
export function filepathProblem(path: string, names: readonly string[]): string | null {
  for (const f of filepathFields(path)) {
    if (f.name !== 'epoch' && !names.includes(f.name)) return `filepath field '{${f.name}}' names no log; expected epoch or one of: ${names.join(', ')}`;
    if (f.format !== undefined && !/^0?\d+d$|^\.\d+f$/.test(f.format)) return `filepath field '{${f.name}:${f.format}}': the format must be like 02d or .4f`;
  }
  return null;
}

function formatValue(value: number, format: string | undefined): string {
  if (format === undefined) return String(value);
  const f = /^\.(\d+)f$/.exec(format);
  if (f) return value.toFixed(Number(f[1]));
  const d = /^(0?)(\d+)d$/.exec(format)!;
  return String(Math.round(value)).padStart(Number(d[2]), d[1] ? '0' : ' ');
}

/** The path for one epoch (numbered from 1) and its logs. */
export function formatFilepath(path: string, epoch: number, logs: Record<string, number | undefined>): string {
  return path.replace(FIELD, (whole, name: string, format: string | undefined) => {
    const value = name === 'epoch' ? epoch : logs[name];
    return value === undefined ? whole : formatValue(value, format);
  });
}
