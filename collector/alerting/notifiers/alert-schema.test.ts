import { describe, expect, it } from 'vitest';
import { alertRecordErrors } from '../../../test/helpers/schemas.js';
import { firingAlert, pendingAlert, resolvedAlert, resolvedFromPendingAlert } from './test-support.js';

describe('tributary.alert.v1 JSON Schema', () => {
  it('accepts a record in every state', () => {
    for (const record of [
      pendingAlert(),
      firingAlert(),
      resolvedAlert(),
      resolvedFromPendingAlert(),
      firingAlert({ value: null, previous_state: 'inactive' }),
    ]) {
      expect(alertRecordErrors(record)).toBeUndefined();
    }
  });

  it('rejects broken records, naming the failing path', () => {
    const { fired_at: _fired, ...withoutFiredAt } = firingAlert();
    const broken: Array<[unknown, string]> = [
      [{ ...firingAlert(), extra: 1 }, 'additionalProperties'],
      [{ ...firingAlert(), state: 'inactive' }, '/state'],
      [{ ...firingAlert(), id: 'XYZ' }, '/id'],
      [{ ...firingAlert(), labels: { severity: 'critical' } }, "must have required property 'alertname'"],
      [{ ...firingAlert(), labels: { alertname: 'A', count: 3 } }, '/labels/count'],
      [{ ...firingAlert(), changed_at: 'yesterday' }, '/changed_at'],
      [withoutFiredAt, "must have required property 'fired_at'"],
      [{ ...resolvedAlert(), resolved_at: undefined }, "must have required property 'resolved_at'"],
      [{ ...pendingAlert(), fired_at: '2026-11-23T12:00:00.000Z' }, '"not"'],
      [{ ...resolvedFromPendingAlert(), fired_at: '2026-11-23T12:00:00.000Z' }, '"not"'],
    ];
    for (const [record, expected] of broken) {
      // JSON round trip, as a consumer reads it (undefined fields vanish).
      expect(alertRecordErrors(JSON.parse(JSON.stringify(record)))).toContain(expected);
    }
  });
});
