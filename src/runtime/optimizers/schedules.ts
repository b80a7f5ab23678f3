// Learning-rate schedules (Keras 3 keras.optimizers.schedules), evaluated
// in float64 on the host for each optimizer step (0-based: the number of
// updates already applied, Keras's `optimizer.iterations`). Every backend
// takes the rate of each step from learningRateAt, so they agree exactly.
// Browser-safe.

import type { LearningRateSchedule } from '../../config/types.js';

/** The rate of a schedule at optimizer step `step` (Keras's formulas). */
export function scheduleRate(s: LearningRateSchedule, step: number): number {
  switch (s.type) {
    case 'exponential_decay': {
      // initial · rate^(step / decay_steps), the exponent floored when staircase.
      const p = step / s.decay_steps;
      return s.initial_learning_rate * Math.pow(s.decay_rate, s.staircase ? Math.floor(p) : p);
    }
    case 'cosine_decay': {
      const decay = (t: number, from: number) => {
        const cosine = 0.5 * (1 + Math.cos(Math.PI * (t / s.decay_steps)));
        return from * ((1 - s.alpha) * cosine + s.alpha);
      };
      if (s.warmup_target === undefined) return decay(Math.min(step, s.decay_steps), s.initial_learning_rate);
      // Linear warmup from initial_learning_rate to warmup_target, then the cosine decay from warmup_target.
      const t = Math.min(step, s.decay_steps + s.warmup_steps);
      if (t < s.warmup_steps) return (s.warmup_target - s.initial_learning_rate) * (t / s.warmup_steps) + s.initial_learning_rate;
      return decay(t - s.warmup_steps, s.warmup_target);
    }
    case 'piecewise_constant_decay': {
      // values[i] for boundaries[i-1] < step <= boundaries[i]; values[0] up to and including boundaries[0].
      const i = s.boundaries.findIndex((b) => step <= b);
      return s.values[i < 0 ? s.values.length - 1 : i]!;
    }
  }
}

/** The schedule's rate before the first step (what the CLI prints as the learning rate). */
export function initialRate(s: LearningRateSchedule): number {
  return scheduleRate(s, 0);
}
