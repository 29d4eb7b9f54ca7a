import { describe, expect, it } from 'vitest';
import { StepTimings } from './step-status.js';

describe('step timings on the status page', () => {
  it('keep per partition the step count, messages, the last duration and the slowest of the last 100', () => {
    const timings = new StepTimings();
    timings.record('raw', 1, 10, 0.5);
    for (let step = 0; step < 150; step++) timings.record('raw', 0, 2, step === 20 ? 9 : step === 120 ? 3 : 0.1);
    const [contribution] = timings.statusRows();
    expect(contribution?.rows.map(({ last_step_at: _at, ...row }) => row)).toEqual([
      // The 9 s step (the 21st) has left the window of the last 100; the 3 s one (the 121st) is in it.
      { topic: 'raw', partition: 0, steps: 150, messages: 300, last_duration_seconds: 0.1, slowest_recent_seconds: 3 },
      { topic: 'raw', partition: 1, steps: 1, messages: 10, last_duration_seconds: 0.5, slowest_recent_seconds: 0.5 },
    ]);
  });
});
