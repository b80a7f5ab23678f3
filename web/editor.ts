// The model editor: a textarea with line numbers, validated as you type
// (150 ms after the last key), errors and warnings listed with line:column
// (click one to jump there), and the layer table of a valid model.

import * as tessera from '../src/browser.js';
import type { ConfigError, ValidationResult } from '../src/browser.js';
import { updateButtons } from './buttons.js';
import { options, state } from './state.js';
import { dataFileNames, isTabular, pageData } from './user-data.js';
import { escapeHtml, ui } from './ui.js';

/** The result of the last validation (the backend choice and the model read it). */
export let lastResult: ValidationResult | null = null;

function renderGutter(errorLines: Set<number>): void {
  const n = ui.yaml.value.split('\n').length;
  let html = '';
  for (let i = 1; i <= n; i++) html += errorLines.has(i) ? `<span class="err">${i}</span>\n` : `${i}\n`;
  ui.gutter.innerHTML = html;
  ui.gutter.scrollTop = ui.yaml.scrollTop;
}

function jumpTo(line: number, column: number): void {
  const lines = ui.yaml.value.split('\n');
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
  const lineText = lines[line - 1] ?? '';
  const start = offset + Math.max(0, Math.min(column - 1, lineText.length));
  ui.yaml.focus();
  ui.yaml.setSelectionRange(start, offset + lineText.length);
  const lineHeight = parseFloat(getComputedStyle(ui.yaml).lineHeight) || 18;
  ui.yaml.scrollTop = Math.max(0, (line - 1) * lineHeight - ui.yaml.clientHeight / 3);
  ui.gutter.scrollTop = ui.yaml.scrollTop;
}

function renderDiagnostics(list: ConfigError[], kind: 'error' | 'warning'): HTMLLIElement[] {
  return list.map((e) => {
    const li = document.createElement('li');
    li.className = kind;
    li.dataset.line = String(e.line);
    li.dataset.column = String(e.column);
    const where = document.createElement('span');
    where.className = 'where';
    where.textContent = e.line > 0 ? `${e.line}:${e.column}` : kind;
    li.append(where, document.createTextNode(e.message));
    if (e.hint) {
      const hint = document.createElement('span');
      hint.className = 'hint';
      hint.textContent = e.hint;
      li.append(hint);
    }
    li.title = tessera.formatConfigError(e);
    if (e.line > 0) li.addEventListener('click', () => jumpTo(e.line, e.column));
    return li;
  });
}

/** A whole-file error of the page's data (a bad or missing file), shown like a YAML error without a line. */
function dataError(file: string, message: string, warnings: ConfigError[]): ValidationResult {
  return { ok: false, errors: [{ file, line: 0, column: 0, message, code: 'file', severity: 'error' }], warnings };
}

/**
 * The model text validated, and for format csv or npz validated again
 * against the page's data file (its feature count and classes, as
 * `tessera validate --data` does): a bad file is the one error, naming it.
 */
function validateWithData(text: string, file: string): ValidationResult {
  const first = tessera.validateModelConfig(text, file);
  if (!first.ok || !isTabular(first.spec)) {
    state.data = null;
    return first;
  }
  const outcome = pageData(first.spec);
  if ('missing' in outcome) {
    state.data = null;
    return dataError(file, `format ${first.spec.dataset.format}: no data file yet: ${outcome.missing}`, first.warnings);
  }
  if ('error' in outcome) {
    state.data = null;
    return dataError(file, outcome.error.message, first.warnings);
  }
  const { data } = outcome;
  state.data = { files: dataFileNames(), train: data.train.count, test: data.test.count, inputShape: data.facts.inputShape, classes: data.facts.classes };
  return tessera.validateModelConfig(text, file, { data: data.facts });
}

/** Validates the editor's text (and the page's data, for csv and npz models) and shows the result. */
export function validate(): ValidationResult {
  const result = validateWithData(ui.yaml.value, `${options.model}.yaml`);
  lastResult = result;
  const errors = result.ok ? [] : result.errors;
  state.validation = { ok: result.ok, errors: errors.map((e) => ({ line: e.line, column: e.column, message: e.message, code: e.code })) };
  ui.errors.replaceChildren(...renderDiagnostics(errors, 'error'), ...renderDiagnostics(result.warnings, 'warning'));
  renderGutter(new Set(errors.map((e) => e.line)));
  ui.modelStatus.textContent = result.ok ? 'valid' : tessera.countErrors(errors.length);
  ui.modelStatus.className = `pill ${result.ok ? 'ok' : 'bad'}`;
  if (result.ok) {
    // A layer that does not simply take the one above shows its edges (the page's form of "Connected to").
    const edges = (l: (typeof result.layers)[number], i: number) =>
      l.inputs.length === 1 && l.inputs[0] === (i === 0 ? 'input' : result.layers[i - 1]!.name) ? '' : ` <span class="muted">← ${escapeHtml(l.inputs.join(', '))}</span>`;
    const rows = result.layers.map((l, i) => `<tr><td>${escapeHtml(l.name)} <span class="muted">${escapeHtml(l.type)}</span>${edges(l, i)}</td><td>[${l.outputShape.join(', ')}]</td><td>${l.params.toLocaleString('en-US')}</td></tr>`);
    const total = result.layers.reduce((a, l) => a + l.params, 0);
    ui.layers.tBodies[0].innerHTML = rows.join('');
    ui.layers.querySelector('tfoot')?.remove();
    ui.layers.insertAdjacentHTML('beforeend', `<tfoot><tr><td>total</td><td></td><td>${total.toLocaleString('en-US')}</td></tr></tfoot>`);
    ui.layers.hidden = false;
    // The epochs field follows the YAML until someone types in it.
    if (!ui.epochs.value || ui.epochs.dataset.auto === '1') {
      ui.epochs.value = String(options.epochs ?? result.spec.training.epochs);
      ui.epochs.dataset.auto = '1';
    }
  } else {
    ui.layers.hidden = true;
  }
  updateButtons();
  return result;
}

export function installEditor(): void {
  let validateTimer = 0;
  ui.yaml.addEventListener('input', () => {
    renderGutter(new Set(state.validation?.errors.map((e) => e.line) ?? []));
    clearTimeout(validateTimer);
    validateTimer = window.setTimeout(validate, 150);
  });
  ui.yaml.addEventListener('scroll', () => { ui.gutter.scrollTop = ui.yaml.scrollTop; });
  ui.yaml.addEventListener('keydown', (ev) => {
    // Tab inserts two spaces (YAML has no tabs for indentation).
    if (ev.key === 'Tab' && !ev.shiftKey && !ev.ctrlKey && !ev.metaKey) {
      ev.preventDefault();
      ui.yaml.setRangeText('  ', ui.yaml.selectionStart, ui.yaml.selectionEnd, 'end');
      ui.yaml.dispatchEvent(new Event('input'));
    }
  });
  ui.epochs.addEventListener('input', () => { ui.epochs.dataset.auto = '0'; });
}
