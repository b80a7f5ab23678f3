// Which of the page's controls can be used follows from its state alone, so
// every panel calls this after changing the state rather than toggling
// buttons itself.

import { isBusy, session, state } from './state.js';
import { ui } from './ui.js';

export function updateButtons(): void {
  const busy = isBusy();
  ui.train.disabled = busy || !state.validation?.ok || !state.backend;
  ui.stop.disabled = !busy;
  ui.download.disabled = busy || !session.model;
  ui.downloadOnnx.disabled = busy || !session.model;
  ui.epochs.disabled = busy;
}
