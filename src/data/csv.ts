// CSV datasets: text parsed by csv-parse (its browser build, so the same
// code runs in a page), then turned into float32 features and class ids.
// Every problem is one DataError naming the file and the row (the line
// number in the file, 1-based, as an editor shows it) and the column.
// Browser-safe.

import { parse } from 'csv-parse/browser/esm/sync';
import { DataError, formatCount } from './errors.js';
import type { DatasetTensors } from './types.js';

export interface CsvOptions {
  /** The label column: header name or 0-based index; default the last column. */
  label?: string | number;
  /** Feature columns by name or index; default every column but the label. */
  features?: Array<string | number>;
  header: boolean;
  delimiter: string;
  task: 'classification' | 'regression';
  /** Declared number of classes (numeric labels must be below it). */
  classes?: number;
}

/** One CSV file's rows: the column names (from the header, else c0, c1, …) and each record with its line. */
export interface CsvTable { source: string; columns: string[]; rows: string[][]; lines: number[]; hasHeader: boolean }

/** Parse CSV text; a ragged row (a field count other than the first row's) is an error with its line. */
export function parseCsv(text: string, source: string, options: Pick<CsvOptions, 'header' | 'delimiter'>): CsvTable {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { delimiter: options.delimiter, relax_column_count: true, skip_empty_lines: true, trim: true, info: true, bom: true }) as unknown as typeof records;
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new DataError(source, `${source}${err.lines ? `: row ${err.lines}` : ''}: not valid CSV: ${err.message.replace(/^Invalid \w+: /, '')}`);
  }
  if (records.length === 0) throw new DataError(source, `${source}: the CSV file has no rows`);
  const width = records[0]!.record.length;
  for (const r of records) {
    if (r.record.length !== width) {
      throw new DataError(source, `${source}: row ${r.info.lines} has ${r.record.length} field${r.record.length === 1 ? '' : 's'}, the ${options.header ? 'header' : 'first row'} has ${width}`);
    }
  }
  const columns = options.header ? records[0]!.record : Array.from({ length: width }, (_, i) => `c${i}`);
  const body = options.header ? records.slice(1) : records;
  if (body.length === 0) throw new DataError(source, `${source}: the CSV file has a header but no data rows`);
  return { source, columns, rows: body.map((r) => r.record), lines: body.map((r) => r.info.lines), hasHeader: options.header };
}

/** A column by name or 0-based index, or a DataError listing the columns. */
function columnIndex(t: Pick<CsvTable, 'source' | 'columns' | 'hasHeader'>, col: string | number, what: string): number {
  if (typeof col === 'number') {
    if (col < 0 || col >= t.columns.length) throw new DataError(t.source, `${t.source}: the ${what} column index ${col} is out of range: the file has ${t.columns.length} columns (0..${t.columns.length - 1})`);
    return col;
  }
  const i = t.columns.indexOf(col);
  if (i < 0) throw new DataError(t.source, `${t.source}: no ${what} column '${col}'${t.hasHeader ? `; the columns are ${t.columns.join(', ')}` : ' (the file has no header: name columns by index)'}`);
  return i;
}

/** The label column and the feature columns (0-based) of a table, as the options name them. */
export function csvColumns(t: Pick<CsvTable, 'source' | 'columns' | 'hasHeader'>, o: Pick<CsvOptions, 'label' | 'features'>): { labelCol: number; featureCols: number[] } {
  const labelCol = columnIndex(t, o.label ?? t.columns.length - 1, 'label');
  const featureCols = o.features ? o.features.map((c) => columnIndex(t, c, 'feature')) : t.columns.map((_, i) => i).filter((i) => i !== labelCol);
  if (featureCols.length === 0) throw new DataError(t.source, `${t.source}: no feature columns: the file has only the label column`);
  if (featureCols.includes(labelCol)) throw new DataError(t.source, `${t.source}: column '${t.columns[labelCol]}' is both the label and a feature`);
  return { labelCol, featureCols };
}

/** The examples of a CSV table: float32 features, and class ids (or float targets for regression). */
export interface CsvExamples {
  data: DatasetTensors;
  featureNames: string[];
  /** Class names in id order when the labels are names (not numbers). */
  classNames?: string[];
  /** Regression: the label column as floats. */
  targets?: Float32Array;
}

export const isClassId = (v: string) => /^\d+$/.test(v) && Number(v) < 256;

/**
 * Turn a table into examples. `classNames` (the training set's mapping)
 * maps a test file's string labels to the same ids; a label it does not
 * hold is an error with its row.
 */
export function csvExamples(t: CsvTable, o: CsvOptions, classNames?: string[]): CsvExamples {
  const { labelCol, featureCols } = csvColumns(t, o);
  const n = t.rows.length, F = featureCols.length;
  const x = new Float32Array(n * F);
  for (let r = 0; r < n; r++) {
    const row = t.rows[r]!;
    for (let j = 0; j < F; j++) {
      const raw = row[featureCols[j]!]!;
      const v = raw === '' ? NaN : Number(raw);
      if (!Number.isFinite(v)) {
        throw new DataError(t.source, `${t.source}: row ${t.lines[r]}, column '${t.columns[featureCols[j]!]}': ${raw === '' ? 'empty' : `'${raw}' is not a number`} (features must be numbers)`);
      }
      x[r * F + j] = v;
    }
  }
  const labels = new Uint8Array(n);
  const raw = t.rows.map((row) => row[labelCol]!);
  let targets: Float32Array | undefined;
  let names = classNames;
  if (o.task === 'regression') {
    targets = new Float32Array(n);
    raw.forEach((v, r) => {
      const f = v === '' ? NaN : Number(v);
      if (!Number.isFinite(f)) throw new DataError(t.source, `${t.source}: row ${t.lines[r]}, column '${t.columns[labelCol]}': '${v}' is not a number (a regression target)`);
      targets![r] = f;
    });
  } else if (!names && raw.every(isClassId)) {
    raw.forEach((v, r) => {
      const id = Number(v);
      if (o.classes !== undefined && id >= o.classes) throw new DataError(t.source, `${t.source}: row ${t.lines[r]}: label ${id} is out of range for ${o.classes} classes (0..${o.classes - 1})`);
      labels[r] = id;
    });
  } else {
    names ??= [...new Set(raw)].sort();
    if (names.length > 256) throw new DataError(t.source, `${t.source}: ${formatCount(names.length)} distinct labels in column '${t.columns[labelCol]}'; at most 256 classes are supported`);
    if (o.classes !== undefined && names.length > o.classes) throw new DataError(t.source, `${t.source}: ${names.length} distinct labels in column '${t.columns[labelCol]}' (${names.join(', ')}), more than the ${o.classes} classes declared`);
    const ids = new Map(names.map((name, i) => [name, i]));
    raw.forEach((v, r) => {
      const id = ids.get(v);
      if (id === undefined) throw new DataError(t.source, `${t.source}: row ${t.lines[r]}: label '${v}' is not one of the training set's classes (${names!.join(', ')})`);
      labels[r] = id;
    });
  }
  const data: DatasetTensors = { images: new Uint8Array(x.buffer), labels, count: n, features: F, dtype: 'float32', shape: [F] };
  return { data, featureNames: featureCols.map((i) => t.columns[i]!), ...(names ? { classNames: names } : {}), ...(targets ? { targets } : {}) };
}
